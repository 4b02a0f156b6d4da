/* Scalable-mode PASID table entry: builders and used() rules.
 *
 * Section numbers refer to the Intel VT-d Architecture Specification
 * (rev. 3.x/4.x numbering): 9.6 "Scalable-Mode PASID Table Entry" defines
 * every field; chapter 3 says which translation type walks what; chapter 7
 * covers fault processing. */
#include "iommu/pasid_entry.h"

#include "lib/kstring.h"

static uint64_t field_get(const uint64_t *q, struct pasid_field f)
{
    return (q[f.qword] & f.mask) >> f.shift;
}

uint64_t pasid_entry_get(const struct pasid_entry *e, struct pasid_field f)
{
    return field_get(e->q, f);
}

void pasid_entry_set(struct pasid_entry *e, struct pasid_field f, uint64_t value)
{
    e->q[f.qword] = (e->q[f.qword] & ~f.mask) | ((value << f.shift) & f.mask);
}

/* Mark every bit of field f in a used-mask. */
static void mark(uint64_t *used, struct pasid_field f)
{
    used[f.qword] |= f.mask;
}

bool pasid_entry_present(const struct pasid_entry *e)
{
    return pasid_entry_get(e, PASID_P) != 0;
}

enum pasid_pgtt pasid_entry_pgtt(const struct pasid_entry *e)
{
    return (enum pasid_pgtt)pasid_entry_get(e, PASID_PGTT);
}

const char *pasid_entry_mode_name(const struct pasid_entry *e)
{
    if (!pasid_entry_present(e))
        return "blocked";
    switch (pasid_entry_pgtt(e)) {
    case PASID_PGTT_FS:
        return "FS";
    case PASID_PGTT_SS:
        return "SS";
    case PASID_PGTT_NESTED:
        return "nested";
    case PASID_PGTT_PT:
        return "PT";
    }
    return "PGTT?";
}

/* ---- builders ------------------------------------------------------------ */

void pasid_entry_build_blocked(struct pasid_entry *e)
{
    memset(e, 0, sizeof(*e));
}

/* Fields every present entry carries, whatever its translation type. */
static void build_common(struct pasid_entry *e, enum pasid_pgtt pgtt,
                         const struct pasid_entry_cfg *c)
{
    memset(e, 0, sizeof(*e));
    pasid_entry_set(e, PASID_P, 1);
    pasid_entry_set(e, PASID_FPD, c->fpd);
    pasid_entry_set(e, PASID_AW, c->aw);
    pasid_entry_set(e, PASID_PGTT, pgtt);
    pasid_entry_set(e, PASID_DID, c->did);
    pasid_entry_set(e, PASID_PWSNP, c->pwsnp);
    pasid_entry_set(e, PASID_PGSNP, c->pgsnp);
}

static void set_second_stage(struct pasid_entry *e, const struct pasid_entry_cfg *c)
{
    pasid_entry_set(e, PASID_SSPTPTR, c->ss_root);
    pasid_entry_set(e, PASID_SSADE, c->ssade);
}

static void set_first_stage(struct pasid_entry *e, const struct pasid_entry_cfg *c)
{
    pasid_entry_set(e, PASID_FSPTPTR, c->fs_root);
    pasid_entry_set(e, PASID_FSPM, c->fs_5level ? PASID_FSPM_5LEVEL : PASID_FSPM_4LEVEL);
    pasid_entry_set(e, PASID_SRE, c->sre);
    pasid_entry_set(e, PASID_WPE, c->wpe);
    pasid_entry_set(e, PASID_EAFE, c->eafe);
}

void pasid_entry_build_pt(struct pasid_entry *e, const struct pasid_entry_cfg *c)
{
    build_common(e, PASID_PGTT_PT, c);
}

void pasid_entry_build_ss(struct pasid_entry *e, const struct pasid_entry_cfg *c)
{
    build_common(e, PASID_PGTT_SS, c);
    set_second_stage(e, c);
}

void pasid_entry_build_fs(struct pasid_entry *e, const struct pasid_entry_cfg *c)
{
    build_common(e, PASID_PGTT_FS, c);
    set_first_stage(e, c);
}

void pasid_entry_build_nested(struct pasid_entry *e, const struct pasid_entry_cfg *c)
{
    build_common(e, PASID_PGTT_NESTED, c);
    set_second_stage(e, c);
    set_first_stage(e, c);
}

/* ---- used() --------------------------------------------------------------
 *
 * Over-reporting a field can only make an update less hitless (one more
 * critical chunk); under-reporting one the IOMMU does read lets it see a
 * mixed entry.  So where the spec leaves doubt we count the field.  Two
 * departures from the Linux series, both free: FPD, SRE, WPE and EAFE sit
 * in chunks a first-stage entry uses anyway, PGSNP sits in chunk 0 which
 * every present entry uses, so no classification changes. */

/* Every present entry, any PGTT. */
static void used_common(uint64_t *u)
{
    mark(u, PASID_P);     /* 9.6 P: the entry is valid at all */
    mark(u, PASID_PGTT);  /* 9.6 PGTT: selects which other fields apply */
    mark(u, PASID_DID);   /* 9.6 DID: tags the IOTLB / PASID cache (6.2) */
    mark(u, PASID_FPD);   /* 9.6 FPD, 7.1: fault reporting for every request
                           * through the entry; the series omits it for FS,
                           * but a FS entry with FPD set suppresses faults */
    mark(u, PASID_AW);    /* 9.6 AW: checked for every PGTT that is present */
    mark(u, PASID_PWSNP); /* 9.6 PWSNP: snoop of the entry's table walks */
    mark(u, PASID_PGSNP); /* 9.6 PGSNP, 3.9 snoop behaviour: forces snoop on
                           * every request translated through the entry; the
                           * series counts it only with a first stage, we
                           * count it for SS and PT too (ECAP.SC hardware
                           * honours it whatever the PGTT) */
}

/* 3.7 second-stage translation: walked for PGTT SS and nested. */
static void used_second_stage(uint64_t *u)
{
    mark(u, PASID_SSPTPTR); /* 9.6 SSPTPTR: second-stage root */
    mark(u, PASID_SSADE);   /* 9.6 SSADE: A/D updates during that walk */
}

/* 3.6 first-stage translation: walked for PGTT FS and nested.  The series
 * leaves SRE, WPE and EAFE out for FS; the spec applies them to every
 * first-stage walk, so they are used here. */
static void used_first_stage(uint64_t *u)
{
    mark(u, PASID_FSPTPTR); /* 9.6 FSPTPTR: first-stage root */
    mark(u, PASID_FSPM);    /* 9.6 FSPM: 4- or 5-level walk */
    mark(u, PASID_SRE);     /* 9.6 SRE, 3.6: supervisor requests allowed */
    mark(u, PASID_WPE);     /* 9.6 WPE, 3.6: supervisor write protect */
    mark(u, PASID_EAFE);    /* 9.6 EAFE, 3.6: extended accessed flag */
}

/* On bare qwords so entry_sync can call it on its own copies. */
static void pasid_used_qwords(const uint64_t *e, uint64_t *used)
{
    memset(used, 0, PASID_ENTRY_QWORDS * sizeof(uint64_t));
    mark(used, PASID_P);
    /* 9.6: when P is 0 the IOMMU ignores every other field but FPD, which
     * it evaluates whatever P says: a non-present entry with FPD set blocks
     * its requests without reporting them (Linux tears entries down that
     * way).  Both sit in chunk 0, as entry_format.used requires. */
    mark(used, PASID_FPD);
    if (!field_get(e, PASID_P))
        return;
    used_common(used);
    switch (field_get(e, PASID_PGTT)) {
    case PASID_PGTT_FS:
        used_first_stage(used);
        break;
    case PASID_PGTT_SS:
        used_second_stage(used);
        break;
    case PASID_PGTT_NESTED: /* 3.8: both stages are walked */
        used_first_stage(used);
        used_second_stage(used);
        break;
    case PASID_PGTT_PT: /* 9.6 PGTT 100b: no table is walked */
        break;
    default:
        /* Reserved PGTT: the IOMMU faults on it whatever else is set.
         * Treat every bit as used so any change to it is breaking. */
        memset(used, 0xff, PASID_ENTRY_QWORDS * sizeof(uint64_t));
        break;
    }
}

void pasid_entry_used(const struct pasid_entry *e, struct pasid_entry *used)
{
    pasid_used_qwords(e->q, used->q);
}

/* The window of a breaking update (entry_format.window): non-present, and
 * FPD set when the old or the new entry has it.  While the window is up
 * every request faults "PASID entry not present", a qualified fault that
 * neither entry would give; FPD decides whether it is reported.  Setting
 * it when either side suppresses means a reported window fault is always
 * one both entries would have reported, and a unit told to keep quiet on
 * either side of the switch is never made to speak by the switch itself.
 * When neither sets FPD the window reports, as clear-then-update always
 * did: those faults are what the breaking path costs. */
static void pasid_window_qwords(const uint64_t *cur, const uint64_t *tgt, uint64_t *out)
{
    out[PASID_FPD.qword] = (cur[PASID_FPD.qword] | tgt[PASID_FPD.qword]) & PASID_FPD.mask;
}

const struct entry_format pasid_entry_format = {
    .name = "pasid",
    .nr_chunks = 4,
    .chunk_qwords = 2,
    .present_qword = 0,
    .present_mask = 1,
    .used = pasid_used_qwords,
    .window = pasid_window_qwords,
};

const struct entry_format pasid_entry_format_64 = {
    .name = "pasid64",
    .nr_chunks = 8,
    .chunk_qwords = 1,
    .present_qword = 0,
    .present_mask = 1,
    .used = pasid_used_qwords,
    .window = pasid_window_qwords,
};

struct entry_sync_result pasid_entry_write(volatile struct pasid_entry *e,
                                           const struct pasid_entry *target,
                                           const struct entry_sync_ops *ops,
                                           enum entry_sync_strategy strategy)
{
    return entry_sync_write(&pasid_entry_format, ops, e->q, target->q, strategy);
}
