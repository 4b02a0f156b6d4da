/* Suite `isolation`: the IOMMU confines QEMU's edu DMA engine.
 *
 * For each translation type the unit offers (scalable mode: second stage,
 * first stage, pass-through; legacy mode: second-level and pass-through
 * context entries), through the device's RID_PASID entry or its context
 * entry, both written with vtd_pasid_write / vtd_context_write:
 *   - DMA through mapped IOVAs moves the right data;
 *   - a DMA write to an unmapped IOVA and to a read-only mapping faults
 *     with the expected reason and changes nothing;
 *   - canary pages around every buffer stay untouched.
 * Then, after pass-through, the entry goes back to a translating type and
 * an unmapped write must fault again: QEMU is suspected of keeping an
 * untranslated fast path once a device used pass-through. */
#include "arch/x86/tsc.h"
#include "drivers/edu.h"
#include "drivers/pci.h"
#include "iommu/domain.h"
#include "iommu/vtd.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/page.h"
#include "suites/pt_exit.h"
#include "suites/pt_fastpath.h"
#include "app/run.h"
#include "app/suite.h"
#include "app/vtd_setup.h"
#include "app/xstate.h"

/* Arena pages, each data page between canaries: C S C D C R C X C
 * (S source, D destination, R read-only, X the page an unmapped IOVA
 * would reach if translation were bypassed). */
enum { PG_SRC = 1, PG_DST = 3, PG_RO = 5, PG_SACRIFICE = 7, ARENA_PAGES = 9 };
#define CANARY 0xc5
#define RO_FILL 0x5a
#define SACRIFICE_FILL 0x3c

struct iso {
    struct vtd_unit *u;
    struct edu edu;
    uint16_t sid;
    uint8_t *arena;
    uint64_t arena_phys;
    uint64_t iova_base; /* SRC, DST, RO at +0, +0x2000, +0x4000 */
    bool enabled_here;  /* we switched translation on */
    struct vtd_domain dom[XS_DOMAINS]; /* by xs_domain_of */
    /* The edu stopped answering (timeout, or its registers read all ones):
     * the case that met it fails, the later ones skip with `lost`. */
    bool lost_now;
    char lost[96];
};

static uint8_t *page(struct iso *s, unsigned i)
{
    return s->arena + i * PAGE_SIZE;
}

static uint64_t page_phys(struct iso *s, unsigned i)
{
    return s->arena_phys + i * PAGE_SIZE;
}

static void fill_arena(struct iso *s, uint32_t seed)
{
    for (unsigned i = 0; i < ARENA_PAGES; i += 2)
        memset(page(s, i), CANARY, PAGE_SIZE);
    for (unsigned b = 0; b < PAGE_SIZE; b++)
        page(s, PG_SRC)[b] = (uint8_t)(seed + b * 7 + (b >> 8));
    memset(page(s, PG_DST), 0, PAGE_SIZE);
    memset(page(s, PG_RO), RO_FILL, PAGE_SIZE);
    memset(page(s, PG_SACRIFICE), SACRIFICE_FILL, PAGE_SIZE);
}

static bool all_bytes(const uint8_t *p, uint8_t v)
{
    for (unsigned b = 0; b < PAGE_SIZE; b++)
        if (p[b] != v)
            return false;
    return true;
}

/* Canaries and the pages no DMA may change; a description of the first
 * damage into why. */
static bool arena_intact(struct iso *s, struct why *why)
{
    for (unsigned i = 0; i < ARENA_PAGES; i += 2) {
        if (!all_bytes(page(s, i), CANARY)) {
            why_set(why, "canary page %u changed", i);
            return false;
        }
    }
    if (!all_bytes(page(s, PG_RO), RO_FILL)) {
        why_set(why, "the read-only page changed");
        return false;
    }
    if (!all_bytes(page(s, PG_SACRIFICE), SACRIFICE_FILL)) {
        why_set(why, "DMA reached the physical page behind the unmapped IOVA "
                     "(translation bypassed)");
        return false;
    }
    return true;
}

static bool dma(struct iso *s, bool to_device, uint64_t iova, struct why *why)
{
    enum edu_status st = to_device ? edu_dma_to_device(&s->edu, iova, 0, PAGE_SIZE)
                                   : edu_dma_from_device(&s->edu, iova, 0, PAGE_SIZE);
    if (st != EDU_OK) {
        why_set(why, "edu DMA %s %#llx: %s", to_device ? "from" : "to", (unsigned long long)iova,
                edu_status_name(st));
        s->lost_now |= st == EDU_TIMEOUT || st == EDU_GONE;
        return false;
    }
    return true;
}

/* Case `name` cannot run once the edu stopped answering: skipped. */
static bool skip_if_lost(struct iso *s, const char *name)
{
    if (s->lost_now && !s->lost[0])
        ksnprintf(s->lost, sizeof(s->lost), "%s",
                  "the edu stopped answering in an earlier case (reported there)");
    if (!s->lost[0])
        return false;
    ktap_case(KTAP_SKIP, name, "%s", s->lost);
    return true;
}

/* ---- one translation type ------------------------------------------------------- */

/* Where the DMA of one state's cases goes. */
struct iovas {
    const char *name; /* case name prefix */
    bool translated;  /* has page tables: the fault cases apply */
    uint64_t src, dst, ro, unmapped;
};

static void case_roundtrip(struct iso *s, const struct iovas *x)
{
    char name[48];
    struct why why;
    ksnprintf(name, sizeof(name), "%s_dma_roundtrip", x->name);
    if (skip_if_lost(s, name))
        return;
    fill_arena(s, 0x11 + x->src);
    uint32_t mark = vtd_fault_seq();
    if (!dma(s, true, x->src, &why) || !dma(s, false, x->dst, &why)) {
        ktap_case(KTAP_FAIL, name, "%s", why.text);
        return;
    }
    vtd_fault_poll();
    unsigned faults = vtd_faults_since(mark, s->sid, NULL, 0);
    if (faults) {
        ktap_case(KTAP_FAIL, name, "%u unexpected fault(s)", faults);
        return;
    }
    if (memcmp(page(s, PG_SRC), page(s, PG_DST), PAGE_SIZE)) {
        ktap_case(KTAP_FAIL, name, "destination differs from source after the round trip");
        return;
    }
    if (!arena_intact(s, &why)) {
        ktap_case(KTAP_FAIL, name, "%s", why.text);
        return;
    }
    ktap_case(KTAP_PASS, name, NULL);
}

/* A DMA write to iova must fault with a reason of class a or b and leave
 * memory alone. */
static void case_write_faults(struct iso *s, const struct iovas *x, const char *what, uint64_t iova,
                              enum vtd_fault_class a, enum vtd_fault_class b)
{
    char name[48];
    struct why why;
    ksnprintf(name, sizeof(name), "%s_%s_write_faults", x->name, what);
    if (skip_if_lost(s, name))
        return;
    fill_arena(s, 0x77);
    uint32_t mark = vtd_fault_seq();
    if (!dma(s, false, iova, &why)) {
        ktap_case(KTAP_FAIL, name, "%s", why.text);
        return;
    }
    vtd_fault_poll();
    struct vtd_fault_record r[4];
    unsigned n = vtd_faults_since(mark, s->sid, r, 4);
    if (!arena_intact(s, &why)) {
        ktap_case(KTAP_FAIL, name, "%s", why.text);
        return;
    }
    if (!n) {
        ktap_case(KTAP_FAIL, name, "no fault recorded for a write to %#llx",
                  (unsigned long long)iova);
        return;
    }
    enum vtd_fault_class c = vtd_fault_reason_class(r[0].reason);
    if (r[0].addr != (iova & ~0xfffULL) || !r[0].is_write || (c != a && c != b)) {
        ktap_case(KTAP_FAIL, name, "unexpected fault: addr %#llx %s reason %#x (%s, class %s)",
                  (unsigned long long)r[0].addr, r[0].is_write ? "write" : "read", r[0].reason,
                  vtd_fault_reason_name(r[0].reason), vtd_fault_class_name(c));
        return;
    }
    ktap_diag("isolation: %s: reason %#04x (%s), %u record(s)", name, r[0].reason,
              vtd_fault_reason_name(r[0].reason), n);
    ktap_case(KTAP_PASS, name, NULL);
}

static void run_type(struct iso *s, const struct iovas *x)
{
    case_roundtrip(s, x);
    if (!x->translated)
        return;
    case_write_faults(s, x, "unmapped", x->unmapped, VTD_FAULT_NOT_PRESENT, VTD_FAULT_WRITE_DENIED);
    case_write_faults(s, x, "readonly", x->ro, VTD_FAULT_WRITE_DENIED, VTD_FAULT_WRITE_DENIED);
}

/* ---- domains and entries -------------------------------------------------------- */

static int build_domain(struct iso *s, struct vtd_domain *d, enum pgtable_format f)
{
    if (vtd_domain_init(d, s->u, f))
        return -1;
    uint64_t b = s->iova_base;
    if (vtd_domain_map(d, b, page_phys(s, PG_SRC), PAGE_SIZE, PGTABLE_R | PGTABLE_W) ||
        vtd_domain_map(d, b + 0x2000, page_phys(s, PG_DST), PAGE_SIZE, PGTABLE_R | PGTABLE_W) ||
        vtd_domain_map(d, b + 0x4000, page_phys(s, PG_RO), PAGE_SIZE, PGTABLE_R))
        return -1;
    return 0;
}

static struct iovas translated(const char *name, struct iso *s)
{
    struct iovas x = {.name = name,
                      .translated = true,
                      .src = s->iova_base,
                      .dst = s->iova_base + 0x2000,
                      .ro = s->iova_base + 0x4000,
                      .unmapped = page_phys(s, PG_SACRIFICE)};
    return x;
}

static struct iovas identity(const char *name, struct iso *s)
{
    struct iovas x = {.name = name, .src = page_phys(s, PG_SRC), .dst = page_phys(s, PG_DST)};
    return x;
}

static bool legacy(const struct iso *s)
{
    return s->u->mode == VTD_MODE_LEGACY;
}

/* How the diagnostics name state st's entry (legacy mode in the words of
 * its context entry's translation type). */
static const char *entry_label(const struct iso *s, enum xstate st)
{
    if (!legacy(s) || st == XS_BLOCKED)
        return xs_kind(st);
    return st == XS_PT ? "pass-through" : "second-level";
}

/* Write e as the edu's entry; what: its name in the diagnostic. */
static bool install(struct iso *s, const struct xs_entry *e, const char *what)
{
    struct vtd_write_result r = xs_write(s->u, s->sid, e, ENTRY_SYNC_STRATEGY_HITLESS);
    ktap_diag("isolation: %s -> %s: %s, %u sync(s), %u descriptor(s), %llu cycles%s%s",
              legacy(s) ? "context entry" : "RID_PASID entry", what,
              entry_sync_class_name(r.es.cls), r.syncs, r.descriptors, (unsigned long long)r.cycles,
              r.ok ? "" : ": ", r.ok ? "" : r.why.text);
    return r.ok;
}

static bool ensure_translation(struct iso *s)
{
    if (s->u->translating)
        return true;
    s->enabled_here = true;
    return vtd_enable_translation(s->u);
}

/* The pt_exit probe's DMA: the edu writes its buffer to iova. */
static int pt_exit_write(void *ctx, uint64_t iova, struct why *why)
{
    return dma(ctx, false, iova, why) ? 0 : -1;
}

/* After pass-through, back to the translating domain `back` (NULL: the
 * case cannot run, skip_why says why): a write to an IOVA back does not map
 * must fault; it aims at vtdsync's poisoned probe page, so a unit stuck in
 * pass-through writes only there (suites/pt_exit.h).  Skipped once the edu
 * stopped answering. */
static void pt_exit_case(struct iso *s, const struct vtd_domain *back, const char *skip_why)
{
    const char *name = "edu_pt_exit_translates";
    if (skip_if_lost(s, name))
        return;
    if (!back) {
        ktap_case(KTAP_SKIP, name, "%s", skip_why);
        return;
    }
    uint64_t limit = vtd_iova_limit(s->u) < EDU_DMA_LIMIT ? vtd_iova_limit(s->u) : EDU_DMA_LIMIT;
    struct pt_exit_dma d = {
        .name = name,
        .dma = "edu DMA write",
        .sid = s->sid,
        .limit = limit,
        .back = &back->pt,
        .send = pt_exit_write,
        .ctx = s,
    };
    pt_exit_run(&d);
}

/* One state through the edu's entry: its domain (with the arena mapped),
 * its entry, its cases.  False when it did not run (unsupported, or it
 * could not be set up). */
static bool run_state(struct iso *s, enum xstate st)
{
    char prefix[16], name[48];
    ksnprintf(prefix, sizeof(prefix), "%s%s", legacy(s) ? "legacy_" : "", xs_kind_lower(st));
    ksnprintf(name, sizeof(name), "%s_dma_roundtrip", prefix);
    const char *why = xs_requirement(s->u, st);
    if (why) {
        ktap_case(KTAP_SKIP, name, "%s", why);
        return false;
    }
    int k = xs_domain_of(st);
    struct vtd_domain *d = k >= 0 ? &s->dom[k] : NULL;
    if (d && build_domain(s, d, xs_format(st))) {
        ktap_case(KTAP_FAIL, name, "cannot build the %s domain", xs_kind(st));
        return false;
    }
    struct xs_entry e;
    xs_build(st, s->u, d, st == XS_PT ? vtd_alloc_did(s->u) : 0, &e);
    if (!install(s, &e, entry_label(s, st))) {
        ktap_case(KTAP_FAIL, name, "%s entry update failed", legacy(s) ? "context" : "PASID");
        return false;
    }
    struct iovas x = d ? translated(prefix, s) : identity(prefix, s);
    run_type(s, &x);
    return true;
}

/* Every state in turn (legacy mode: second-level and pass-through), then
 * back from pass-through to a translating state for the pt_exit case. */
static void run_states(struct iso *s)
{
    static const enum xstate scalable_order[] = {XS_SS_A, XS_FS_A, XS_PT, XS_NESTED};
    static const enum xstate legacy_order[] = {XS_SS_A, XS_PT};
    const enum xstate *order = legacy(s) ? legacy_order : scalable_order;
    unsigned n = legacy(s) ? 2 : 4;
    bool ran[XS_COUNT] = {false};

    if ((!legacy(s) && vtd_attach_scalable(s->u, s->sid, 0)) || !ensure_translation(s)) {
        ktap_case(KTAP_FAIL, "attach", "%s",
                  legacy(s) ? "translation enable failed"
                            : "scalable context entry or translation enable failed");
        return;
    }
    for (unsigned i = 0; i < n; i++)
        ran[order[i]] = run_state(s, order[i]);
    /* Leave pass-through for a translating domain, then check. */
    const struct vtd_domain *back = NULL;
    int to = ran[XS_SS_A] ? XS_SS_A : XS_FS_A;
    struct xs_entry e;
    if (ran[XS_PT] && ran[to]) {
        char what[32];
        ksnprintf(what, sizeof(what), "%s after PT", entry_label(s, to));
        xs_build(to, s->u, &s->dom[xs_domain_of(to)], 0, &e);
        if (install(s, &e, what))
            back = &s->dom[xs_domain_of(to)];
    }
    const char *pt_why = xs_requirement(s->u, XS_PT);
    pt_exit_case(s, back,
                 pt_why ? "no pass-through (ECAP.PT=0)" : "no translating type to return to");
    xs_build(XS_BLOCKED, s->u, NULL, 0, &e);
    install(s, &e, "blocked");
}

static void suite_isolation(void)
{
    static struct iso s;
    struct why why;
    struct pci_dev *d = pci_find_id(EDU_VENDOR, EDU_DEVICE, NULL);
    if (!d) {
        ktap_suite_skip("isolation", "no edu device (QEMU -device edu)");
        return;
    }
    s.u = vtd_setup_unit_for(d->seg, d->bus, d->dev, d->fn, &why);
    if (!s.u) {
        vtd_suite_unavailable("isolation", why.text);
        return;
    }
    enum edu_status st = edu_init(&s.edu, d);
    if (st != EDU_OK) {
        ktap_suite_skip("isolation", edu_status_name(st));
        return;
    }
    if (!s.u->ops->store128) {
        ktap_suite_skip("isolation", "CMPXCHG16B missing (CPUID.01H:ECX.CX16=0): entries "
                                     "cannot be updated atomically");
        return;
    }
    s.sid = vtd_sid(d->bus, d->dev, d->fn);
    /* Below the edu's 28-bit DMA mask so pass-through can reach it too. */
    s.arena = page_alloc_constrained(ARENA_PAGES, PAGE_SIZE, EDU_DMA_LIMIT);
    if (!s.arena) {
        ktap_suite_skip("isolation", "no memory below 256 MiB for the DMA arena");
        return;
    }
    s.arena_phys = virt_to_phys(s.arena);
    /* IOVAs that cannot be mistaken for the arena's physical pages. */
    s.iova_base = 0x0f000000;
    if (s.arena_phys + ARENA_PAGES * PAGE_SIZE > s.iova_base && s.arena_phys < s.iova_base + 0x6000)
        s.iova_base = 0x08000000;
    ktap_suite_begin("isolation", -1);
    char sid[8];
    ktap_diag("isolation: edu %s on unit %d (%s mode), arena %#llx, IOVAs at %#llx",
              vtd_sid_str(s.sid, sid), s.u->index,
              s.u->mode == VTD_MODE_SCALABLE ? "scalable" : "legacy",
              (unsigned long long)s.arena_phys, (unsigned long long)s.iova_base);
    pt_fastpath_probe();
    run_states(&s);
    if (s.enabled_here)
        vtd_disable_translation(s.u);
    vtd_fault_poll();
    ktap_suite_end();
}

SUITE("isolation", 40, suite_isolation);
