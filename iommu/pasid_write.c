/* vtd_pasid_write / vtd_context_write: entry_sync with VT-d syncs. */
#include "iommu/pasid_write.h"

#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "iommu/vtd_alias.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/printf.h"

#define ATS_SLOTS 16
static struct {
    int unit;
    struct vtd_devtlb_target t;
} ats_devices[ATS_SLOTS];
static unsigned ats_count;

bool vtd_set_ats(struct vtd_unit *u, const struct vtd_devtlb_target *t, bool enabled)
{
    for (unsigned i = 0; i < ats_count; i++) {
        if (ats_devices[i].unit == u->index && ats_devices[i].t.sid == t->sid) {
            if (enabled)
                ats_devices[i].t = *t;
            else
                ats_devices[i] = ats_devices[--ats_count];
            return true;
        }
    }
    if (!enabled)
        return true;
    if (ats_count == ATS_SLOTS) {
        /* Unlisted, its device-TLB would never be invalidated: say so and
         * let the caller keep ATS off. */
        char b[8];
        ktap_diag("vtd: unit=%d %s: already %u devices with ATS on, the most vtdsync tracks; "
                  "ATS must stay off for it",
                  u->index, vtd_sid_str(t->sid, b), ATS_SLOTS);
        return false;
    }
    ats_devices[ats_count].unit = u->index;
    ats_devices[ats_count++].t = *t;
    return true;
}

static const struct vtd_devtlb_target *ats_target(const struct vtd_unit *u, uint16_t sid)
{
    for (unsigned i = 0; i < ats_count; i++)
        if (ats_devices[i].unit == u->index && ats_devices[i].t.sid == sid)
            return &ats_devices[i].t;
    return NULL;
}

struct sync_ctx {
    struct vtd_unit *u;
    uint16_t sid;
    uint32_t pasid;
    bool with_pasid; /* a PASID entry other than RID_PASID */
    volatile uint64_t *entry;
    unsigned entry_bytes;
    int rc;
    unsigned descriptors;
};

static void count(struct sync_ctx *c, int rc)
{
    c->descriptors++;
    if (rc)
        c->rc = rc;
}

static void trace_line(void *ctx, const char *line)
{
    (void)ctx;
    if (line[0] == '#' && line[1] == ' ')
        line += 2; /* ktap_diag adds its own "# " at the right indent */
    ktap_diag("%s", line);
}

static void store_chunk(void *ctx, volatile uint64_t *entry, unsigned index, const uint64_t *value)
{
    struct sync_ctx *c = ctx;
    c->u->ops->store128(c->u->ops->ctx, entry + 2 * index, value);
}

/* ---- PASID entry sync --------------------------------------------------------- */

/* p->cached and p->now are entry_sync's own qword arrays, without the
 * 64-byte alignment struct pasid_entry promises: read through a copy. */
static uint64_t entry_field(const uint64_t *q, struct pasid_field f)
{
    struct pasid_entry e;
    memcpy(e.q, q, sizeof(e.q));
    return pasid_entry_get(&e, f);
}

static uint16_t entry_did(const uint64_t *q)
{
    return (uint16_t)entry_field(q, PASID_DID);
}

static unsigned entry_pgtt(const uint64_t *q)
{
    return (unsigned)entry_field(q, PASID_PGTT);
}

/* IOTLB entries derived from a PASID entry: PASID-tagged for first stage
 * and pass-through, tagged by domain for second stage and nested (spec
 * 6.5.3.3, table "guidance to software for invalidations"). */
static void invalidate_iotlb_for(struct sync_ctx *c, uint16_t did, unsigned pgtt)
{
    if (pgtt == PASID_PGTT_FS || pgtt == PASID_PGTT_PT)
        count(c, vtd_inv_piotlb(c->u, VTD_PIOTLB_PASID, did, c->pasid, 0, 0, false));
    else
        count(c, vtd_inv_iotlb(c->u, VTD_IOTLB_DOMAIN, did, 0, 0, false));
}

/* The device's ATS translation cache (device-TLB), where ATS is on: it
 * holds what the device fetched through the old entry.  Translations
 * fetched by requests without PASID (legacy mode, and the RID_PASID
 * entry in scalable mode) carry no PASID in the device and are reached by
 * the device-TLB descriptor; those of any other PASID only by the
 * PASID-based one naming it (6.5.2.5, 6.5.2.6).  All of the address
 * space, since a sync does not know which addresses the device cached. */
static void invalidate_devtlb(struct sync_ctx *c)
{
    const struct vtd_devtlb_target *t = ats_target(c->u, c->sid);
    if (!t)
        return;
    /* With translation off (GSTS.TES=0) the unit treats the device's
     * invalidation completions as unsupported requests, so the
     * invalidation could only time out (ITE); the spec (4.3) asks software
     * not to submit one then. */
    if (!(vtd_read32(c->u, VTD_REG_GSTS) & VTD_GCMD_TE))
        return;
    if (c->with_pasid)
        count(c, vtd_inv_pasid_devtlb(c->u, t, c->pasid, 0, VTD_DEVTLB_ALL));
    else
        count(c, vtd_inv_devtlb(c->u, t, 0, VTD_DEVTLB_ALL));
}

/* FPD, bit 1 of the PASID entry (9.6) and of both context entries (9.3,
 * 9.4): the one field a non-present entry still has. */
#define ENTRY_FPD LEGACY_CTX_FPD
_Static_assert(LEGACY_CTX_FPD == SM_CTX_FPD && LEGACY_CTX_FPD == 2, "FPD is bit 1");

/* Common start of every sync: publish the entry (ECAP.C = 0), and decide
 * whether anything can be cached at all.  Returns true when the caller
 * must still invalidate: the entry was present, or caching mode lets the
 * unit cache a non-present one (6.1) and the entry became present or its
 * FPD, which counts without P, changed; otherwise a write-buffer flush is
 * all a non-present -> present change needs. */
static bool sync_needed(struct sync_ctx *c, const struct entry_sync_point *p)
{
    vtd_flush(c->u, c->entry, c->entry_bytes);
    if (p->cached_present)
        return true;
    if (!c->u->caps.cm) {
        if (!vtd_write_buffer_flush(c->u))
            c->rc = -1;
        return false;
    }
    return p->now_present || ((p->cached[0] ^ p->now[0]) & ENTRY_FPD);
}

/* window_us=: keep a breaking update's non-present window open after the
 * sync that published it, so sparse traffic still runs into it. */
static void hold_window(struct vtd_unit *u, const struct entry_sync_point *p)
{
    if (!vtd_options.window_us || !p->cached_present || p->now_present)
        return;
    const struct vtd_ops *o = u->ops;
    uint64_t end = o->now_us(o->ctx) + vtd_options.window_us;
    while (o->now_us(o->ctx) < end)
        o->relax(o->ctx);
}

static void pasid_sync(void *ctx, const struct entry_sync_point *p)
{
    struct sync_ctx *c = ctx;
    struct vtd_unit *u = c->u;
    if (!sync_needed(c, p))
        return;
    if (!p->cached_present) {
        /* Caching mode: the non-present entry may be cached. */
        uint16_t did = entry_did(p->now);
        count(c, vtd_inv_pasid_cache(u, VTD_PC_PASID, did, c->pasid));
        invalidate_iotlb_for(c, did, entry_pgtt(p->now));
        count(c, vtd_inv_wait(u));
        return;
    }
    uint16_t did = entry_did(p->cached);
    unsigned pgtt = entry_pgtt(p->cached);
    count(c, vtd_inv_pasid_cache(u, VTD_PC_PASID, did, c->pasid));
    invalidate_iotlb_for(c, did, pgtt);
    invalidate_devtlb(c);
    bool left_pt =
        pgtt == PASID_PGTT_PT && (!p->now_present || entry_pgtt(p->now) != PASID_PGTT_PT);
    if (left_pt && vtd_options.pt_ctx_flush) {
        uint16_t al[VTD_ALIAS_MAX_PER_SID];
        unsigned n = vtd_aliases_of(u, c->sid, al, VTD_ALIAS_MAX_PER_SID);
        count(c, vtd_inv_context(u, VTD_CC_DEVICE, 0, c->sid, 0));
        for (unsigned i = 0; i < n; i++) /* the fast path is kept per source-id */
            count(c, vtd_inv_context(u, VTD_CC_DEVICE, 0, al[i], 0));
    }
    count(c, vtd_inv_wait(u));
    hold_window(u, p);
}

/* One entry_sync update with our store and sync, timed. */
static struct vtd_write_result run_update(struct sync_ctx *c, const struct entry_format *fmt,
                                          void (*sync)(void *, const struct entry_sync_point *),
                                          const uint64_t *target, enum entry_sync_strategy strategy)
{
    struct entry_sync_ops ops = {
        .ctx = c,
        .write_chunk = store_chunk,
        .sync = sync,
        .trace = trace_line,
        .tracing = vtd_options.trace,
        .reader_rereads = vtd_options.pasid_reread,
    };
    const struct vtd_ops *o = c->u->ops;
    struct vtd_write_result r;
    memset(&r, 0, sizeof(r));
    vtd_lock(c->u);
    uint64_t t0 = o->cycles(o->ctx);
    r.es = entry_sync_write(fmt, &ops, c->entry, target, strategy);
    r.cycles = o->cycles(o->ctx) - t0;
    vtd_unlock(c->u);
    r.syncs = r.es.syncs;
    r.descriptors = c->descriptors;
    r.ok = c->rc == 0;
    if (!r.ok)
        why_set(&r.why, "an invalidation failed (see the lines above)");
    return r;
}

static struct vtd_write_result refuse(const char *reason)
{
    struct vtd_write_result r;
    memset(&r, 0, sizeof(r));
    why_set(&r.why, "%s", reason);
    return r;
}

struct vtd_write_result vtd_pasid_write(struct vtd_unit *u, uint16_t sid, uint32_t pasid,
                                        const struct pasid_entry *target,
                                        enum entry_sync_strategy strategy)
{
    if (!u->ops->store128)
        return refuse("CMPXCHG16B missing (CPUID.01H:ECX.CX16=0): PASID entries cannot be "
                      "updated atomically");
    if (u->mode != VTD_MODE_SCALABLE)
        return refuse("unit is in legacy mode: no PASID entries");
    volatile struct pasid_entry *e = vtd_pasid_entry(u, sid, pasid, true);
    if (!e)
        return refuse(pasid > vtd_max_pasid(u) ? "PASID beyond ECAP.PSS"
                                               : "device not attached or out of memory");
    struct sync_ctx c = {.u = u,
                         .sid = sid,
                         .pasid = pasid,
                         .with_pasid = pasid != vtd_rid_pasid(u, sid),
                         .entry = e->q,
                         .entry_bytes = sizeof(*e)};
    return run_update(&c, &pasid_entry_format, pasid_sync, target->q, strategy);
}

/* ---- legacy context entry sync ------------------------------------------------ */

static uint16_t ctx_did(const uint64_t *q)
{
    return (uint16_t)((q[1] & LEGACY_CTX_DID_MASK) >> LEGACY_CTX_DID_SHIFT);
}

static void context_sync(void *ctx, const struct entry_sync_point *p)
{
    struct sync_ctx *c = ctx;
    struct vtd_unit *u = c->u;
    if (!sync_needed(c, p))
        return;
    if (!p->cached_present) {
        /* Caching mode tags cached not-present entries with DID 0 (6.2.2). */
        count(c, vtd_inv_context(u, VTD_CC_DEVICE, 0, c->sid, 0));
        count(c, vtd_inv_iotlb(u, VTD_IOTLB_DOMAIN, ctx_did(p->now), 0, 0, false));
        count(c, vtd_inv_wait(u));
        return;
    }
    uint16_t did = ctx_did(p->cached);
    count(c, vtd_inv_context(u, VTD_CC_DEVICE, did, c->sid, 0));
    count(c, vtd_inv_iotlb(u, VTD_IOTLB_DOMAIN, did, 0, 0, false));
    invalidate_devtlb(c);
    count(c, vtd_inv_wait(u));
    hold_window(u, p);
}

static struct vtd_write_result context_write_one(struct vtd_unit *u, uint16_t sid,
                                                 const struct legacy_context_entry *target,
                                                 enum entry_sync_strategy strategy)
{
    if (!u->ops->store128)
        return refuse("CMPXCHG16B missing (CPUID.01H:ECX.CX16=0): context entries cannot be "
                      "updated atomically");
    volatile struct legacy_context_entry *e = vtd_legacy_context(u, sid, true);
    if (!e)
        return refuse("unit not in legacy mode or out of memory");
    struct sync_ctx c = {.u = u, .sid = sid, .entry = e->q, .entry_bytes = sizeof(*e)};
    return run_update(&c, &legacy_context_format, context_sync, target->q, strategy);
}

/* The device's own entry, then the same entry for each of its DMA aliases
 * (vtd_alias.h), each an entry_sync update with its own syncs: the result
 * adds them up. */
struct vtd_write_result vtd_context_write(struct vtd_unit *u, uint16_t sid,
                                          const struct legacy_context_entry *target,
                                          enum entry_sync_strategy strategy)
{
    struct vtd_write_result r = context_write_one(u, sid, target, strategy);
    uint16_t al[VTD_ALIAS_MAX_PER_SID];
    unsigned n = r.ok ? vtd_aliases_of(u, sid, al, VTD_ALIAS_MAX_PER_SID) : 0;
    for (unsigned i = 0; i < n; i++) {
        struct vtd_write_result a = context_write_one(u, al[i], target, strategy);
        if (a.ok)
            vtd_alias_set_owner(u, sid, al[i]);
        else if (r.ok)
            r.why = a.why;
        r.ok = r.ok && a.ok;
        r.syncs += a.syncs;
        r.descriptors += a.descriptors;
        r.cycles += a.cycles;
    }
    return r;
}
