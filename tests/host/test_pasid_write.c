// HOST-DEPS: lib/printf.c lib/ktap.c iommu/vtd.c iommu/vtd_unit.c iommu/vtd_takeover.c iommu/qi.c iommu/fault.c iommu/context_entry.c iommu/pasid_entry.c iommu/entry_sync.c iommu/pasid_write.c tests/host/vtd_fake.c iommu/vtd_alias.c lib/why.c
/* The invalidations behind vtd_pasid_write / vtd_context_write
 * (iommu/pasid_write.c), descriptor by descriptor, on the fake register
 * file (tests/host/vtd_fake.c), with both strategies:
 *
 * - a sync after a present entry changed names the DID, PASID and
 *   translation type of the entry as it was cached, never the new one:
 *   PASID-cache (PASID-selective within domain), then PASID-based IOTLB
 *   for first stage and pass-through or domain-selective IOTLB for second
 *   stage and nested, then a wait;
 * - blocked -> present costs nothing (a write-buffer flush if CAP.RWBF),
 *   unless CAP.CM: then PASID-cache and IOTLB with the new DID; with CM a
 *   change of FPD in a non-present entry invalidates too (FPD counts
 *   without P);
 * - quirk pt_ctx_flush adds a device-selective context-cache invalidation
 *   when an entry leaves pass-through;
 * - every sync that invalidates ends with its wait, so the waits count the
 *   syncs in which something could be cached;
 * - legacy context entries: context-cache (device), domain IOTLB of the old
 *   DID, wait.
 *
 * Sync boundaries come from entry_sync's own trace lines ("... sync N
 * (...)"), the entry at each sync from the chunk stores (a spy in front of
 * the fake's store128), the descriptors from the fake's log.  Descriptors
 * are decoded here by the spec's layout (6.5.2), not with qi.c's macros,
 * so an encoding slip there shows up too. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "iommu/pasid_write.h"
#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "lib/printf.h"
#include "tests/host/check.h"
#include "tests/host/vtd_fake.h"

CHECK_STATE_DEFINE;

#define SID 0x18               /* 00:03.0 */
#define PASID 0x2a5            /* not RID_PASID, and wide enough to catch a short field */
#define DID_A 0x0a3            /* the entry before the update */
#define DID_B 0x15c            /* the target */
#define ECAP_PSS9 (9ULL << 35) /* 10-bit PASIDs: PASID fits */
#define ECAP_DIT (1ULL << 41)  /* device-TLB invalidation throttling */
#define PF_SID 0x0011          /* SID as an SR-IOV VF of 00:02.1 (VF offset 7) */
#define QDEP 7                 /* its ATS Invalidate Queue Depth */

/* The PASID entry the PASID tests update: PASID, or RID_PASID (0) for the
 * entry that requests without PASID use. */
static uint32_t pasid = PASID;
/* The context entry's RID_PASID: 0, or another PASID where ECAP.RPS. */
static uint32_t rid_pasid;
/* ATS on for SID with these device-TLB fields, or NULL: ATS off. */
static const struct vtd_devtlb_target *ats;

/* ---- descriptors as the spec lays them out (6.5.2) ------------------------ */

enum { T_CC = 0x1, T_IOTLB = 0x2, T_DEVTLB = 0x3, T_WAIT = 0x5, T_PIOTLB = 0x6, T_PC = 0x7,
       T_PDEVTLB = 0x8 };
/* Granularities (bits 5:4): context-cache device-selective, IOTLB
 * domain-selective, PASID-cache PASID-selective within domain, PASID-based
 * IOTLB all of one PASID within domain. */
enum { G_CC_DEVICE = 3, G_IOTLB_DOMAIN = 2, G_PC_PASID = 1, G_PIOTLB_PASID = 2 };

struct desc {
    unsigned type, g;
    uint16_t did, sid;
    uint32_t pasid;
    bool any_did; /* expectation only: the DID is not checked */
    /* device-TLB descriptors: PFSID, MIP, address field and S */
    uint16_t pfsid;
    unsigned mip;
    uint64_t addr;
    bool s;
};

/* The device-TLB descriptors' own layouts (6.5.2.5 type 3, 6.5.2.6 type
 * 8): PFSID[3:0] in 15:12 and PFSID[15:4] in 63:52 in both; MIP in 20:16
 * and SID in 47:32 for type 3, MIP in 8:4, SID in 31:16 and PASID in
 * 51:32 for type 8; in qword 1 the address in 63:12 and S in bit 0 (type
 * 3) or bit 11 (type 8, whose bit 0 is G). */
static void decode_devtlb(const uint64_t *d, struct desc *x)
{
    bool pasid_based = x->type == T_PDEVTLB;
    x->g = pasid_based ? (unsigned)(d[1] & 1) : 0;
    x->did = 0;
    x->pfsid = (uint16_t)(((d[0] >> 12) & 0xf) | ((d[0] >> 52) << 4));
    x->mip = (unsigned)((d[0] >> (pasid_based ? 4 : 16)) & 0x1f);
    x->sid = (uint16_t)(d[0] >> (pasid_based ? 16 : 32));
    x->pasid = pasid_based ? (uint32_t)((d[0] >> 32) & 0xfffff) : 0;
    x->addr = d[1] & ~0xfffULL;
    x->s = (d[1] >> (pasid_based ? 11 : 0)) & 1;
}

static struct desc decode(const uint64_t *d)
{
    struct desc x = {
        .type = (unsigned)((d[0] & 0xf) | ((d[0] >> 5) & 0x70)), /* 3:0 and 11:9 */
        .g = (unsigned)((d[0] >> 4) & 3),
        .did = (uint16_t)(d[0] >> 16), /* 31:16 */
    };
    if (x.type == T_CC)
        x.sid = (uint16_t)(d[0] >> 32); /* 47:32 */
    if (x.type == T_PC || x.type == T_PIOTLB)
        x.pasid = (uint32_t)((d[0] >> 32) & 0xfffff); /* 51:32 */
    if (x.type == T_DEVTLB || x.type == T_PDEVTLB)
        decode_devtlb(d, &x);
    return x;
}

static const char *type_name(unsigned t)
{
    switch (t) {
    case T_CC:
        return "context-cache";
    case T_IOTLB:
        return "iotlb";
    case T_WAIT:
        return "wait";
    case T_PIOTLB:
        return "pasid-iotlb";
    case T_PC:
        return "pasid-cache";
    case T_DEVTLB:
        return "device-tlb";
    case T_PDEVTLB:
        return "pasid-device-tlb";
    default:
        return "other";
    }
}

static const char *desc_str(const struct desc *d, char *buf, size_t len)
{
    if (d->type == T_WAIT)
        snprintf(buf, len, "wait");
    else if (d->type == T_DEVTLB || d->type == T_PDEVTLB)
        snprintf(buf, len, "%s sid=%#x pasid=%#x pfsid=%#x mip=%u g=%u addr=%#llx s=%d",
                 type_name(d->type), d->sid, d->pasid, d->pfsid, d->mip, d->g,
                 (unsigned long long)d->addr, d->s);
    else
        snprintf(buf, len, "%s g=%u did=%#x pasid=%#x sid=%#x", type_name(d->type), d->g, d->did,
                 d->pasid, d->sid);
    return buf;
}

static bool desc_matches(const struct desc *got, const struct desc *want)
{
    if (got->type != want->type)
        return false;
    if (want->type == T_WAIT)
        return true;
    if (want->type == T_DEVTLB || want->type == T_PDEVTLB)
        return got->sid == want->sid && got->pasid == want->pasid &&
               got->pfsid == want->pfsid && got->mip == want->mip && got->g == want->g &&
               got->addr == want->addr && got->s == want->s;
    return got->g == want->g && (want->any_did || got->did == want->did) &&
           got->pasid == want->pasid && got->sid == want->sid;
}

static struct desc logged(unsigned i)
{
    return decode(fk.desc[i]);
}

static unsigned count_type(unsigned type)
{
    unsigned n = 0;
    for (unsigned i = 0; i < fk.ndesc; i++)
        n += logged(i).type == type;
    return n;
}

/* Descriptors that carry a DID and name this one (waits carry none). */
static unsigned count_did(uint16_t did)
{
    unsigned n = 0;
    for (unsigned i = 0; i < fk.ndesc; i++) {
        struct desc d = logged(i);
        n += d.type != T_WAIT && d.did == did;
    }
    return n;
}

static unsigned count_wbf(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < fk.ngcmd; i++)
        n += (fk.gcmd_log[i] & VTD_GCMD_WBF) != 0;
    return n;
}

/* ---- recording an update: stores and sync points, in order ----------------- */

#define MAX_EVENTS 32
#define MAX_SYNCS 8

struct event {
    bool sync;      /* a sync starts here; else a chunk store */
    unsigned ndesc; /* descriptors consumed before it */
    unsigned chunk;
    uint64_t v[2];
};

/* One sync as the unit saw it: what it may have cached, what is in memory,
 * and the descriptors it queued (fk.desc[first..end)).  Held as PASID
 * entries for their alignment; a legacy context entry uses q[0..1]. */
struct sync_view {
    struct pasid_entry cached, now;
    unsigned first, end;
};

static struct {
    bool on;
    volatile uint64_t *entry;
    unsigned qwords;
    struct pasid_entry start;
    struct event ev[MAX_EVENTS];
    unsigned nev;
    bool overflow;
    struct sync_view syncs[MAX_SYNCS];
    unsigned nsyncs;
    struct vtd_write_result r;
} rec;

static struct vtd_unit unit;
static struct vtd_ops spy_ops;

static void add_event(struct event e)
{
    if (rec.nev == MAX_EVENTS) {
        rec.overflow = true;
        return;
    }
    e.ndesc = fk.ndesc;
    rec.ev[rec.nev++] = e;
}

static void spy_store(void *ctx, volatile uint64_t *p, const uint64_t *v)
{
    if (rec.on && p >= rec.entry && p < rec.entry + rec.qwords)
        add_event((struct event){.chunk = (unsigned)(p - rec.entry) / 2, .v = {v[0], v[1]}});
    fake_ops.store128(ctx, p, v);
}

/* entry_sync traces "# entry_sync <format> sync N (a -> b)" right before it
 * calls the engine's sync: that is where one sync's descriptors begin.
 * Other engine lines during an update are shown, as they mean trouble. */
static void sink(const char *s, size_t n)
{
    char line[512];
    if (!rec.on)
        return;
    snprintf(line, sizeof(line), "%.*s", (int)n, s);
    if (strstr(line, "entry_sync ")) {
        if (strstr(line, " sync ") && strstr(line, " -> "))
            add_event((struct event){.sync = true});
        return;
    }
    printf("    %s", line);
}

static void begin_recording(volatile uint64_t *entry, unsigned qwords)
{
    memset(&rec, 0, sizeof(rec));
    rec.entry = entry;
    rec.qwords = qwords;
    for (unsigned q = 0; q < qwords; q++)
        rec.start.q[q] = entry[q];
    fk.ndesc = 0;
    fk.ngcmd = 0;
    vtd_options.trace = true;
    rec.on = true;
}

/* Replay the stores between the sync points: the entry at each sync is the
 * one the next sync finds cached. */
static void end_recording(void)
{
    struct pasid_entry cur = rec.start, cached = rec.start;
    rec.on = false;
    vtd_options.trace = false;
    for (unsigned i = 0; i < rec.nev; i++) {
        const struct event *e = &rec.ev[i];
        if (!e->sync) {
            memcpy(&cur.q[2 * e->chunk], e->v, sizeof(e->v));
            continue;
        }
        if (rec.nsyncs == MAX_SYNCS) {
            rec.overflow = true;
            break;
        }
        struct sync_view *s = &rec.syncs[rec.nsyncs++];
        s->cached = cached;
        s->now = cur;
        s->first = e->ndesc;
        cached = cur;
    }
    for (unsigned k = 0; k < rec.nsyncs; k++)
        rec.syncs[k].end = k + 1 < rec.nsyncs ? rec.syncs[k + 1].first : fk.ndesc;
}

/* Shape checks that hold for any entry: the syncs we saw are the ones
 * entry_sync counted, nothing is queued outside a sync, and a sync that
 * queues anything ends with exactly one wait.  Returns the waits. */
static unsigned check_sync_shape(const char *what)
{
    CHECK(!rec.overflow && fk.ndesc <= FAKE_DESC_LOG, "%s: recording overflowed", what);
    CHECK(rec.nsyncs == rec.r.syncs, "%s: saw %u syncs, entry_sync reports %u", what, rec.nsyncs,
          rec.r.syncs);
    unsigned first = rec.nsyncs ? rec.syncs[0].first : fk.ndesc;
    CHECK(first == 0, "%s: %u descriptor(s) before the first sync", what, first);
    unsigned waits = 0;
    for (unsigned k = 0; k < rec.nsyncs; k++) {
        const struct sync_view *s = &rec.syncs[k];
        for (unsigned i = s->first; i < s->end; i++) {
            bool last = i + 1 == s->end;
            bool wait = logged(i).type == T_WAIT;
            CHECK(wait == last, "%s: sync %u: descriptor %u is %s%s", what, k + 1, i,
                  wait ? "a wait before the end" : "not a wait", last ? " at the end" : "");
            waits += wait;
        }
    }
    CHECK(waits == count_type(T_WAIT), "%s: waits outside the syncs", what);
    return waits;
}

static void check_sync_matches(const char *what, unsigned k, const struct desc *want, unsigned n)
{
    const struct sync_view *s = &rec.syncs[k];
    char g[160], w[160];
    CHECK(s->end - s->first == n, "%s: sync %u queued %u descriptor(s), want %u", what, k + 1,
          s->end - s->first, n);
    for (unsigned i = 0; i < n && s->first + i < s->end; i++) {
        struct desc got = logged(s->first + i);
        CHECK(desc_matches(&got, &want[i]), "%s: sync %u descriptor %u: got %s, want %s", what,
              k + 1, i, desc_str(&got, g, sizeof(g)), desc_str(&want[i], w, sizeof(w)));
    }
}

/* Sync k (0-based; LAST_SYNC for the last one) queued exactly first,
 * second and a wait. */
#define LAST_SYNC (~0u)
static void expect_sync(const char *what, unsigned k, struct desc first, struct desc second)
{
    const struct desc want[] = {first, second, {.type = T_WAIT}};
    CHECK(rec.nsyncs >= 1, "%s: no sync", what);
    if (rec.nsyncs)
        check_sync_matches(what, k == LAST_SYNC ? rec.nsyncs - 1 : k, want, 3);
}

/* ---- PASID entries ---------------------------------------------------------- */

enum kind { BLOCKED, PT, SS, FS, NESTED };
static const char *const kind_names[] = {"blocked", "PT", "SS", "FS", "nested"};

/* Roots differ with the DID, so an update changes the tables as well. */
static void build(struct pasid_entry *e, enum kind k, uint16_t did)
{
    struct pasid_entry_cfg c = {
        .did = did,
        .aw = PASID_AW_48BIT,
        .ss_root = 0x40000000ULL + ((uint64_t)did << 12),
        .fs_root = 0x80000000ULL + ((uint64_t)did << 12),
    };
    static void (*const builders[])(struct pasid_entry *, const struct pasid_entry_cfg *) = {
        [PT] = pasid_entry_build_pt,
        [SS] = pasid_entry_build_ss,
        [FS] = pasid_entry_build_fs,
        [NESTED] = pasid_entry_build_nested,
    };
    if (k == BLOCKED)
        pasid_entry_build_blocked(e);
    else
        builders[k](e, &c);
}

static const char *strategy_name(enum entry_sync_strategy s)
{
    return s == ENTRY_SYNC_STRATEGY_CLEAR ? "clear" : "hitless";
}

static const enum entry_sync_strategy strategies[] = {ENTRY_SYNC_STRATEGY_HITLESS,
                                                      ENTRY_SYNC_STRATEGY_CLEAR};
#define NSTRATEGIES 2

/* A fresh unit on the fake in mode `want`, default options, its entry
 * stores going through the spy. */
static bool bring_up(uint64_t cap, uint64_t ecap, enum vtd_mode_request want)
{
    struct why why;
    int rc = fake_bring_up(&unit, cap, ecap, want, NULL, &why);
    CHECK(rc == 0, "bring-up: %s", why.text);
    if (rc)
        return false;
    spy_ops = fake_ops;
    spy_ops.store128 = spy_store;
    unit.ops = &spy_ops;
    vtd_options = (struct vtd_options){0};
    /* pasid_write.c keeps its ATS list across bring-ups: set it afresh. */
    struct vtd_devtlb_target off = {.sid = SID};
    vtd_set_ats(&unit, ats ? ats : &off, ats != NULL);
    /* A device-TLB is invalidated only while translation is on (4.3). */
    if (ats)
        CHECK(vtd_enable_translation(&unit), "translation on");
    return true;
}

/* A scalable unit with the device attached. */
static bool bring_up_scalable_caps(uint64_t cap_extra, uint64_t ecap_extra)
{
    if (!bring_up(QEMU_CAP | cap_extra, QEMU_ECAP | ECAP_PSS9 | ecap_extra, VTD_WANT_SCALABLE))
        return false;
    CHECK(vtd_attach_scalable(&unit, SID, rid_pasid) == 0, "attach");
    CHECK(vtd_rid_pasid(&unit, SID) == rid_pasid, "RID_PASID %u", vtd_rid_pasid(&unit, SID));
    return vtd_pasid_entry(&unit, SID, pasid, true) != NULL;
}

static bool bring_up_scalable(uint64_t cap_extra)
{
    return bring_up_scalable_caps(cap_extra, 0);
}

static bool bring_up_scalable_ecap(uint64_t ecap_extra)
{
    return bring_up_scalable_caps(0, ecap_extra);
}

static void set_entry(enum kind k, uint16_t did)
{
    struct pasid_entry e;
    build(&e, k, did);
    struct vtd_write_result r = vtd_pasid_write(&unit, SID, pasid, &e, ENTRY_SYNC_STRATEGY_HITLESS);
    CHECK(r.ok, "setting up %s: %s", kind_names[k], r.why.text);
}

/* Move the entry to `to` with strategy s, recording everything. */
static void pasid_update(const char *what, enum kind to, uint16_t did, enum entry_sync_strategy s)
{
    struct pasid_entry tgt;
    build(&tgt, to, did);
    volatile struct pasid_entry *e = vtd_pasid_entry(&unit, SID, pasid, false);
    begin_recording(e->q, PASID_ENTRY_QWORDS);
    rec.r = vtd_pasid_write(&unit, SID, pasid, &tgt, s);
    end_recording();
    CHECK(rec.r.ok, "%s: %s", what, rec.r.why.text);
    CHECK(!memcmp((const void *)e->q, tgt.q, sizeof(tgt.q)), "%s: entry is not the target", what);
}

static struct desc pasid_cache(uint16_t did)
{
    return (struct desc){.type = T_PC, .g = G_PC_PASID, .did = did, .pasid = pasid};
}

/* IOTLB entries of first stage and pass-through are tagged with the PASID,
 * those of second stage and nested with the domain only. */
static struct desc iotlb_for(enum pasid_pgtt pgtt, uint16_t did)
{
    if (pgtt == PASID_PGTT_FS || pgtt == PASID_PGTT_PT)
        return (struct desc){.type = T_PIOTLB, .g = G_PIOTLB_PASID, .did = did, .pasid = pasid};
    return (struct desc){.type = T_IOTLB, .g = G_IOTLB_DOMAIN, .did = did};
}

/* What a sync owes a device with ATS on (6.5.2.5, 6.5.2.6): the
 * device-TLB descriptor for the RID_PASID entry (requests without PASID),
 * the PASID-based one naming the PASID for any other; all of the address
 * space (S=1 and address bits 62:12 set: 2^64 bytes); G=0; the PF's SID
 * in PFSID only where ECAP.DIT, since the field is reserved elsewhere. */
static struct desc devtlb_for(bool with_pasid)
{
    return (struct desc){
        .type = with_pasid ? T_PDEVTLB : T_DEVTLB,
        .sid = ats->sid,
        .pasid = with_pasid ? pasid : 0,
        .pfsid = (unit.ecap & ECAP_DIT) ? ats->pf_sid : 0,
        .mip = ats->qdep,
        .addr = 0x7ffffffffffff000ULL,
        .s = true,
    };
}

/* The spec's sequence for one sync of a PASID entry (6.5.3.3 guidance, the
 * design note's "Sync" section), built from the entries alone.  Returns
 * the number of descriptors in want[]. */
static unsigned expected_pasid_sync(const struct sync_view *s, bool cm, struct desc *want)
{
    const struct pasid_entry *cached = &s->cached, *now = &s->now;
    const struct pasid_entry *basis = cached;
    if (!pasid_entry_present(cached)) {
        bool fpd_moved = pasid_entry_get(cached, PASID_FPD) != pasid_entry_get(now, PASID_FPD);
        if (!cm || (!pasid_entry_present(now) && !fpd_moved))
            return 0; /* nothing can be cached, or nothing that counts changed */
        basis = now;  /* caching mode: the non-present entry may be */
    }
    uint16_t did = (uint16_t)pasid_entry_get(basis, PASID_DID);
    enum pasid_pgtt pgtt = pasid_entry_pgtt(basis);
    unsigned n = 0;
    want[n++] = pasid_cache(did);
    want[n++] = iotlb_for(pgtt, did);
    if (ats && basis == cached) /* the device fetched through the old entry */
        want[n++] = devtlb_for(pasid != rid_pasid);
    bool stays_pt = pasid_entry_present(now) && pasid_entry_pgtt(now) == PASID_PGTT_PT;
    if (basis == cached && pgtt == PASID_PGTT_PT && !stays_pt && vtd_options.pt_ctx_flush)
        want[n++] = (struct desc){.type = T_CC, .g = G_CC_DEVICE, .sid = SID, .any_did = true};
    want[n++] = (struct desc){.type = T_WAIT};
    return n;
}

/* Every sync of the last update against the spec's sequence; returns the
 * number of syncs that should have invalidated. */
static unsigned check_pasid_syncs(const char *what, bool cm)
{
    unsigned invalidating = 0;
    check_sync_shape(what);
    for (unsigned k = 0; k < rec.nsyncs; k++) {
        struct desc want[6];
        unsigned n = expected_pasid_sync(&rec.syncs[k], cm, want);
        check_sync_matches(what, k, want, n);
        invalidating += n != 0;
    }
    return invalidating;
}

/* SS(a) -> SS(b): the unit holds translations tagged with a, so every
 * invalidation names a; b appears nowhere, as nothing of b was cached. */
TEST(ss_to_ss_invalidates_old_did)
{
    for (unsigned i = 0; i < NSTRATEGIES; i++) {
        char what[64];
        snprintf(what, sizeof(what), "%s SS(a)->SS(b)", strategy_name(strategies[i]));
        if (!bring_up_scalable(0))
            return;
        set_entry(SS, DID_A);
        pasid_update(what, SS, DID_B, strategies[i]);
        expect_sync(what, 0, pasid_cache(DID_A), iotlb_for(PASID_PGTT_SS, DID_A));
        CHECK(count_did(DID_B) == 0, "%s: %u descriptor(s) name the new DID", what,
              count_did(DID_B));
        check_pasid_syncs(what, false);
        unsigned waits = count_type(T_WAIT);
        /* hitless: one sync, one wait; clear: only the first sync finds a
         * present entry cached, the two after it find the cleared one. */
        unsigned want_syncs = strategies[i] == ENTRY_SYNC_STRATEGY_CLEAR ? 3 : 1;
        CHECK(rec.r.syncs == want_syncs, "%s: %u syncs", what, rec.r.syncs);
        CHECK(waits == 1, "%s: %u waits", what, waits);
    }
}

/* Leaving first stage or pass-through: the IOTLB entries are tagged with
 * the PASID, so the PASID-based IOTLB invalidation of the old DID, never
 * the domain-selective one. */
static void check_leaving_pasid_tagged(enum kind from, enum kind to, enum entry_sync_strategy s)
{
    char what[64];
    snprintf(what, sizeof(what), "%s %s(a)->%s(b)", strategy_name(s), kind_names[from],
             kind_names[to]);
    if (!bring_up_scalable(0))
        return;
    set_entry(from, DID_A);
    pasid_update(what, to, DID_B, s);
    struct desc piotlb = {.type = T_PIOTLB, .g = G_PIOTLB_PASID, .did = DID_A, .pasid = pasid};
    expect_sync(what, 0, pasid_cache(DID_A), piotlb);
    check_pasid_syncs(what, false);
}

TEST(fs_and_pt_leave_with_pasid_iotlb_of_old_did)
{
    static const enum kind from[] = {FS, PT};
    static const enum kind to[] = {BLOCKED, PT, SS, FS, NESTED};
    for (unsigned f = 0; f < 2; f++)
        for (unsigned t = 0; t < 5; t++)
            for (unsigned i = 0; i < NSTRATEGIES; i++)
                check_leaving_pasid_tagged(from[f], to[t], strategies[i]);
}

/* Blocked -> present without caching mode: the unit cannot have cached a
 * non-present entry, so no invalidation at all; a write-buffer flush per
 * sync only where CAP.RWBF asks for it. */
TEST(blocked_to_present_without_cm_invalidates_nothing)
{
    static const enum kind to[] = {PT, SS, FS, NESTED};
    for (unsigned rwbf = 0; rwbf < 2; rwbf++) {
        for (unsigned t = 0; t < 4; t++) {
            for (unsigned i = 0; i < NSTRATEGIES; i++) {
                char what[64];
                snprintf(what, sizeof(what), "%s blocked->%s%s", strategy_name(strategies[i]),
                         kind_names[to[t]], rwbf ? " RWBF" : "");
                if (!bring_up_scalable(rwbf ? VTD_CAP_RWBF : 0))
                    return;
                pasid_update(what, to[t], DID_B, strategies[i]);
                CHECK(fk.ndesc == 0, "%s: %u descriptor(s) queued", what, fk.ndesc);
                unsigned want_wbf = rwbf ? rec.r.syncs : 0;
                CHECK(count_wbf() == want_wbf, "%s: %u write-buffer flushes, want %u", what,
                      count_wbf(), want_wbf);
                CHECK(rec.r.syncs >= 1, "%s: no sync", what);
                check_pasid_syncs(what, false);
            }
        }
    }
}

/* With CAP.CM the unit may cache the non-present entry (tagged with the
 * DID it will have), so the sync that makes it present invalidates the
 * PASID cache and the IOTLB of the new DID, then waits. */
TEST(blocked_to_present_with_cm_invalidates_new_did)
{
    static const enum kind to[] = {PT, SS, FS, NESTED};
    for (unsigned t = 0; t < 4; t++) {
        for (unsigned i = 0; i < NSTRATEGIES; i++) {
            char what[64];
            snprintf(what, sizeof(what), "%s CM blocked->%s", strategy_name(strategies[i]),
                     kind_names[to[t]]);
            if (!bring_up_scalable(VTD_CAP_CM))
                return;
            pasid_update(what, to[t], DID_B, strategies[i]);
            /* Only the last sync sees a present entry. */
            struct pasid_entry tgt;
            build(&tgt, to[t], DID_B);
            expect_sync(what, LAST_SYNC, pasid_cache(DID_B),
                        iotlb_for(pasid_entry_pgtt(&tgt), DID_B));
            CHECK(fk.ndesc == 3, "%s: %u descriptors in all", what, fk.ndesc);
            CHECK(check_pasid_syncs(what, true) == 1, "%s: one invalidating sync", what);
        }
    }
}

/* With CAP.CM the unit may cache a non-present entry, FPD and all (9.6:
 * FPD counts whatever P says): blocked <-> blocked with FPD set must drop
 * it (PASID cache and IOTLB of the entry's DID, 0, then a wait); without
 * CM nothing non-present is cached and nothing is queued. */
TEST(cm_fpd_change_of_non_present_entry_invalidates)
{
    for (unsigned cm = 0; cm < 2; cm++) {
        for (unsigned into = 0; into < 2; into++) {
            char what[64];
            snprintf(what, sizeof(what), "%sblocked%s->blocked%s", cm ? "CM " : "",
                     into ? "" : "+FPD", into ? "+FPD" : "");
            if (!bring_up_scalable(cm ? VTD_CAP_CM : 0))
                return;
            struct pasid_entry quiet, tgt;
            pasid_entry_build_blocked(&quiet);
            pasid_entry_set(&quiet, PASID_FPD, 1);
            pasid_entry_build_blocked(&tgt);
            if (into)
                tgt = quiet;
            else
                CHECK(vtd_pasid_write(&unit, SID, PASID, &quiet, ENTRY_SYNC_STRATEGY_HITLESS).ok,
                      "%s: setup", what);
            volatile struct pasid_entry *e = vtd_pasid_entry(&unit, SID, PASID, false);
            begin_recording(e->q, PASID_ENTRY_QWORDS);
            rec.r = vtd_pasid_write(&unit, SID, PASID, &tgt, ENTRY_SYNC_STRATEGY_HITLESS);
            end_recording();
            CHECK(rec.r.ok && rec.r.syncs == 1, "%s: %u syncs", what, rec.r.syncs);
            CHECK(!memcmp((const void *)e->q, tgt.q, sizeof(tgt.q)), "%s: not the target", what);
            if (cm) {
                expect_sync(what, 0, pasid_cache(0), iotlb_for((enum pasid_pgtt)0, 0));
                CHECK(fk.ndesc == 3, "%s: %u descriptors in all", what, fk.ndesc);
            } else {
                CHECK(fk.ndesc == 0, "%s: %u descriptor(s) queued", what, fk.ndesc);
            }
            check_pasid_syncs(what, cm);
        }
    }
}

static unsigned count_cc_device(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < fk.ndesc; i++) {
        struct desc d = logged(i);
        n += d.type == T_CC && d.g == G_CC_DEVICE && d.sid == SID;
    }
    return n;
}

/* Quirk pt_ctx_flush: leaving PT also drops the device's context-cache
 * entry (in the sync that had PT cached, before its wait); staying in PT,
 * entering PT or running without the quirk does not.  Clear-then-update
 * leaves PT even for PT -> PT: it passes through a non-present entry. */
TEST(pt_ctx_flush_quirk_only_when_leaving_pt)
{
    static const struct {
        enum kind from, to;
        bool quirk;
        unsigned hitless, clear; /* device context-cache invalidations */
    } cases[] = {
        {PT, SS, true, 1, 1},      {PT, FS, true, 1, 1},       {PT, NESTED, true, 1, 1},
        {PT, BLOCKED, true, 1, 1}, {PT, PT, true, 0, 1},       {SS, PT, true, 0, 0},
        {PT, SS, false, 0, 0},     {PT, BLOCKED, false, 0, 0},
    };
    for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        for (unsigned i = 0; i < NSTRATEGIES; i++) {
            char what[80];
            snprintf(what, sizeof(what), "%s %s(a)->%s(b) quirk=%d", strategy_name(strategies[i]),
                     kind_names[cases[c].from], kind_names[cases[c].to], cases[c].quirk);
            if (!bring_up_scalable(0))
                return;
            set_entry(cases[c].from, DID_A);
            vtd_options.pt_ctx_flush = cases[c].quirk;
            pasid_update(what, cases[c].to, DID_B, strategies[i]);
            unsigned want =
                strategies[i] == ENTRY_SYNC_STRATEGY_CLEAR ? cases[c].clear : cases[c].hitless;
            CHECK(count_cc_device() == want, "%s: %u device context-cache invalidation(s), want %u",
                  what, count_cc_device(), want);
            check_pasid_syncs(what, false);
        }
    }
}

/* The matrix's states: 0-4 blocked, PT, SS, FS, nested in DID a; 5-8 PT,
 * SS, FS, nested in DID b. */
static uint16_t did_of(unsigned index)
{
    return index < 5 ? DID_A : DID_B;
}

static enum kind kind_of(unsigned index)
{
    return (enum kind)(index < 5 ? index : index - 4);
}

/* An update between present entries that never passes through a
 * non-present one finds a present entry cached at every sync: one wait per
 * sync.  Breaking and clear updates wait after clearing Present, and with
 * CM once more after setting it. */
static void check_wait_count(const char *what, unsigned waits, bool from_present, bool to_present,
                             bool cm)
{
    if (!from_present || !to_present)
        return;
    unsigned want = rec.r.es.cls == ENTRY_SYNC_BREAKING ? 1u + cm : rec.r.syncs;
    CHECK(waits == want, "%s: %u waits for %u syncs (%s), want %u", what, waits, rec.r.syncs,
          entry_sync_class_name(rec.r.es.cls), want);
}

/* One pair of the matrix: every sync against the spec's sequence, one wait
 * per invalidating sync. */
static void check_pair_ecap(unsigned a, unsigned b, enum entry_sync_strategy s, bool cm,
                            bool quirk, uint64_t ecap_extra)
{
    char what[128];
    snprintf(what, sizeof(what), "%s %s(%#x)->%s(%#x) cm=%d quirk=%d pasid=%#x ats=%d",
             strategy_name(s), kind_names[kind_of(a)], did_of(a), kind_names[kind_of(b)],
             did_of(b), cm, quirk, pasid, ats != NULL);
    if (!bring_up_scalable_caps(cm ? VTD_CAP_CM : 0, ecap_extra))
        return;
    set_entry(kind_of(a), did_of(a));
    vtd_options.pt_ctx_flush = quirk;
    pasid_update(what, kind_of(b), did_of(b), s);
    unsigned invalidating = check_pasid_syncs(what, cm);
    unsigned waits = count_type(T_WAIT);
    CHECK(waits == invalidating, "%s: %u waits, %u invalidating syncs", what, waits, invalidating);
    check_wait_count(what, waits, kind_of(a) != BLOCKED, kind_of(b) != BLOCKED, cm);
}

static void check_pair(unsigned a, unsigned b, enum entry_sync_strategy s, bool cm, bool quirk)
{
    check_pair_ecap(a, b, s, cm, quirk, 0);
}

/* Every ordered pair of blocked, PT, SS, FS, nested in DID a and b, both
 * strategies, with and without CM and the quirk: each sync queues exactly
 * what the spec asks for the entry it found cached. */
TEST(transition_matrix_follows_the_spec)
{
    for (unsigned mode = 0; mode < 4; mode++)
        for (unsigned a = 0; a < 9; a++)
            for (unsigned b = 0; b < 9; b++)
                for (unsigned i = 0; i < NSTRATEGIES && a != b; i++)
                    check_pair(a, b, strategies[i], mode & 1, mode & 2);
}

/* ---- device-TLB (ATS) ----------------------------------------------------------- */

static const struct vtd_devtlb_target vf = {.sid = SID, .pf_sid = PF_SID, .qdep = QDEP};

static unsigned count_devtlb(unsigned type)
{
    return count_type(type);
}

/* SS(a) -> SS(b) of `which` with ATS on, on a unit with ECAP.DT (and
 * ECAP.DIT when dit; ECAP.RPS and RID_PASID `rid` when rid is not 0):
 * PASID cache, IOTLB, then exactly one device-TLB invalidation of the kind
 * and fields devtlb_for() names, then the wait. */
static void check_ats_update(bool dit, uint32_t which, uint32_t rid, enum entry_sync_strategy st)
{
    char what[112];
    snprintf(what, sizeof(what), "%s SS(a)->SS(b) pasid=%#x RID_PASID=%#x ATS dit=%d",
             strategy_name(st), which, rid, dit);
    pasid = which;
    rid_pasid = rid;
    ats = &vf;
    if (bring_up_scalable_ecap(ECAP_DT | (dit ? ECAP_DIT : 0) | (rid ? VTD_ECAP_RPS : 0))) {
        set_entry(SS, DID_A);
        pasid_update(what, SS, DID_B, st);
        const struct desc want[] = {pasid_cache(DID_A), iotlb_for(PASID_PGTT_SS, DID_A),
                                    devtlb_for(which != rid), {.type = T_WAIT}};
        CHECK(rec.nsyncs >= 1, "%s: no sync", what);
        check_sync_matches(what, 0, want, 4);
        unsigned plain = count_devtlb(T_DEVTLB), based = count_devtlb(T_PDEVTLB);
        CHECK(plain + based == 1, "%s: %u device-TLB invalidations, want 1", what, plain + based);
        check_pasid_syncs(what, false);
    }
    ats = NULL;
    rid_pasid = 0;
    pasid = PASID;
}

/* A PASID other than RID_PASID: the device tagged what it fetched with
 * that PASID, so only the PASID-based device-TLB invalidation (type 8)
 * naming it reaches it; the RID_PASID entry, which requests without PASID
 * use, keeps the plain one (type 3).  With ECAP.RPS the RID_PASID need not
 * be 0: then PASID 0 is an ordinary PASID and gets type 8. */
TEST(ats_pasid_entries_use_the_pasid_based_devtlb_descriptor)
{
    for (unsigned i = 0; i < NSTRATEGIES; i++) {
        check_ats_update(false, PASID, 0, strategies[i]);
        check_ats_update(false, 0, 0, strategies[i]);
        check_ats_update(false, PASID, PASID, strategies[i]);
        check_ats_update(false, 0, PASID, strategies[i]);
    }
}

/* With ECAP.DIT the unit throttles device-TLB invalidations per physical
 * function: PFSID carries the PF's SID (here SID is a VF of PF_SID), in
 * both descriptors; without DIT the field is reserved and stays 0. */
TEST(ats_pfsid_is_the_pf_sid_where_dit)
{
    for (unsigned dit = 0; dit < 2; dit++) {
        for (unsigned i = 0; i < NSTRATEGIES; i++) {
            check_ats_update(dit, PASID, 0, strategies[i]);
            check_ats_update(dit, 0, 0, strategies[i]);
        }
    }
}

/* With translation off (GSTS.TES=0) the unit would treat the device's
 * invalidation completions as unsupported requests and the invalidation
 * could only time out: the spec (4.3) asks for none, so the sync has just
 * the PASID-cache and IOTLB invalidations and the wait. */
TEST(ats_no_devtlb_invalidation_while_translation_is_off)
{
    for (unsigned i = 0; i < NSTRATEGIES; i++) {
        char what[80];
        snprintf(what, sizeof(what), "%s SS(a)->SS(b) ATS, translation off",
                 strategy_name(strategies[i]));
        ats = &vf;
        if (bring_up_scalable_ecap(ECAP_DT)) {
            set_entry(SS, DID_A);
            CHECK(vtd_disable_translation(&unit), "translation off");
            pasid_update(what, SS, DID_B, strategies[i]);
            expect_sync(what, 0, pasid_cache(DID_A), iotlb_for(PASID_PGTT_SS, DID_A));
            CHECK(count_type(T_DEVTLB) + count_type(T_PDEVTLB) == 0,
                  "%s: a device-TLB invalidation with TES=0", what);
        }
        ats = NULL;
    }
}

static char said[512];

static void capture(const char *s, size_t n)
{
    size_t have = strlen(said);
    snprintf(said + have, sizeof(said) - have, "%.*s", (int)n, s);
}

/* The engine tracks a bounded number of ATS devices: one more is refused
 * with a reason rather than left without device-TLB invalidations. */
TEST(ats_list_full_is_refused_with_a_reason)
{
    if (!bring_up_scalable(0))
        return;
    unsigned n = 0;
    struct vtd_devtlb_target t = {.qdep = 0};
    printf_set_sink(capture);
    for (t.sid = 0x100; n < 64; t.sid++, n++) {
        t.pf_sid = t.sid;
        said[0] = 0;
        if (!vtd_set_ats(&unit, &t, true))
            break;
    }
    printf_set_sink(sink);
    CHECK(n > 0 && n < 64, "%u devices accepted", n);
    CHECK(strstr(said, "ATS must stay off for it"), "no reason: %s", said);
    t.sid = 0x100;
    CHECK(vtd_set_ats(&unit, &t, true), "an update of a listed device is refused");
    for (t.sid = 0x100; t.sid < 0x100 + n; t.sid++)
        CHECK(vtd_set_ats(&unit, &t, false), "%#x not removed", t.sid);
    CHECK(vtd_set_ats(&unit, &t, true), "the list stays full after removal");
    CHECK(vtd_set_ats(&unit, &t, false), "cleanup");
}

/* The whole matrix with ATS on, for RID_PASID and another PASID: a sync
 * that finds a present entry cached adds its device-TLB invalidation,
 * one that finds a non-present one (caching mode) does not. */
TEST(transition_matrix_with_ats)
{
    static const uint32_t pasids[] = {PASID, 0};
    for (unsigned p = 0; p < 2; p++) {
        for (unsigned cm = 0; cm < 2; cm++) {
            for (unsigned a = 0; a < 9; a++) {
                for (unsigned b = 0; b < 9; b++) {
                    for (unsigned i = 0; i < NSTRATEGIES && a != b; i++) {
                        pasid = pasids[p];
                        ats = &vf;
                        check_pair_ecap(a, b, strategies[i], cm, false, ECAP_DT | ECAP_DIT);
                        ats = NULL;
                        pasid = PASID;
                    }
                }
            }
        }
    }
}

/* ---- legacy context entries --------------------------------------------------- */

static void build_ctx_tt(struct legacy_context_entry *e, uint16_t did, enum legacy_context_tt tt)
{
    struct legacy_context_cfg c = {
        .slptptr = 0x40000000ULL + ((uint64_t)did << 12),
        .did = did,
        .aw = 2,
        .tt = tt,
    };
    legacy_context_build(e, &c);
}

static void build_ctx(struct legacy_context_entry *e, uint16_t did)
{
    build_ctx_tt(e, did, LEGACY_TT_UNTRANSLATED);
}

static bool bring_up_legacy_ecap(uint64_t ecap_extra)
{
    if (!bring_up(QEMU_CAP, QEMU_ECAP | ecap_extra, VTD_WANT_LEGACY))
        return false;
    CHECK(unit.mode == VTD_MODE_LEGACY, "legacy mode");
    return vtd_legacy_context(&unit, SID, true) != NULL;
}

static bool bring_up_legacy(void)
{
    return bring_up_legacy_ecap(0);
}

/* Legacy context entry, DID a -> b: the device's context-cache entry and
 * the IOTLB of domain a go, then a wait; b appears nowhere. */
TEST(legacy_context_write_invalidates_old_did)
{
    for (unsigned i = 0; i < NSTRATEGIES; i++) {
        char what[64];
        snprintf(what, sizeof(what), "%s legacy ctx(a)->ctx(b)", strategy_name(strategies[i]));
        if (!bring_up_legacy())
            return;
        struct legacy_context_entry start, tgt;
        build_ctx(&start, DID_A);
        build_ctx(&tgt, DID_B);
        CHECK(vtd_context_write(&unit, SID, &start, ENTRY_SYNC_STRATEGY_HITLESS).ok, "setup");
        volatile struct legacy_context_entry *e = vtd_legacy_context(&unit, SID, false);
        begin_recording(e->q, 2);
        rec.r = vtd_context_write(&unit, SID, &tgt, strategies[i]);
        end_recording();
        CHECK(rec.r.ok, "%s: %s", what, rec.r.why.text);
        CHECK(e->q[0] == tgt.q[0] && e->q[1] == tgt.q[1], "%s: entry is not the target", what);
        struct desc cc = {.type = T_CC, .g = G_CC_DEVICE, .did = DID_A, .sid = SID};
        expect_sync(what, 0, cc, (struct desc){.type = T_IOTLB, .g = G_IOTLB_DOMAIN, .did = DID_A});
        CHECK(fk.ndesc == 3, "%s: %u descriptors in all", what, fk.ndesc);
        CHECK(count_did(DID_B) == 0, "%s: the new DID is named", what);
        unsigned waits = check_sync_shape(what);
        CHECK(waits == 1, "%s: %u waits", what, waits);
        if (strategies[i] == ENTRY_SYNC_STRATEGY_HITLESS)
            CHECK(rec.r.syncs == waits, "%s: %u syncs, %u waits", what, rec.r.syncs, waits);
    }
}

/* Legacy mode with ATS on: the context entry has TT=01 (translation
 * requests allowed, i.e. the device may hold translations in its
 * device-TLB), and a sync of it invalidates the device-TLB after the
 * IOTLB: the plain descriptor (legacy mode has no PASIDs), all of the
 * address space, PFSID only with DIT.  This is the path an ATS device
 * takes on a unit that runs in legacy mode. */
TEST(legacy_context_write_with_ats_invalidates_devtlb)
{
    for (unsigned dit = 0; dit < 2; dit++) {
        for (unsigned i = 0; i < NSTRATEGIES; i++) {
            char what[64];
            snprintf(what, sizeof(what), "%s legacy TT=01 ctx(a)->ctx(b) ATS dit=%u",
                     strategy_name(strategies[i]), dit);
            ats = &vf;
            pasid = 0;
            bool up = bring_up_legacy_ecap(ECAP_DT | (dit ? ECAP_DIT : 0));
            if (up) {
                struct legacy_context_entry start, tgt;
                build_ctx_tt(&start, DID_A, LEGACY_TT_ALL);
                build_ctx_tt(&tgt, DID_B, LEGACY_TT_ALL);
                CHECK(vtd_context_write(&unit, SID, &start, ENTRY_SYNC_STRATEGY_HITLESS).ok,
                      "setup");
                volatile struct legacy_context_entry *e = vtd_legacy_context(&unit, SID, false);
                begin_recording(e->q, 2);
                rec.r = vtd_context_write(&unit, SID, &tgt, strategies[i]);
                end_recording();
                CHECK(rec.r.ok, "%s: %s", what, rec.r.why.text);
                const struct desc want[] = {
                    {.type = T_CC, .g = G_CC_DEVICE, .did = DID_A, .sid = SID},
                    {.type = T_IOTLB, .g = G_IOTLB_DOMAIN, .did = DID_A},
                    devtlb_for(false),
                    {.type = T_WAIT},
                };
                CHECK(rec.nsyncs >= 1, "%s: no sync", what);
                check_sync_matches(what, 0, want, 4);
                CHECK(fk.ndesc == 4, "%s: %u descriptors in all", what, fk.ndesc);
                CHECK(count_type(T_PDEVTLB) == 0, "%s: a PASID-based one in legacy mode", what);
                check_sync_shape(what);
            }
            ats = NULL;
            pasid = PASID;
        }
    }
}

int main(void)
{
    printf_set_sink(sink);
    RUN(ss_to_ss_invalidates_old_did);
    RUN(fs_and_pt_leave_with_pasid_iotlb_of_old_did);
    RUN(blocked_to_present_without_cm_invalidates_nothing);
    RUN(blocked_to_present_with_cm_invalidates_new_did);
    RUN(cm_fpd_change_of_non_present_entry_invalidates);
    RUN(pt_ctx_flush_quirk_only_when_leaving_pt);
    RUN(transition_matrix_follows_the_spec);
    RUN(ats_pasid_entries_use_the_pasid_based_devtlb_descriptor);
    RUN(ats_pfsid_is_the_pf_sid_where_dit);
    RUN(ats_no_devtlb_invalidation_while_translation_is_off);
    RUN(ats_list_full_is_refused_with_a_reason);
    RUN(transition_matrix_with_ats);
    RUN(legacy_context_write_invalidates_old_did);
    RUN(legacy_context_write_with_ats_invalidates_devtlb);
    fake_free_all();
    return check_finish();
}
