/* Suite `stale`: "distinct pages" - once an update's last sync has
 * returned, no DMA may use the old translation.
 *
 * Two domains A and B map the same IOVA to different physical pages (and
 * pass-through maps it to a third page, the one whose physical address IS
 * the IOVA).  Each page carries its own tag fill.  QEMU's edu engine writes
 * a pattern to the IOVA under the current entry, which also leaves that
 * entry's translation in the IOTLB; the entry is switched with one strategy
 * and the next DMA starts as soon as the update returns.  The pattern must
 * land in the new translation's page and nowhere else.  A missing IOTLB
 * flush, an invalidation tagged with the wrong domain id or a missing sync
 * shows up as data in the old page.
 *
 * Sequence per strategy (entry_sync, clear):
 *     A, A->B, B->A, A->B (again, to stand on B), B->PT, PT->A
 * Scalable mode uses the edu's RID_PASID entry with second-stage tables
 * (first stage when the unit only has FLTS), legacy mode its context
 * entry.  PT->A can fail on QEMU's pass-through fast path; that is the
 * finding quirk=pt_ctx_flush works around (see isolation.c).
 *
 * Last, entry_sync:A->not_present clears only A's present bit: the DMA
 * must fault and land nowhere, though the entry still names A's tables. */
#include "arch/x86/cpu.h"
#include "drivers/edu.h"
#include "drivers/pci.h"
#include "iommu/domain.h"
#include "iommu/vtd.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/page.h"
#include "suites/pt_fastpath.h"
#include "app/run.h"
#include "app/suite.h"
#include "app/vtd_setup.h"
#include "app/xstate.h"

/* Arena pages: the three possible targets of the IOVA and the source the
 * edu buffer is loaded from.  PG_PT's physical address is the IOVA. */
enum { PG_A, PG_B, PG_PT, PG_SRC, ARENA_PAGES, NTARGETS = PG_SRC };
static const uint8_t tag_fill[NTARGETS] = {0xa1, 0xb2, 0xc3};
static const char *const page_name[NTARGETS] = {"A", "B", "PT"};

/* One translation the entry can hold. */
struct target {
    const char *name;
    unsigned page; /* where a DMA to the IOVA must land */
    struct xs_entry e;
};

struct stale {
    struct vtd_unit *u;
    struct edu edu;
    uint16_t sid;
    bool scalable;
    bool enabled_here; /* we switched translation on */
    uint8_t *arena;
    uint64_t arena_phys;
    uint64_t iova; /* == physical address of PG_PT */
    struct vtd_domain dom_a, dom_b;
    struct target a, b, pt, blocked;
    bool have_pt;
    /* Set when the edu stopped answering: that case failed, the later
     * ones skip with this (one root cause, one failure). */
    char lost[96];
};

static uint8_t *page(struct stale *s, unsigned i)
{
    return s->arena + i * PAGE_SIZE;
}

static uint64_t page_phys(struct stale *s, unsigned i)
{
    return s->arena_phys + i * PAGE_SIZE;
}

static bool all_bytes(const uint8_t *p, uint8_t v)
{
    for (unsigned b = 0; b < PAGE_SIZE; b++)
        if (p[b] != v)
            return false;
    return true;
}

static void tag_targets(struct stale *s)
{
    for (unsigned i = 0; i < NTARGETS; i++)
        memset(page(s, i), tag_fill[i], PAGE_SIZE);
}

/* ---- entries -------------------------------------------------------------------- */

/* Both domains map the IOVA read-write (to their own page) and the source
 * page read-only at its physical address, so PT reads the same source. */
static int build_domain(struct stale *s, struct vtd_domain *d, enum pgtable_format f, unsigned pg)
{
    if (vtd_domain_init(d, s->u, f))
        return -1;
    if (vtd_domain_map(d, s->iova, page_phys(s, pg), PAGE_SIZE, PGTABLE_R | PGTABLE_W) ||
        vtd_domain_map(d, page_phys(s, PG_SRC), page_phys(s, PG_SRC), PAGE_SIZE, PGTABLE_R))
        return -1;
    return 0;
}

/* Target t: catalogue state st (app/xstate.h) through domain d (NULL for
 * PT and blocked), landing in page pg. */
static void make_target(struct stale *s, struct target *t, enum xstate st,
                        const struct vtd_domain *d, const char *name, unsigned pg)
{
    t->name = name;
    t->page = pg;
    xs_build(st, s->u, d, st == XS_PT ? vtd_alloc_did(s->u) : 0, &t->e);
}

static struct vtd_write_result switch_to(struct stale *s, const struct target *t,
                                         enum entry_sync_strategy strategy)
{
    return xs_write(s->u, s->sid, &t->e, strategy);
}

/* ---- one step: switch, DMA at once, see where it landed -------------------------- */

enum landing { UNTOUCHED, GOT_DATA, DAMAGED };

static enum landing landing_of(struct stale *s, unsigned i)
{
    if (all_bytes(page(s, i), tag_fill[i]))
        return UNTOUCHED;
    return memcmp(page(s, i), page(s, PG_SRC), PAGE_SIZE) ? DAMAGED : GOT_DATA;
}

/* "B" / "A+B" / "nowhere", plus damaged pages. */
static void describe(const enum landing *l, char *buf, size_t n)
{
    size_t at = 0;
    for (unsigned i = 0; i < NTARGETS; i++)
        if (l[i] == GOT_DATA)
            at += (size_t)ksnprintf(buf + at, n - at, "%s%s", at ? "+" : "", page_name[i]);
    if (!at)
        at += (size_t)ksnprintf(buf, n, "nowhere");
    for (unsigned i = 0; i < NTARGETS && at < n; i++)
        if (l[i] == DAMAGED)
            at += (size_t)ksnprintf(buf + at, n - at, ", page %s damaged", page_name[i]);
}

/* Switch to `to` with `strategy` (NULL: no switch), then at once one edu
 * DMA to the IOVA.  False when case `name` was reported: the update
 * failed, or the edu stopped answering (later cases then skip). */
static bool update_then_dma(struct stale *s, const struct target *to,
                            enum entry_sync_strategy strategy, const char *name,
                            struct vtd_write_result *r, enum edu_status *st)
{
    if (to)
        *r = switch_to(s, to, strategy);
    /* The DMA starts the moment the update returned: nothing in between. */
    *st = r->ok ? edu_dma_from_device(&s->edu, s->iova, 0, PAGE_SIZE) : EDU_OK;
    if (!r->ok) {
        ktap_case(KTAP_FAIL, name, "entry update failed: %s", r->why.text);
        return false;
    }
    if (*st == EDU_TIMEOUT || *st == EDU_GONE) {
        ktap_case(KTAP_FAIL, name, "edu DMA to %#llx: %s", (unsigned long long)s->iova,
                  edu_status_name(*st));
        ksnprintf(s->lost, sizeof(s->lost), "the edu stopped answering in %s (reported there)",
                  name);
        return false;
    }
    return true;
}

/* Switch from `from` to `to` with `strategy` (from == NULL: no switch, the
 * entry already holds `to`), then DMA to the IOVA and judge the landing. */
static void step(struct stale *s, const struct target *from, const struct target *to,
                 enum entry_sync_strategy strategy, const char *suffix)
{
    const char *sname = entry_sync_strategy_name(strategy);
    char name[48], where[64];
    if (from)
        ksnprintf(name, sizeof(name), "%s:%s->%s%s", sname, from->name, to->name, suffix);
    else
        ksnprintf(name, sizeof(name), "%s:under_%s", sname, to->name);
    if (s->lost[0]) {
        ktap_case(KTAP_SKIP, name, "%s", s->lost);
        return;
    }

    tag_targets(s);
    uint32_t mark = vtd_fault_seq();
    struct vtd_write_result r = {.ok = true};
    enum edu_status st;
    if (!update_then_dma(s, from ? to : NULL, strategy, name, &r, &st))
        return;
    if (st != EDU_OK) {
        ktap_case(KTAP_FAIL, name, "edu DMA to %#llx: %s", (unsigned long long)s->iova,
                  edu_status_name(st));
        return;
    }
    vtd_fault_poll();
    struct vtd_fault_record fr[2];
    unsigned faults = vtd_faults_since(mark, s->sid, fr, 2);
    enum landing l[NTARGETS];
    for (unsigned i = 0; i < NTARGETS; i++)
        l[i] = landing_of(s, i);
    describe(l, where, sizeof(where));
    ktap_diag("stale: %s: %s, %u sync(s): DMA to %#llx landed in %s (expected %s), %u fault(s)",
              name, from ? entry_sync_class_name(r.es.cls) : "no update", r.syncs,
              (unsigned long long)s->iova, where, page_name[to->page], faults);
    if (cfg.json)
        kprintf("json: {\"suite\":\"stale\",\"case\":\"%s\",\"class\":\"%s\",\"syncs\":%u,"
                "\"landed\":\"%s\",\"faults\":%u}\n",
                name, from ? entry_sync_class_name(r.es.cls) : "none", r.syncs, where, faults);

    bool exact = faults == 0;
    for (unsigned i = 0; i < NTARGETS; i++)
        exact &= l[i] == (i == to->page ? GOT_DATA : UNTOUCHED);
    if (exact) {
        ktap_case(KTAP_PASS, name, NULL);
        return;
    }
    if (from && from->page < NTARGETS && l[from->page] == GOT_DATA) {
        if (from->page == PG_PT)
            ktap_case(KTAP_FAIL, name,
                      "finding: DMA still untranslated after leaving pass-through (landed in "
                      "%s); quirk=pt_ctx_flush adds a context-cache invalidation%s",
                      where, vtd_options.pt_ctx_flush ? " (already on: it did not help)" : "");
        else
            ktap_case(KTAP_FAIL, name,
                      "stale translation: DMA after the update used %s's mapping (landed in %s)",
                      from->name, where);
        return;
    }
    if (l[PG_PT] == GOT_DATA) {
        ktap_case(KTAP_FAIL, name,
                  "DMA bypassed translation: it reached the IOVA's own physical page (landed "
                  "in %s; a pass-through fast path left over?)",
                  where);
        return;
    }
    if (faults) {
        ktap_case(KTAP_FAIL, name, "%u fault(s), first reason %#x (%s) at %#llx, landed in %s",
                  faults, fr[0].reason, vtd_fault_reason_name(fr[0].reason),
                  (unsigned long long)fr[0].addr, where);
        return;
    }
    ktap_case(KTAP_FAIL, name, "landed in %s, expected only %s", where, page_name[to->page]);
}

/* Entry e with only its present bit cleared: the rest still names A's
 * tables. */
static struct xs_entry without_present_bit(const struct xs_entry *e)
{
    struct xs_entry np = *e;
    if (np.legacy)
        np.ce.q[0] &= ~LEGACY_CTX_P;
    else
        pasid_entry_set(&np.pe, PASID_P, 0);
    return np;
}

/* "not present": A's entry with P cleared and nothing else, published with
 * its invalidations, then one DMA to the IOVA.  With P clear the unit must
 * ignore the entry's other fields and fault (VT-d 9.3 context entry, 9.6
 * PASID entry), so the DMA lands nowhere and a not-present fault is
 * recorded (FPD is clear).  The breaking window of clear-then-update is
 * such an entry where software leaves the old fields in place: a unit
 * that still walks A's tables makes that window look hitless. */
static void step_not_present(struct stale *s)
{
    const char *name = "entry_sync:A->not_present";
    char where[64];
    if (s->lost[0]) {
        ktap_case(KTAP_SKIP, name, "%s", s->lost);
        return;
    }
    /* Stand on A with A's translation cached: the DMA primes the IOTLB. */
    tag_targets(s);
    struct vtd_write_result r;
    enum edu_status st;
    if (!update_then_dma(s, &s->a, ENTRY_SYNC_STRATEGY_HITLESS, name, &r, &st))
        return;
    if (st != EDU_OK || landing_of(s, PG_A) != GOT_DATA) {
        ktap_case(KTAP_FAIL, name, "cannot stand on A first: %s",
                  st != EDU_OK ? edu_status_name(st) : "the DMA missed page A");
        return;
    }
    struct target np = s->a;
    np.name = "not_present";
    np.e = without_present_bit(&s->a.e);

    tag_targets(s);
    uint32_t mark = vtd_fault_seq();
    if (!update_then_dma(s, &np, ENTRY_SYNC_STRATEGY_HITLESS, name, &r, &st))
        return;
    vtd_fault_poll();
    struct vtd_fault_record fr[2];
    unsigned faults = vtd_faults_since(mark, s->sid, fr, 2);
    enum landing l[NTARGETS];
    bool nowhere = true;
    for (unsigned i = 0; i < NTARGETS; i++) {
        l[i] = landing_of(s, i);
        nowhere &= l[i] == UNTOUCHED;
    }
    describe(l, where, sizeof(where));
    ktap_diag("stale: %s: %s, %u sync(s): DMA to %#llx landed in %s (expected nowhere), "
              "%u fault(s)%s%s",
              name, entry_sync_class_name(r.es.cls), r.syncs, (unsigned long long)s->iova, where,
              faults, faults ? ", first: " : "", faults ? vtd_fault_reason_name(fr[0].reason) : "");
    if (cfg.json)
        kprintf("json: {\"suite\":\"stale\",\"case\":\"%s\",\"class\":\"%s\",\"syncs\":%u,"
                "\"landed\":\"%s\",\"faults\":%u}\n",
                name, entry_sync_class_name(r.es.cls), r.syncs, where, faults);

    if (nowhere && faults && vtd_fault_reason_class(fr[0].reason) == VTD_FAULT_NOT_PRESENT) {
        ktap_case(KTAP_PASS, name, NULL);
    } else if (l[PG_A] == GOT_DATA && cpu_is_qemu() && s->scalable) {
        ktap_case(KTAP_SKIP, name,
                  "finding: QEMU translated DMA through a PASID entry with P clear (landed in "
                  "%s, %u faults): it walks the tables the entry names without checking P "
                  "(VT-d 9.6: a fault)",
                  where, faults);
    } else if (l[PG_A] == GOT_DATA) {
        ktap_case(KTAP_FAIL, name,
                  "DMA translated through a non-present entry: it used A's tables (landed in "
                  "%s, %u fault(s))",
                  where, faults);
    } else if (nowhere && !faults) {
        ktap_case(KTAP_FAIL, name,
                  "the DMA was blocked but no fault was recorded (FPD is clear): %s",
                  st == EDU_OK ? "the edu reported success" : edu_status_name(st));
    } else if (nowhere) {
        ktap_case(KTAP_FAIL, name,
                  "blocked, but the first fault is reason %#x (%s), not a "
                  "not-present one",
                  fr[0].reason, vtd_fault_reason_name(fr[0].reason));
    } else {
        ktap_case(KTAP_FAIL, name, "landed in %s, expected nowhere (%u fault(s))", where, faults);
    }
}

/* Load the edu buffer from the source page with a pattern of its own
 * (for case `name`). */
static bool load_pattern(struct stale *s, uint32_t seed, const char *name)
{
    for (unsigned b = 0; b < PAGE_SIZE; b++)
        page(s, PG_SRC)[b] = (uint8_t)(seed + b * 13 + (b >> 8));
    enum edu_status st = edu_dma_to_device(&s->edu, page_phys(s, PG_SRC), 0, PAGE_SIZE);
    if (st != EDU_OK) {
        ktap_diag("stale: loading the edu buffer: %s", edu_status_name(st));
        if (st == EDU_TIMEOUT || st == EDU_GONE)
            ksnprintf(s->lost, sizeof(s->lost), "the edu stopped answering in %s (reported there)",
                      name);
        return false;
    }
    return true;
}

static void run_strategy(struct stale *s, enum entry_sync_strategy strategy, uint32_t seed)
{
    char name[48];
    ksnprintf(name, sizeof(name), "%s:under_A", entry_sync_strategy_name(strategy));
    if (s->lost[0]) {
        ktap_case(KTAP_SKIP, name, "%s", s->lost);
        return;
    }
    /* Settle on A (from blocked, or from the last strategy's PT->A). */
    struct vtd_write_result r = switch_to(s, &s->a, strategy);
    if (!r.ok || !load_pattern(s, seed, name)) {
        ktap_case(KTAP_FAIL, name, "%s", r.ok ? "cannot load the edu buffer under A" : r.why.text);
        return;
    }
    step(s, NULL, &s->a, strategy, ""); /* checks A alone and primes the IOTLB with A */
    step(s, &s->a, &s->b, strategy, "");
    step(s, &s->b, &s->a, strategy, "");
    if (!s->have_pt)
        return;
    step(s, &s->a, &s->b, strategy, "_again");
    step(s, &s->b, &s->pt, strategy, "");
    step(s, &s->pt, &s->a, strategy, "");
}

/* ---- setup ---------------------------------------------------------------------- */

static bool ensure_translation(struct stale *s)
{
    if (s->u->translating)
        return true;
    s->enabled_here = true;
    return vtd_enable_translation(s->u);
}

/* Domains and entries; false with the reason in why. */
static bool prepare(struct stale *s, struct why *why)
{
    struct vtd_unit *u = s->u;
    /* A and B: second stage, else first stage (catalogue states SS-A/B or
     * FS-A/B; legacy context entries always have the second level). */
    bool ss = !xs_requirement(u, XS_SS_A);
    const char *kind = !s->scalable ? "second-level context entries"
                       : ss         ? "second stage"
                                    : "first stage (ECAP.SLTS=0)";
    if (s->scalable) {
        if (!ss && xs_requirement(u, XS_FS_A))
            return why_set(why,
                           "neither second- nor first-stage translation (ECAP.SLTS=0, FLTS=0)");
        if (vtd_attach_scalable(u, s->sid, 0))
            return why_set(why, "cannot attach the edu (scalable context entry)");
    }
    enum xstate st_a = ss ? XS_SS_A : XS_FS_A, st_b = ss ? XS_SS_B : XS_FS_B;
    if (!ensure_translation(s))
        return why_set(why, "cannot enable translation");
    if (build_domain(s, &s->dom_a, xs_format(st_a), PG_A) ||
        build_domain(s, &s->dom_b, xs_format(st_b), PG_B))
        return why_set(why, "cannot build the two domains");
    make_target(s, &s->a, st_a, &s->dom_a, "A", PG_A);
    make_target(s, &s->b, st_b, &s->dom_b, "B", PG_B);
    s->have_pt = !xs_requirement(u, XS_PT);
    if (s->have_pt)
        make_target(s, &s->pt, XS_PT, NULL, "PT", PG_PT);
    make_target(s, &s->blocked, XS_BLOCKED, NULL, "blocked", NTARGETS);
    ktap_diag("stale: %s mode, %s: A did %u -> %#llx, B did %u -> %#llx, PT -> %#llx, "
              "IOVA %#llx%s",
              s->scalable ? "scalable" : "legacy", kind, s->dom_a.did,
              (unsigned long long)page_phys(s, PG_A), s->dom_b.did,
              (unsigned long long)page_phys(s, PG_B), (unsigned long long)page_phys(s, PG_PT),
              (unsigned long long)s->iova, s->have_pt ? "" : "; no pass-through (ECAP.PT=0)");
    return true;
}

static void suite_stale(void)
{
    static struct stale s;
    struct why why;
    struct pci_dev *d = pci_find_id(EDU_VENDOR, EDU_DEVICE, NULL);
    if (!d) {
        ktap_suite_skip("stale", "no edu device (QEMU -device edu)");
        return;
    }
    memset(&s, 0, sizeof(s));
    s.u = vtd_setup_unit_for(d->seg, d->bus, d->dev, d->fn, &why);
    if (!s.u) {
        vtd_suite_unavailable("stale", why.text);
        return;
    }
    if (!s.u->ops->store128) {
        ktap_suite_skip("stale", "CMPXCHG16B missing (CPUID.01H:ECX.CX16=0): entries cannot "
                                 "be updated atomically");
        return;
    }
    enum edu_status st = edu_init(&s.edu, d);
    if (st != EDU_OK) {
        ktap_suite_skip("stale", edu_status_name(st));
        return;
    }
    /* Below the edu's 28-bit mask: pass-through must reach PG_PT too. */
    s.arena = page_alloc_constrained(ARENA_PAGES, PAGE_SIZE, EDU_DMA_LIMIT);
    if (!s.arena) {
        ktap_suite_skip("stale", "no memory below 256 MiB for the DMA pages");
        return;
    }
    s.arena_phys = virt_to_phys(s.arena);
    s.iova = page_phys(&s, PG_PT);
    s.sid = vtd_sid(d->bus, d->dev, d->fn);
    s.scalable = s.u->mode == VTD_MODE_SCALABLE;

    ktap_suite_begin("stale", -1);
    pt_fastpath_probe();
    if (!prepare(&s, &why)) {
        ktap_case(KTAP_FAIL, "setup", "%s", why.text);
    } else {
        run_strategy(&s, ENTRY_SYNC_STRATEGY_HITLESS, 0x21);
        run_strategy(&s, ENTRY_SYNC_STRATEGY_CLEAR, 0x65);
        step_not_present(&s);
        if (!s.have_pt) {
            ktap_case(KTAP_SKIP, "entry_sync:B->PT", "pass-through not supported (ECAP.PT=0)");
            ktap_case(KTAP_SKIP, "clear:B->PT", "pass-through not supported (ECAP.PT=0)");
        }
        switch_to(&s, &s.blocked, ENTRY_SYNC_STRATEGY_HITLESS);
    }
    if (s.enabled_here)
        vtd_disable_translation(s.u);
    vtd_fault_poll();
    ktap_suite_end();
}

SUITE("stale", 65, suite_stale);
