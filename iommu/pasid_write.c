/* vtd_pasid_write / vtd_context_write: entry_sync with VT-d syncs. */
#include "iommu/pasid_write.h"

#include "iommu/vtd.h"
#include "iommu/vtd_alias.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/printf.h"

#define ATS_SLOTS 16
static struct {
    int unit;
    uint16_t sid;
} ats_devices[ATS_SLOTS];
static unsigned ats_count;

void vtd_set_ats(struct vtd_unit *u, uint16_t sid, bool enabled)
{
    for (unsigned i = 0; i < ats_count; i++) {
        if (ats_devices[i].unit == u->index && ats_devices[i].sid == sid) {
            if (!enabled)
                ats_devices[i] = ats_devices[--ats_count];
            return;
        }
    }
    if (enabled && ats_count < ATS_SLOTS) {
        ats_devices[ats_count].unit = u->index;
        ats_devices[ats_count++].sid = sid;
    }
}

static bool has_ats(const struct vtd_unit *u, uint16_t sid)
{
    for (unsigned i = 0; i < ats_count; i++)
        if (ats_devices[i].unit == u->index && ats_devices[i].sid == sid)
            return true;
    return false;
}

struct sync_ctx {
    struct vtd_unit *u;
    uint16_t sid;
    uint32_t pasid;
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
#if VTDSYNC_MUTANT == 4 /* make mutants: the IOTLB keeps the old translation */
    return;
#endif
    if (pgtt == PASID_PGTT_FS || pgtt == PASID_PGTT_PT)
        count(c, vtd_inv_piotlb(c->u, VTD_PIOTLB_PASID, did, c->pasid, 0, 0, false));
    else
        count(c, vtd_inv_iotlb(c->u, VTD_IOTLB_DOMAIN, did, 0, 0, false));
}

/* Common start of every sync: publish the entry (ECAP.C = 0), and decide
 * whether anything can be cached at all.  Returns true when the caller
 * must still invalidate: the entry was present, or caching mode lets the
 * unit cache a non-present one (6.1); otherwise a write-buffer flush is all
 * a non-present -> present change needs. */
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
    return p->now_present;
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
#if VTDSYNC_MUTANT == 5 /* make mutants: invalidate the new DID, not the cached one */
    did = entry_did(p->now);
#endif
    unsigned pgtt = entry_pgtt(p->cached);
    count(c, vtd_inv_pasid_cache(u, VTD_PC_PASID, did, c->pasid));
    invalidate_iotlb_for(c, did, pgtt);
    if (has_ats(u, c->sid))
        count(c, vtd_inv_devtlb(u, c->sid, 0, 0, 52)); /* whole address space */
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
        r.error = "an invalidation failed (see the lines above)";
    return r;
}

static struct vtd_write_result refuse(const char *why)
{
    struct vtd_write_result r;
    memset(&r, 0, sizeof(r));
    r.error = why;
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
    struct sync_ctx c = {
        .u = u, .sid = sid, .pasid = pasid, .entry = e->q, .entry_bytes = sizeof(*e)};
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
#if VTDSYNC_MUTANT == 5 /* make mutants: invalidate the new DID, not the cached one */
    did = ctx_did(p->now);
#endif
    count(c, vtd_inv_context(u, VTD_CC_DEVICE, did, c->sid, 0));
#if VTDSYNC_MUTANT != 4 /* make mutants: no IOTLB invalidation */
    count(c, vtd_inv_iotlb(u, VTD_IOTLB_DOMAIN, did, 0, 0, false));
#endif
    if (has_ats(u, c->sid))
        count(c, vtd_inv_devtlb(u, c->sid, 0, 0, 52));
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
            r.error = a.error;
        r.ok = r.ok && a.ok;
        r.syncs += a.syncs;
        r.descriptors += a.descriptors;
        r.cycles += a.cycles;
    }
    return r;
}
