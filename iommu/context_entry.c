/* Scalable-mode and legacy context entries: builders and used() rules.
 * Section numbers refer to the Intel VT-d Architecture Specification. */
#include "iommu/context_entry.h"

#include "lib/kstring.h"

/* The window of a breaking or clear update (entry_format.window) of either
 * context entry: non-present, FPD set when the old or the new entry sets
 * it, for the reasons pasid_entry.c gives for the PASID entry.  FPD is bit
 * 1 in both formats; `out` arrives zeroed. */
_Static_assert(SM_CTX_FPD == LEGACY_CTX_FPD, "FPD is bit 1 of both context entries");

static void context_window_qwords(const uint64_t *cur, const uint64_t *tgt, uint64_t *out)
{
    out[0] = (cur[0] | tgt[0]) & SM_CTX_FPD;
}

/* ---- scalable mode --------------------------------------------------------- */

void sm_context_build_blocked(struct sm_context_entry *e)
{
    memset(e, 0, sizeof(*e));
}

void sm_context_build(struct sm_context_entry *e, const struct sm_context_cfg *c)
{
    memset(e, 0, sizeof(*e));
    e->q[0] = SM_CTX_P | (c->pasid_dir & SM_CTX_PASIDDIRPTR) |
              (((uint64_t)c->pdts << SM_CTX_PDTS_SHIFT) & SM_CTX_PDTS_MASK);
    e->q[0] |= (c->fpd ? SM_CTX_FPD : 0) | (c->dte ? SM_CTX_DTE : 0) |
               (c->paside ? SM_CTX_PASIDE : 0) | (c->pre ? SM_CTX_PRE : 0);
    e->q[1] = (c->rid_pasid & SM_CTX_RID_PASID_MASK) | (c->rid_priv ? SM_CTX_RID_PRIV : 0);
}

/* On bare qwords so entry_sync can call it on its own copies. */
static void sm_context_used_qwords(const uint64_t *e, uint64_t *used)
{
    memset(used, 0, 4 * sizeof(uint64_t));
    /* 9.4: with P clear the IOMMU ignores every other field but FPD, which
     * it evaluates whatever P says. */
    used[0] = SM_CTX_P | SM_CTX_FPD;
    if (!(e[0] & SM_CTX_P))
        return;
    /* 9.4: every defined field applies to every request of the device:
     * FPD (fault reporting, 7.1), DTE/PASIDE/PRE (request types allowed),
     * PDTS and PASIDDIRPTR (the PASID directory walk), RID_PASID and
     * RID_PRIV (requests without PASID).  Bits 255:128 are reserved. */
    used[0] |= SM_CTX_FPD | SM_CTX_DTE | SM_CTX_PASIDE | SM_CTX_PRE | SM_CTX_PDTS_MASK |
               SM_CTX_PASIDDIRPTR;
    used[1] = SM_CTX_RID_PASID_MASK | SM_CTX_RID_PRIV;
}

void sm_context_used(const struct sm_context_entry *e, struct sm_context_entry *used)
{
    sm_context_used_qwords(e->q, used->q);
}

const struct entry_format sm_context_format = {
    .name = "sm-context",
    .nr_chunks = 2,
    .chunk_qwords = 2,
    .present_qword = 0,
    .present_mask = SM_CTX_P,
    .used = sm_context_used_qwords,
    .window = context_window_qwords,
};

/* ---- legacy mode ------------------------------------------------------------ */

void legacy_context_build_blocked(struct legacy_context_entry *e)
{
    memset(e, 0, sizeof(*e));
}

void legacy_context_build(struct legacy_context_entry *e, const struct legacy_context_cfg *c)
{
    e->q[0] = LEGACY_CTX_P | (c->fpd ? LEGACY_CTX_FPD : 0) |
              (((uint64_t)c->tt << LEGACY_CTX_TT_SHIFT) & LEGACY_CTX_TT_MASK);
    /* 9.3: SLPTPTR is ignored for pass-through; keep it zero there. */
    if (c->tt != LEGACY_TT_PASS_THROUGH)
        e->q[0] |= c->slptptr & LEGACY_CTX_SLPTPTR;
    e->q[1] = (c->aw & LEGACY_CTX_AW_MASK) |
              (((uint64_t)c->did << LEGACY_CTX_DID_SHIFT) & LEGACY_CTX_DID_MASK);
}

/* On bare qwords so entry_sync can call it on its own copies. */
static void legacy_context_used_qwords(const uint64_t *e, uint64_t *used)
{
    uint64_t tt = (e[0] & LEGACY_CTX_TT_MASK) >> LEGACY_CTX_TT_SHIFT;

    /* 9.3: with P clear the IOMMU ignores every other field but FPD, which
     * it evaluates whatever P says. */
    used[0] = LEGACY_CTX_P | LEGACY_CTX_FPD;
    used[1] = 0;
    if (!(e[0] & LEGACY_CTX_P))
        return;
    /* 9.3: FPD (7.1), TT, AW and DID apply to every translation type. */
    used[0] |= LEGACY_CTX_FPD | LEGACY_CTX_TT_MASK;
    used[1] = LEGACY_CTX_AW_MASK | LEGACY_CTX_DID_MASK;
    /* 9.3 SLPTPTR: walked for TT 00b/01b, ignored for pass-through (10b). */
    if (tt != LEGACY_TT_PASS_THROUGH)
        used[0] |= LEGACY_CTX_SLPTPTR;
}

void legacy_context_used(const struct legacy_context_entry *e, struct legacy_context_entry *used)
{
    legacy_context_used_qwords(e->q, used->q);
}

const struct entry_format legacy_context_format = {
    .name = "legacy-context",
    .nr_chunks = 1,
    .chunk_qwords = 2,
    .present_qword = 0,
    .present_mask = LEGACY_CTX_P,
    .used = legacy_context_used_qwords,
    .window = context_window_qwords,
};
