/* A VT-d unit's life (see vtd.h): bring-up, the root, context and PASID
 * tables, translation on/off, shutdown, and the run's list of units.  It
 * drives the invalidation queue (qi.c), the fault log (fault.c) and the
 * takeover (vtd_takeover.c); none of them calls back here. */
#include "iommu/vtd.h"

#include "iommu/vtd_alias.h"
#include "iommu/vtd_regs.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/printf.h"

struct vtd_unit *vtd_units[VTD_MAX_UNITS];
unsigned vtd_nunits;

/* ---- root and context tables (spec 9.1-9.4) ------------------------------ */

static void *alloc_table(struct vtd_unit *u)
{
    void *p = u->ops->alloc_pages(u->ops->ctx, 1);
    if (!p)
        ktap_diag("vtd: unit=%d out of memory for a translation table", u->index);
    return p;
}

static uint64_t phys(const struct vtd_unit *u, const volatile void *p)
{
    return u->ops->virt_to_phys(u->ops->ctx, (const void *)p);
}

/* Root entry for bus: legacy uses qword 0 (P, CTP); scalable uses qword 0
 * for devfn 0-127 (LP, LCTP) and qword 1 for devfn 128-255 (UP, UCTP). */
static void *context_table(struct vtd_unit *u, uint8_t bus, unsigned half, bool alloc)
{
    if (u->ctx_table[bus][half] || !alloc)
        return u->ctx_table[bus][half];
    void *t = alloc_table(u);
    if (!t)
        return NULL;
    vtd_flush(u, t, 4096);
    u->ctx_table[bus][half] = t;
    volatile uint64_t *re = (volatile uint64_t *)&u->root[bus * 2 + half];
    *re = phys(u, t) | VTD_ROOT_P;
    vtd_flush(u, re, 8);
    /* A root entry going present needs no invalidation unless caching
     * mode lets the unit cache not-present entries (spec 6.1). */
    if (u->caps.cm) {
        vtd_inv_context(u, VTD_CC_GLOBAL, 0, 0, 0);
        vtd_inv_wait(u);
    } else {
        vtd_write_buffer_flush(u);
    }
    return t;
}

volatile struct legacy_context_entry *vtd_legacy_context(struct vtd_unit *u, uint16_t sid,
                                                         bool alloc)
{
    if (u->mode != VTD_MODE_LEGACY)
        return NULL;
    struct legacy_context_entry *t = context_table(u, sid >> 8, 0, alloc);
    return t ? &t[sid & 0xff] : NULL;
}

volatile struct sm_context_entry *vtd_sm_context(struct vtd_unit *u, uint16_t sid, bool alloc)
{
    if (u->mode != VTD_MODE_SCALABLE)
        return NULL;
    unsigned devfn = sid & 0xff;
    struct sm_context_entry *t = context_table(u, sid >> 8, devfn >> 7, alloc);
    return t ? &t[devfn & 0x7f] : NULL;
}

uint32_t vtd_max_pasid(const struct vtd_unit *u)
{
    if (!u->caps.pasid)
        return 0; /* only RID_PASID 0 */
    unsigned bits = u->caps.pss + 1;
    return bits >= 20 ? 0xfffff : (1u << bits) - 1;
}

/* Directory entries needed for every PASID up to the maximum, as PDTS:
 * the directory holds 2^(PDTS + 7) entries (spec 9.4). */
static uint8_t pdts_for(const struct vtd_unit *u)
{
    uint32_t dir_entries = (vtd_max_pasid(u) >> 6) + 1;
    uint8_t pdts = 0;
    while ((1u << (pdts + 7)) < dir_entries && pdts < 7)
        pdts++;
    return pdts;
}

static uint64_t *pasid_dir(struct vtd_unit *u, uint16_t sid)
{
    volatile struct sm_context_entry *ce = vtd_sm_context(u, sid, false);
    if (!ce || !(ce->q[0] & SM_CTX_P))
        return NULL;
    return u->ops->phys_to_virt(u->ops->ctx, ce->q[0] & SM_CTX_PASIDDIRPTR);
}

uint32_t vtd_rid_pasid(struct vtd_unit *u, uint16_t sid)
{
    volatile struct sm_context_entry *ce = vtd_sm_context(u, sid, false);
    return ce ? (uint32_t)(ce->q[1] & SM_CTX_RID_PASID_MASK) : 0;
}

/* ---- the DMA aliases of an attached device (iommu/vtd_alias.h) ---------- */

/* Point each alias of the attached sid at sid's PASID directory (one PASID
 * entry then serves both source-ids), and make sid the alias's owner. */
static int attach_aliases(struct vtd_unit *u, uint16_t sid)
{
    uint16_t al[VTD_ALIAS_MAX_PER_SID];
    unsigned n = vtd_aliases_of(u, sid, al, VTD_ALIAS_MAX_PER_SID);
    volatile struct sm_context_entry *own = vtd_sm_context(u, sid, false);
    if (!n)
        return 0;
    if (!own || !(own->q[0] & SM_CTX_P))
        return -1;
    /* The alias shares the PASID directory and RID_PASID; requests under
     * it come from behind a bridge, so no device-TLB and no page requests. */
    uint64_t want[2]
        __attribute__((aligned(16))) = {own->q[0] & ~(SM_CTX_DTE | SM_CTX_PRE), own->q[1]};
    int rc = 0;
    for (unsigned i = 0; i < n; i++) {
        volatile struct sm_context_entry *ce = vtd_sm_context(u, al[i], true);
        bool same = ce && (ce->q[0] & SM_CTX_P) && ce->q[0] == want[0] && ce->q[1] == want[1];
        /* Another device behind the same bridge may hold it: its PASID
         * entries' domains are not known here, so invalidate them all. */
        if (!same &&
            (!ce || vtd_sm_context_clear(u, al[i], -1) || vtd_sm_context_store(u, al[i], want))) {
            rc = -1;
            continue;
        }
        vtd_alias_set_owner(u, sid, al[i]);
    }
    return rc;
}

/* Detach the aliases sid owns: they are not present afterwards. */
static int detach_aliases(struct vtd_unit *u, uint16_t sid, uint16_t did)
{
    int rc = 0;
    for (unsigned i = 0; i < u->naliases; i++) {
        struct vtd_alias *a = &u->aliases[i];
        if (a->sid != sid || !a->owner)
            continue;
        if (vtd_sm_context_clear(u, a->alias, did))
            rc = -1;
        a->owner = false;
    }
    return rc;
}

int vtd_attach_scalable(struct vtd_unit *u, uint16_t sid, uint32_t rid_pasid)
{
    return vtd_attach_scalable_dte(u, sid, rid_pasid, false);
}

static int attach_one(struct vtd_unit *u, uint16_t sid, uint32_t rid_pasid, bool dte)
{
    char b[8];
    volatile struct sm_context_entry *ce = vtd_sm_context(u, sid, true);
    if (!ce)
        return -1;
    if (ce->q[0] & SM_CTX_P)
        return 0;
    if (rid_pasid && !u->caps.rps) {
        ktap_diag("vtd: unit=%d RID_PASID %u needs ECAP.RPS; using 0", u->index, rid_pasid);
        rid_pasid = 0;
    }
    uint8_t pdts = pdts_for(u);
    unsigned dir_pages = ((1u << (pdts + 7)) * 8 + 4095) / 4096;
    uint64_t *dir = u->ops->alloc_pages(u->ops->ctx, dir_pages);
    if (!dir) {
        ktap_diag("vtd: unit=%d out of memory for the PASID directory of %s", u->index,
                  vtd_sid_str(sid, b));
        return -1;
    }
    vtd_flush(u, dir, dir_pages * 4096);
    struct sm_context_entry e;
    struct sm_context_cfg c = {
        .pasid_dir = phys(u, dir),
        .pdts = pdts,
        .rid_pasid = rid_pasid,
        .paside = u->caps.pasid,
        .dte = dte && u->caps.dt,
    };
    sm_context_build(&e, &c);
    return vtd_sm_context_store(u, sid, e.q);
}

int vtd_sm_context_store(struct vtd_unit *u, uint16_t sid, const uint64_t *q)
{
    volatile struct sm_context_entry *ce = vtd_sm_context(u, sid, true);
    if (!ce)
        return -1;
    /* Not present -> present: write the reserved upper half first, then
     * the chunk holding P in one 16-byte store. */
    ce->q[2] = 0;
    ce->q[3] = 0;
    if (u->ops->store128) {
        u->ops->store128(u->ops->ctx, (volatile uint64_t *)&ce->q[0], q);
    } else {
        ce->q[1] = q[1];
        ce->q[0] = q[0];
    }
    vtd_flush(u, ce, sizeof(*ce));
    if (u->caps.cm) {
        /* Caching mode: the not-present entry may be cached (with DID 0). */
        vtd_inv_context(u, VTD_CC_DEVICE, 0, sid, 0);
        vtd_inv_pasid_cache(u, VTD_PC_DOMAIN, 0, 0);
        vtd_inv_iotlb(u, VTD_IOTLB_DOMAIN, 0, 0, 0, false);
        return vtd_inv_wait(u);
    }
    return vtd_write_buffer_flush(u) ? 0 : -1;
}

int vtd_attach_scalable_dte(struct vtd_unit *u, uint16_t sid, uint32_t rid_pasid, bool dte)
{
    int r = attach_one(u, sid, rid_pasid, dte);
    return r ? r : attach_aliases(u, sid);
}

int vtd_sm_context_clear(struct vtd_unit *u, uint16_t sid, int did)
{
    volatile struct sm_context_entry *ce = vtd_sm_context(u, sid, false);
    if (!ce || !(ce->q[0] & SM_CTX_P))
        return 0;
    static const uint64_t zero[2] __attribute__((aligned(16)));
    vtd_lock(u);
    /* Present -> not present: the chunk holding P goes first, in one
     * 16-byte store, so the unit never sees a half-cleared entry. */
    if (u->ops->store128) {
        u->ops->store128(u->ops->ctx, (volatile uint64_t *)&ce->q[0], zero);
    } else {
        ce->q[0] = 0;
        ce->q[1] = 0;
    }
    ce->q[2] = 0;
    ce->q[3] = 0;
    vtd_flush(u, ce, sizeof(*ce));
    /* Spec 6.5.3.3, context entry change in scalable mode: context cache
     * (device), then the PASID cache and IOTLB of the domain its PASID
     * entries used (all of them when that is not known). */
    vtd_inv_context(u, VTD_CC_DEVICE, did < 0 ? 0 : (uint16_t)did, sid, 0);
    if (did < 0) {
        vtd_inv_pasid_cache(u, VTD_PC_GLOBAL, 0, 0);
        vtd_inv_iotlb(u, VTD_IOTLB_GLOBAL, 0, 0, 0, false);
    } else {
        vtd_inv_pasid_cache(u, VTD_PC_DOMAIN, (uint16_t)did, 0);
        vtd_inv_iotlb(u, VTD_IOTLB_DOMAIN, (uint16_t)did, 0, 0, false);
    }
    int r = vtd_inv_wait(u);
    vtd_unlock(u);
    return r;
}

int vtd_detach_scalable(struct vtd_unit *u, uint16_t sid, uint16_t did)
{
    int r = detach_aliases(u, sid, did);
    return vtd_sm_context_clear(u, sid, did) || r ? -1 : 0;
}

volatile struct pasid_entry *vtd_pasid_entry(struct vtd_unit *u, uint16_t sid, uint32_t pasid,
                                             bool alloc)
{
    if (pasid > vtd_max_pasid(u))
        return NULL;
    uint64_t *dir = pasid_dir(u, sid);
    if (!dir)
        return NULL;
    volatile uint64_t *de = &dir[pasid >> 6];
    if (!(*de & VTD_PDIR_P)) {
        if (!alloc)
            return NULL;
        void *table = alloc_table(u);
        if (!table)
            return NULL;
        vtd_flush(u, table, 4096);
        *de = phys(u, table) | VTD_PDIR_P;
        vtd_flush(u, de, 8);
        /* A directory entry going present: like a root entry, nothing can be
         * cached for it unless caching mode is on. */
        if (u->caps.cm) {
            vtd_inv_pasid_cache(u, VTD_PC_GLOBAL, 0, 0);
            vtd_inv_wait(u);
        }
    }
    struct pasid_entry *t = u->ops->phys_to_virt(u->ops->ctx, *de & VTD_PDIR_PTP_MASK);
    return &t[pasid & 63];
}

/* ---- translation on/off, take-over, shutdown ------------------------------ */

void vtd_hold_te(struct vtd_unit *u, bool fixed, const char *why)
{
    ksnprintf(u->te_hold, sizeof(u->te_hold), "%s", why && why[0] ? why : "held");
    u->te_hold_fixed = u->te_hold_fixed || fixed;
}

bool vtd_release_te(struct vtd_unit *u)
{
    if (u->te_hold_fixed)
        return false;
    u->te_hold[0] = 0;
    return true;
}

/* A held unit's TE is not ours to change: say why nothing happens. */
static bool te_held(struct vtd_unit *u, bool on)
{
    if (!u->te_hold[0])
        return false;
    ktap_diag("vtd: unit=%d translation not switched %s: %s", u->index, on ? "on" : "off",
              u->te_hold);
    return true;
}

void (*vtd_before_translation)(const struct vtd_unit *u);

bool vtd_enable_translation(struct vtd_unit *u)
{
    if (te_held(u, true))
        return false;
    if (vtd_before_translation)
        vtd_before_translation(u);
    if (!vtd_write_buffer_flush(u))
        return false;
    if (!vtd_gcmd_enable(u, VTD_GCMD_TE, true))
        return false;
    /* Protected memory regions need no attention here: vtd_takeover
     * turned them off at bring-up and nothing turns them on again. */
    u->translating = true;
    return true;
}

bool vtd_disable_translation(struct vtd_unit *u)
{
    if (te_held(u, false))
        return false;
    bool ok = vtd_gcmd_enable(u, VTD_GCMD_TE, false);
    if (ok)
        u->translating = false;
    return ok;
}

void vtd_shutdown(struct vtd_unit *u)
{
    if (!u || !u->up)
        return;
    vtd_fault_scan(u);
    if (!u->te_hold[0] && (vtd_read32(u, VTD_REG_GSTS) & VTD_GCMD_TE))
        vtd_disable_translation(u);
    vtd_qi_disable(u);
    vtd_fault_mask(u);
    u->up = false;
}

void vtd_shutdown_all(void)
{
    for (unsigned i = 0; i < vtd_nunits; i++) {
        struct vtd_unit *u = vtd_units[i];
        if (!u->up)
            continue;
        vtd_shutdown(u);
        /* Said, because a lab reading a bailed-out log must know whether
         * the machine was left with translation on. */
        bool te = vtd_read32(u, VTD_REG_GSTS) & VTD_GCMD_TE;
        if (u->te_hold[0])
            ktap_diag("vtd: unit=%d left alone: translation %s as found, never switched (the "
                      "reason was said at bring-up); queue off, fault interrupt masked",
                      u->index, te ? "on" : "off");
        else
            ktap_diag("vtd: unit=%d left safe: translation %s, queue off, fault interrupt masked",
                      u->index, te ? "STILL ON" : "off");
    }
    vtd_fault_summary(false);
}

/* ---- the fault log over the run's units (iommu/fault.h) ------------------- */

void vtd_fault_poll(void)
{
    vtd_fault_poll_units(vtd_units, vtd_nunits);
}

void vtd_fault_get_totals(struct vtd_fault_totals *t)
{
    vtd_fault_totals_of(vtd_units, vtd_nunits, t);
}

void vtd_fault_summary(bool always)
{
    vtd_fault_summary_of(vtd_units, vtd_nunits, always);
}

int vtd_unit_init(struct vtd_unit *u, int index, uint64_t base, uint16_t segment,
                  const struct vtd_ops *ops, enum vtd_mode_request want, struct why *why)
{
    memset(u, 0, sizeof(*u));
    u->index = index;
    u->base = base;
    u->segment = segment;
    u->ops = ops;
    why_clear(why);
    if (vtd_nunits >= VTD_MAX_UNITS) {
        why_set(why, "more than %d units", VTD_MAX_UNITS);
        return -1;
    }
    u->ver = vtd_read32(u, VTD_REG_VER);
    u->cap = vtd_read64(u, VTD_REG_CAP);
    u->ecap = vtd_read64(u, VTD_REG_ECAP);
    if (u->cap == ~0ULL || (!u->cap && !u->ecap)) {
        why_set(why, "unit %d at %#llx reads CAP=%#llx: no registers there", index,
                (unsigned long long)base, (unsigned long long)u->cap);
        return -1;
    }
    vtd_caps_decode(u->cap, u->ecap, &u->caps);
    if (vtd_plan_unit(u->ver, u->cap, u->ecap, want, &u->plan)) {
        why_set(why, "unit %d at %#llx: %s", index, (unsigned long long)base, u->plan.reason);
        return -1;
    }
    u->mode = u->plan.mode;
    /* Whatever the firmware left running stops before anything of ours is
     * programmed: RTADDR's mode must not change under translation. */
    if (vtd_takeover(u, why))
        return -1;

    u->root = alloc_table(u);
    if (!u->root) {
        why_set(why, "out of memory for the root table");
        return -1;
    }
    vtd_flush(u, u->root, 4096);
    uint64_t ttm = u->mode == VTD_MODE_SCALABLE ? VTD_RTADDR_TTM_SCALABLE : VTD_RTADDR_TTM_LEGACY;
    vtd_write64(u, VTD_REG_RTADDR, phys(u, u->root) | ttm);
    if (!vtd_gcmd_oneshot(u, VTD_GCMD_SRTP)) {
        why_set(why, "unit %d: root table pointer not latched (GSTS.RTPS)", index);
        return -1;
    }
    if (vtd_qi_init(u)) {
        why_set(why, "unit %d: invalidation queue did not start", index);
        return -1;
    }
    if (u->mode == VTD_MODE_SCALABLE && !u->qi.enabled) {
        why_set(why, "unit %d: scalable mode without queued invalidation", index);
        return -1;
    }
    /* After SRTP the unit may still hold the old root's translations
     * (spec 6.5: global context-cache then global IOTLB invalidation). */
    if (vtd_inv_all(u)) {
        why_set(why, "unit %d: global invalidation failed", index);
        return -1;
    }
    /* Off after vtd_takeover, unless the unit had to keep it on. */
    u->translating = vtd_read32(u, VTD_REG_GSTS) & VTD_GCMD_TE;
    u->up = true;
    vtd_units[vtd_nunits++] = u;
    return 0;
}
