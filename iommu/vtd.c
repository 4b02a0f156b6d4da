/* The bottom layer of the VT-d engine: register access, bounded waits,
 * the GCMD/GSTS protocol, cache flushes of the tables, capabilities and
 * the unit plan.  It calls nothing of the invalidation queue (qi.c), the
 * fault log (fault.c) or a unit's life (vtd_unit.c): they all build on it. */
#include "iommu/vtd.h"

#include "iommu/vtd_regs.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/printf.h"

struct vtd_options vtd_options;

/* ---- register access ------------------------------------------------------ */

uint32_t vtd_read32(const struct vtd_unit *u, unsigned off)
{
    return u->ops->read32(u->ops->ctx, u->base + off);
}

uint64_t vtd_read64(const struct vtd_unit *u, unsigned off)
{
    return u->ops->read64(u->ops->ctx, u->base + off);
}

void vtd_write32(const struct vtd_unit *u, unsigned off, uint32_t v)
{
    u->ops->write32(u->ops->ctx, u->base + off, v);
}

void vtd_write64(const struct vtd_unit *u, unsigned off, uint64_t v)
{
    u->ops->write64(u->ops->ctx, u->base + off, v);
}

static void report_timeout(struct vtd_unit *u, uint64_t us, const char *what)
{
    ktap_diag("timeout after %llu us waiting for unit=%d %s", (unsigned long long)us, u->index,
              what);
}

void vtd_wait_begin(const struct vtd_unit *u, const char *what)
{
    if (u->ops->wait_begin)
        u->ops->wait_begin(u->ops->ctx, u->index, what);
}

static bool wait_reg(struct vtd_unit *u, unsigned off, bool wide, uint64_t mask, uint64_t want,
                     const char *what)
{
    const struct vtd_ops *o = u->ops;
    vtd_wait_begin(u, what);
    uint64_t start = o->now_us(o->ctx);
    for (;;) {
        uint64_t v = wide ? vtd_read64(u, off) : vtd_read32(u, off);
        if ((v & mask) == want)
            return true;
        uint64_t waited = o->now_us(o->ctx) - start;
        if (waited >= VTD_REG_TIMEOUT_US) {
            v = wide ? vtd_read64(u, off) : vtd_read32(u, off); /* one last look */
            if ((v & mask) == want)
                return true;
            report_timeout(u, waited, what);
            return false;
        }
        o->relax(o->ctx);
    }
}

bool vtd_wait64(struct vtd_unit *u, unsigned off, uint64_t mask, uint64_t want, const char *what)
{
    return wait_reg(u, off, true, mask, want, what);
}

bool vtd_wait32(struct vtd_unit *u, unsigned off, uint32_t mask, uint32_t want, const char *what)
{
    return wait_reg(u, off, false, mask, want, what);
}

/* Write the CPU's cache lines of [p, p+len) back to memory (CLFLUSH). */
static void write_back(const struct vtd_unit *u, const volatile void *p, size_t len)
{
    if (u->ops->flush)
        u->ops->flush(u->ops->ctx, (const void *)p, len);
}

void vtd_flush(const struct vtd_unit *u, const volatile void *p, size_t len)
{
    if (!u->caps.c)
        write_back(u, p, len);
}

bool vtd_paging_snooped(const struct vtd_unit *u)
{
    /* Legacy mode: ECAP.C covers the second-stage tables too.  Scalable
     * mode: paging structures reached through a PASID entry are snooped
     * only when ECAP.SMPWC is set and the entry asks with PWSNP, which
     * vtd_pasid_snoop sets whenever SMPWC is (spec 9.6, 11.4.3).  So a
     * unit with C = 1 but SMPWC = 0 still needs its page tables flushed. */
    return u->mode == VTD_MODE_SCALABLE ? u->caps.smpwc : u->caps.c;
}

void vtd_flush_paging(const struct vtd_unit *u, const volatile void *p, size_t len)
{
    if (!vtd_paging_snooped(u))
        write_back(u, p, len);
}

void vtd_pasid_snoop(const struct vtd_unit *u, struct pasid_entry_cfg *c)
{
    /* PWSNP is reserved where ECAP.SMPWC = 0.  PGSNP forces snooping of
     * the DMA itself (spec 3.9): vtdsync checks DMA data with the CPU, so
     * it wants it, but only where ECAP.SC says the unit can snoop on
     * demand; elsewhere the bit is left 0 rather than risk a reserved-bit
     * fault. */
    c->pwsnp = u->caps.smpwc;
    c->pgsnp = u->caps.sc;
}

/* ---- GCMD / GSTS (spec 11.4.4, 11.4.5, 10.4.4) ------------------------------ */

static const char *gcmd_status_name(uint32_t bit)
{
    switch (bit) {
    case VTD_GCMD_TE:
        return "GSTS.TES";
    case VTD_GCMD_SRTP:
        return "GSTS.RTPS";
    case VTD_GCMD_SFL:
        return "GSTS.FLS";
    case VTD_GCMD_EAFL:
        return "GSTS.AFLS";
    case VTD_GCMD_WBF:
        return "GSTS.WBFS";
    case VTD_GCMD_QIE:
        return "GSTS.QIES";
    case VTD_GCMD_IRE:
        return "GSTS.IRES";
    case VTD_GCMD_SIRTP:
        return "GSTS.IRTPS";
    case VTD_GCMD_CFI:
        return "GSTS.CFIS";
    default:
        return "GSTS.?";
    }
}

/* GCMD cannot be read back: the spec's recipe is to take GSTS, keep only
 * the bits that mirror persistent enables, and change the one bit. */
static uint32_t gcmd_base(struct vtd_unit *u)
{
    return vtd_read32(u, VTD_REG_GSTS) & (uint32_t)VTD_GSTS_PERSISTENT;
}

bool vtd_gcmd_enable(struct vtd_unit *u, uint32_t bit, bool on)
{
    char what[48];
    uint32_t cmd = gcmd_base(u);
    cmd = on ? (cmd | bit) : (cmd & ~bit);
    vtd_write32(u, VTD_REG_GCMD, cmd);
    ksnprintf(what, sizeof(what), "%s=%d", gcmd_status_name(bit), on);
    return vtd_wait32(u, VTD_REG_GSTS, bit, on ? bit : 0, what);
}

bool vtd_gcmd_oneshot(struct vtd_unit *u, uint32_t bit)
{
    char what[48];
    vtd_write32(u, VTD_REG_GCMD, gcmd_base(u) | bit);
    /* WBFS is set while the flush runs and clears when it is done; the
     * others (RTPS, FLS, IRTPS) are set once the pointer is latched. */
    bool done_is_clear = bit == VTD_GCMD_WBF;
    ksnprintf(what, sizeof(what), "%s=%d", gcmd_status_name(bit), !done_is_clear);
    return vtd_wait32(u, VTD_REG_GSTS, bit, done_is_clear ? 0 : bit, what);
}

bool vtd_write_buffer_flush(struct vtd_unit *u)
{
    if (!u->caps.rwbf)
        return true;
    return vtd_gcmd_oneshot(u, VTD_GCMD_WBF);
}

/* ---- capabilities ----------------------------------------------------------- */

void vtd_caps_decode(uint64_t cap, uint64_t ecap, struct vtd_caps *o)
{
    memset(o, 0, sizeof(*o));
    o->nd = VTD_CAP_ND(cap);
    o->afl = cap & VTD_CAP_AFL;
    o->rwbf = cap & VTD_CAP_RWBF;
    o->plmr = cap & VTD_CAP_PLMR;
    o->phmr = cap & VTD_CAP_PHMR;
    o->cm = cap & VTD_CAP_CM;
    o->sagaw = VTD_CAP_SAGAW(cap);
    o->mgaw = VTD_CAP_MGAW(cap);
    o->zlr = cap & VTD_CAP_ZLR;
    o->fro = VTD_CAP_FRO(cap);
    o->sllps = VTD_CAP_SLLPS(cap);
    o->psi = cap & VTD_CAP_PSI;
    o->nfr = VTD_CAP_NFR(cap) + 1;
    o->mamv = VTD_CAP_MAMV(cap);
    o->dwd = cap & VTD_CAP_DWD;
    o->drd = cap & VTD_CAP_DRD;
    o->fs1gp = cap & VTD_CAP_FS1GP;
    o->pi = cap & VTD_CAP_PI;
    o->fs5lp = cap & VTD_CAP_FS5LP;

    o->c = ecap & VTD_ECAP_C;
    o->qi = ecap & VTD_ECAP_QI;
    o->dt = ecap & VTD_ECAP_DT;
    o->ir = ecap & VTD_ECAP_IR;
    o->eim = ecap & VTD_ECAP_EIM;
    o->pt = ecap & VTD_ECAP_PT;
    o->sc = ecap & VTD_ECAP_SC;
    o->iro = VTD_ECAP_IRO(ecap);
    o->nest = ecap & VTD_ECAP_NEST;
    o->prs = ecap & VTD_ECAP_PRS;
    o->ers = ecap & VTD_ECAP_ERS;
    o->srs = ecap & VTD_ECAP_SRS;
    o->pss = VTD_ECAP_PSS(ecap);
    o->pasid = ecap & VTD_ECAP_PASID;
    o->pds = ecap & VTD_ECAP_PDS;
    o->smts = ecap & VTD_ECAP_SMTS;
    o->slads = ecap & VTD_ECAP_SLADS;
    o->slts = ecap & VTD_ECAP_SLTS;
    o->flts = ecap & VTD_ECAP_FLTS;
    o->rps = ecap & VTD_ECAP_RPS;
    o->smpwc = ecap & VTD_ECAP_SMPWCS;
}

int vtd_caps_format(const struct vtd_unit *u, char *buf, size_t len)
{
    const struct vtd_caps *c = &u->caps;
    char sagaw[24] = "";
    size_t n = 0;
    static const char *const widths[] = {"30", "39", "48", "57", "64"};
    for (unsigned i = 0; i < 5; i++)
        if (c->sagaw & (1u << i))
            n += ksnprintf(sagaw + n, sizeof(sagaw) - n, "%s%s", n ? "," : "", widths[i]);
    if (!n)
        ksnprintf(sagaw, sizeof(sagaw), "none");
    return ksnprintf(
        buf, len,
        "unit=%d base=%#llx ver=%u.%u cap=%#llx ecap=%#llx mode=%s mgaw=%u sagaw=%s "
        "domains=%u nfr=%u fro=%#x iro=%#x sllps=%#x mamv=%u pss=%u "
        "C=%d QI=%d DT=%d IR=%d PT=%d SC=%d CM=%d RWBF=%d PSI=%d NEST=%d PASID=%d SMTS=%d "
        "SLTS=%d FLTS=%d RPS=%d FS1GP=%d FS5LP=%d PLMR=%d PHMR=%d levels=%u fs_levels=%u "
        "iova_bits=%u",
        u->index, (unsigned long long)u->base, (u->ver >> 4) & 0xf, u->ver & 0xf,
        (unsigned long long)u->cap, (unsigned long long)u->ecap,
        u->mode == VTD_MODE_SCALABLE ? "scalable" : "legacy", c->mgaw, sagaw, 1u << (4 + 2 * c->nd),
        c->nfr, c->fro * 16, c->iro * 16, c->sllps, c->mamv, c->pss, c->c, c->qi, c->dt, c->ir,
        c->pt, c->sc, c->cm, c->rwbf, c->psi, c->nest, c->pasid, c->smts, c->slts, c->flts, c->rps,
        c->fs1gp, c->fs5lp, c->plmr, c->phmr, u->plan.ss_levels, u->plan.fs_levels,
        u->plan.iova_bits);
}

unsigned vtd_ss_levels(const struct vtd_unit *u)
{
    return u->plan.ss_levels;
}

uint8_t vtd_unit_aw(const struct vtd_unit *u)
{
    return vtd_plan_aw(&u->plan);
}

uint64_t vtd_iova_limit(const struct vtd_unit *u)
{
    return 1ULL << u->plan.iova_bits;
}

uint8_t vtd_aw_for_levels(unsigned levels)
{
    return (uint8_t)(levels - 2); /* 3 levels: 1 (39-bit), 4: 2, 5: 3 */
}

/* ---- unit planning: one decision from VER/CAP/ECAP (pure; also built into
 * the host tool tools/vtdsync-plan) ------------------------------------------ */

/* Input address width of a second-stage table of `levels` levels
 * (spec 3.7: 12 + 9 bits per level, AGAW 39/48/57). */
static unsigned ss_width(unsigned levels)
{
    return 12 + 9 * levels;
}

unsigned vtd_plan_ss_depth(uint8_t sagaw, unsigned need_bits)
{
    /* SAGAW bit (levels - 2) offers a table of that depth (spec 11.4.2):
     * bit 1 = 3 levels, bit 2 = 4, bit 3 = 5.  Bits 0 and 4 are reserved.
     * The smallest offered depth that covers the range walks the fewest
     * levels; when none covers it, the largest offered one comes closest. */
    unsigned largest = 0;
    for (unsigned levels = 3; levels <= 5; levels++) {
        if (!(sagaw & (1u << (levels - 2))))
            continue;
        if (ss_width(levels) >= need_bits)
            return levels;
        largest = levels;
    }
    return largest;
}

static unsigned min_u(unsigned a, unsigned b)
{
    return a < b ? a : b;
}

/* The existing mode rules: scalable mode needs SMTS, queued invalidation
 * (the only way to invalidate PASID caches, spec 6.5.2) and a translation
 * type; legacy mode walks second-stage tables only. */
static int plan_mode(const struct vtd_caps *c, enum vtd_mode_request want,
                     struct vtd_unit_plan *out)
{
    bool sm_ok = c->smts && c->qi && (c->slts || c->flts || c->pt);
    if (want == VTD_WANT_SCALABLE && !sm_ok) {
        ksnprintf(out->reason, sizeof(out->reason),
                  "scalable mode requested but the unit lacks it (ECAP.SMTS=%d QI=%d)", c->smts,
                  c->qi);
        return -1;
    }
    if (want == VTD_WANT_LEGACY && c->smts && !c->slts && c->flts) {
        /* A unit whose only table format is first stage cannot translate
         * in legacy mode. */
        ksnprintf(out->reason, sizeof(out->reason),
                  "legacy mode requested but the unit has no second-level tables");
        return -1;
    }
    out->mode = (want == VTD_WANT_LEGACY || !sm_ok) ? VTD_MODE_LEGACY : VTD_MODE_SCALABLE;
    return 0;
}

int vtd_plan_unit(uint32_t ver, uint64_t cap, uint64_t ecap, enum vtd_mode_request want,
                  struct vtd_unit_plan *out)
{
    (void)ver; /* every rule below reads CAP/ECAP; VER only names the unit */
    memset(out, 0, sizeof(*out));
    if (cap == ~0ULL || (!cap && !ecap)) {
        ksnprintf(out->reason, sizeof(out->reason), "reads CAP=%#llx: no registers there",
                  (unsigned long long)cap);
        return -1;
    }
    struct vtd_caps c;
    vtd_caps_decode(cap, ecap, &c);
    if (plan_mode(&c, want, out))
        return -1;

    /* The IOVA range vtdsync needs: its IOVAs are the physical addresses of
     * its buffers (identity), and it reaches memory only through 4-level
     * identity CPU paging, i.e. below 2^47.  Requests above 2^MGAW are
     * blocked whatever the tables say (spec 11.4.2 MGAW). */
    unsigned need = min_u(VTD_IOVA_NEED_BITS, c.mgaw);
    out->ss_levels = vtd_plan_ss_depth(c.sagaw, need);
    if (out->mode == VTD_MODE_LEGACY && !out->ss_levels) {
        ksnprintf(out->reason, sizeof(out->reason), "no supported AGAW (CAP.SAGAW=%#x)", c.sagaw);
        return -1;
    }
    /* First stage (scalable mode, ECAP.FLTS): 4-level paging is always
     * there and its canonical lower half (2^47) covers the need, so the
     * optional 5-level paging (CAP.FS5LP) is never required. */
    if (out->mode == VTD_MODE_SCALABLE && c.flts)
        out->fs_levels = 4;
    out->iova_bits = need;
    if (out->ss_levels)
        out->iova_bits = min_u(out->iova_bits, ss_width(out->ss_levels));
    if (out->fs_levels)
        out->iova_bits = min_u(out->iova_bits, out->fs_levels == 5 ? 56 : 47);
    out->usable = true;
    return 0;
}

bool vtd_plan_has_ss(const struct vtd_unit_plan *p, uint64_t ecap)
{
    if (!p->usable || !p->ss_levels)
        return false;
    /* Scalable mode walks second-stage tables only with ECAP.SLTS. */
    return p->mode == VTD_MODE_LEGACY || (ecap & VTD_ECAP_SLTS);
}

uint8_t vtd_plan_aw(const struct vtd_unit_plan *p)
{
    /* The AW field of legacy context entries and of every PASID entry
     * names the second-stage depth (spec 9.3, 9.6: a value SAGAW offers).
     * A unit without one (first stage only) gets the width its
     * first-stage paging translates. */
    if (p->ss_levels)
        return vtd_aw_for_levels(p->ss_levels);
    return vtd_aw_for_levels(p->fs_levels ? p->fs_levels : 4);
}

uint16_t vtd_alloc_did(struct vtd_unit *u)
{
    /* DID 0 is reserved when CAP.CM is set (it tags not-present entries,
     * spec 6.2.2); start at 1 everywhere so one numbering serves both. */
    if (!u->next_did)
        u->next_did = 1;
    uint32_t max = 1u << (4 + 2 * u->caps.nd);
    if (u->next_did >= max)
        u->next_did = 1;
    return u->next_did++;
}

const char *vtd_sid_str(uint16_t sid, char *buf)
{
    ksnprintf(buf, 8, "%02x:%02x.%x", sid >> 8, (sid >> 3) & 0x1f, sid & 7);
    return buf;
}
