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
#include "iommu/pasid_write.h"
#include "iommu/vtd.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/page.h"
#include "suites/pt_exit.h"
#include "suites/pt_fastpath.h"
#include "app/run.h"
#include "app/suite.h"
#include "app/vtd_setup.h"

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
static bool arena_intact(struct iso *s, char *why, size_t n)
{
    for (unsigned i = 0; i < ARENA_PAGES; i += 2) {
        if (!all_bytes(page(s, i), CANARY)) {
            ksnprintf(why, n, "canary page %u changed", i);
            return false;
        }
    }
    if (!all_bytes(page(s, PG_RO), RO_FILL)) {
        ksnprintf(why, n, "the read-only page changed");
        return false;
    }
    if (!all_bytes(page(s, PG_SACRIFICE), SACRIFICE_FILL)) {
        ksnprintf(why, n,
                  "DMA reached the physical page behind the unmapped IOVA "
                  "(translation bypassed)");
        return false;
    }
    return true;
}

static bool dma(struct iso *s, bool to_device, uint64_t iova, char *why, size_t n)
{
    enum edu_status st = to_device ? edu_dma_to_device(&s->edu, iova, 0, PAGE_SIZE)
                                   : edu_dma_from_device(&s->edu, iova, 0, PAGE_SIZE);
    if (st != EDU_OK) {
        ksnprintf(why, n, "edu DMA %s %#llx: %s", to_device ? "from" : "to",
                  (unsigned long long)iova, edu_status_name(st));
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

struct xlate {
    const char *name; /* case name prefix */
    bool translated;  /* has page tables: the fault cases apply */
    uint64_t src, dst, ro, unmapped;
};

static void case_roundtrip(struct iso *s, const struct xlate *x)
{
    char name[48], why[128];
    ksnprintf(name, sizeof(name), "%s_dma_roundtrip", x->name);
    if (skip_if_lost(s, name))
        return;
    fill_arena(s, 0x11 + x->src);
    uint32_t mark = vtd_fault_seq();
    if (!dma(s, true, x->src, why, sizeof(why)) || !dma(s, false, x->dst, why, sizeof(why))) {
        ktap_case(KTAP_FAIL, name, "%s", why);
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
    if (!arena_intact(s, why, sizeof(why))) {
        ktap_case(KTAP_FAIL, name, "%s", why);
        return;
    }
    ktap_case(KTAP_PASS, name, NULL);
}

/* A DMA write to iova must fault with a reason of class a or b and leave
 * memory alone. */
static void case_write_faults(struct iso *s, const struct xlate *x, const char *what, uint64_t iova,
                              enum vtd_fault_class a, enum vtd_fault_class b)
{
    char name[48], why[128];
    ksnprintf(name, sizeof(name), "%s_%s_write_faults", x->name, what);
    if (skip_if_lost(s, name))
        return;
    fill_arena(s, 0x77);
    uint32_t mark = vtd_fault_seq();
    if (!dma(s, false, iova, why, sizeof(why))) {
        ktap_case(KTAP_FAIL, name, "%s", why);
        return;
    }
    vtd_fault_poll();
    struct vtd_fault_record r[4];
    unsigned n = vtd_faults_since(mark, s->sid, r, 4);
    if (!arena_intact(s, why, sizeof(why))) {
        ktap_case(KTAP_FAIL, name, "%s", why);
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

static void run_type(struct iso *s, const struct xlate *x)
{
    case_roundtrip(s, x);
    if (!x->translated)
        return;
    case_write_faults(s, x, "unmapped", x->unmapped, VTD_FAULT_NOT_PRESENT, VTD_FAULT_WRITE_DENIED);
    case_write_faults(s, x, "readonly", x->ro, VTD_FAULT_WRITE_DENIED, VTD_FAULT_WRITE_DENIED);
}

static void skip_type(const char *prefix, const char *reason)
{
    char name[48];
    ksnprintf(name, sizeof(name), "%s_dma_roundtrip", prefix);
    ktap_case(KTAP_SKIP, name, "%s", reason);
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

static struct xlate translated(const char *name, struct iso *s)
{
    struct xlate x = {.name = name,
                      .translated = true,
                      .src = s->iova_base,
                      .dst = s->iova_base + 0x2000,
                      .ro = s->iova_base + 0x4000,
                      .unmapped = page_phys(s, PG_SACRIFICE)};
    return x;
}

static struct xlate identity(const char *name, struct iso *s)
{
    struct xlate x = {.name = name, .src = page_phys(s, PG_SRC), .dst = page_phys(s, PG_DST)};
    return x;
}

static bool install_pasid(struct iso *s, const struct pasid_entry *e, const char *what)
{
    struct vtd_write_result r =
        vtd_pasid_write(s->u, s->sid, vtd_rid_pasid(s->u, s->sid), e, ENTRY_SYNC_STRATEGY_HITLESS);
    ktap_diag("isolation: RID_PASID entry -> %s: %s, %u sync(s), %u descriptor(s), %llu cycles%s%s",
              what, entry_sync_class_name(r.es.cls), r.syncs, r.descriptors,
              (unsigned long long)r.cycles, r.ok ? "" : ": ", r.ok ? "" : r.error);
    return r.ok;
}

static bool install_context(struct iso *s, const struct legacy_context_entry *e, const char *what)
{
    struct vtd_write_result r = vtd_context_write(s->u, s->sid, e, ENTRY_SYNC_STRATEGY_HITLESS);
    ktap_diag("isolation: context entry -> %s: %s, %u sync(s), %u descriptor(s)%s%s", what,
              entry_sync_class_name(r.es.cls), r.syncs, r.descriptors, r.ok ? "" : ": ",
              r.ok ? "" : r.error);
    return r.ok;
}

static bool ensure_translation(struct iso *s)
{
    if (s->u->translating)
        return true;
    s->enabled_here = true;
    return vtd_enable_translation(s->u);
}

/* After pass-through, back to the translating domain `back` (NULL: the
 * case cannot run, skip_why says why): a write to an IOVA back does not map
 * must fault; it aims at vtdsync's poisoned probe page, so a unit stuck in
 * pass-through writes only there (suites/pt_exit.h). */
static void case_pt_exit(struct iso *s, const struct vtd_domain *back, const char *skip_why)
{
    if (!back) {
        ktap_case(KTAP_SKIP, "edu_pt_exit_translates", "%s", skip_why);
        return;
    }
    char why[128];
    struct pt_exit_probe p;
    uint64_t limit = vtd_iova_limit(s->u) < EDU_DMA_LIMIT ? vtd_iova_limit(s->u) : EDU_DMA_LIMIT;
    if (!pt_exit_probe_alloc(&p, limit, &back->pt, why, sizeof(why))) {
        ktap_case(KTAP_FAIL, "edu_pt_exit_translates", "%s", why);
        return;
    }
    uint32_t mark = vtd_fault_seq();
    bool sent = dma(s, false, pt_exit_iova(&p), why, sizeof(why));
    vtd_fault_poll();
    unsigned n = vtd_faults_since(mark, s->sid, NULL, 0);
    pt_exit_report(&p, "edu_pt_exit_translates", "edu DMA write", n, sent ? NULL : why,
                   vtd_options.pt_ctx_flush);
    pt_exit_probe_free(&p);
}

/* edu_pt_exit_translates, unless the edu stopped answering. */
static void pt_exit_case(struct iso *s, const struct vtd_domain *back, const char *skip_why)
{
    if (!skip_if_lost(s, "edu_pt_exit_translates"))
        case_pt_exit(s, back, skip_why);
}

/* A type with page tables through the RID_PASID entry; false when it did
 * not run (unsupported or could not be set up). */
static bool run_paged(struct iso *s, struct vtd_domain *d, bool supported, enum pgtable_format f,
                      const char *prefix, const char *what, const char *unsupported)
{
    char name[48];
    struct pasid_entry e;
    ksnprintf(name, sizeof(name), "%s_dma_roundtrip", prefix);
    if (!supported) {
        skip_type(prefix, unsupported);
        return false;
    }
    if (build_domain(s, d, f)) {
        ktap_case(KTAP_FAIL, name, "cannot build the %s domain", what);
        return false;
    }
    vtd_domain_pasid_entry(d, &e);
    struct xlate x = translated(prefix, s);
    if (!install_pasid(s, &e, what)) {
        ktap_case(KTAP_FAIL, name, "PASID entry update failed");
        return false;
    }
    run_type(s, &x);
    return true;
}

static void run_scalable(struct iso *s)
{
    struct vtd_unit *u = s->u;
    struct pasid_entry e;
    struct vtd_domain ss, fs;
    bool have_ss = u->caps.slts, have_fs = u->caps.flts, have_pt = u->caps.pt;
    struct xlate x;

    if (vtd_attach_scalable(u, s->sid, 0) || !ensure_translation(s)) {
        ktap_case(KTAP_FAIL, "attach", "scalable context entry or translation enable failed");
        return;
    }
    have_ss = run_paged(s, &ss, have_ss, PGTABLE_SECOND_STAGE, "ss", "SS",
                        "second-stage translation not supported (ECAP.SLTS=0)");
    have_fs = run_paged(s, &fs, have_fs, PGTABLE_FIRST_STAGE, "fs", "FS",
                        "first-stage translation not supported (ECAP.FLTS=0)");
    if (!have_pt) {
        skip_type("pt", "pass-through not supported (ECAP.PT=0)");
    } else {
        struct pasid_entry_cfg c = {.did = vtd_alloc_did(u), .aw = vtd_unit_aw(u)};
        vtd_pasid_snoop(u, &c);
        pasid_entry_build_pt(&e, &c);
        x = identity("pt", s);
        if (install_pasid(s, &e, "PT"))
            run_type(s, &x);
        else
            ktap_case(KTAP_FAIL, "pt_dma_roundtrip", "PASID entry update failed");
    }
    ktap_case(KTAP_SKIP, "nested_dma_roundtrip", "%s",
              u->caps.nest ? "nested translation not exercised by this suite yet"
                           : "nested translation not supported (ECAP.NEST=0)");
    /* Leave pass-through for a translating domain, then check. */
    const struct vtd_domain *back = NULL;
    if (have_pt && (have_ss || have_fs)) {
        vtd_domain_pasid_entry(have_ss ? &ss : &fs, &e);
        if (install_pasid(s, &e, have_ss ? "SS after PT" : "FS after PT"))
            back = have_ss ? &ss : &fs;
    }
    pt_exit_case(s, back,
                 have_pt ? "no translating type to return to" : "no pass-through (ECAP.PT=0)");
    pasid_entry_build_blocked(&e);
    install_pasid(s, &e, "blocked");
}

static void run_legacy(struct iso *s)
{
    struct vtd_unit *u = s->u;
    struct vtd_domain ss;
    struct legacy_context_entry ce;
    struct xlate x;
    if (!ensure_translation(s) || build_domain(s, &ss, PGTABLE_SECOND_STAGE)) {
        ktap_case(KTAP_FAIL, "attach", "translation enable or domain failed");
        return;
    }
    struct legacy_context_cfg c = {.slptptr = pgtable_root(&ss.pt),
                                   .did = ss.did,
                                   .aw = vtd_aw_for_levels(ss.pt.params.levels),
                                   .tt = LEGACY_TT_UNTRANSLATED};
    legacy_context_build(&ce, &c);
    x = translated("legacy_ss", s);
    if (install_context(s, &ce, "second-level"))
        run_type(s, &x);
    else
        ktap_case(KTAP_FAIL, "legacy_ss_dma_roundtrip", "context entry update failed");
    const struct vtd_domain *back = NULL;
    if (!u->caps.pt) {
        skip_type("legacy_pt", "pass-through not supported (ECAP.PT=0)");
    } else {
        struct legacy_context_cfg p = {
            .did = vtd_alloc_did(u), .aw = c.aw, .tt = LEGACY_TT_PASS_THROUGH};
        legacy_context_build(&ce, &p);
        x = identity("legacy_pt", s);
        if (install_context(s, &ce, "pass-through"))
            run_type(s, &x);
        else
            ktap_case(KTAP_FAIL, "legacy_pt_dma_roundtrip", "context entry update failed");
        legacy_context_build(&ce, &c);
        if (install_context(s, &ce, "second-level after PT"))
            back = &ss;
    }
    pt_exit_case(s, back, "no pass-through (ECAP.PT=0)");
    legacy_context_build_blocked(&ce);
    install_context(s, &ce, "blocked");
}

static void suite_isolation(void)
{
    static struct iso s;
    const char *why;
    struct pci_dev *d = pci_find_id(EDU_VENDOR, EDU_DEVICE, NULL);
    if (!d) {
        ktap_suite_skip("isolation", "no edu device (QEMU -device edu)");
        return;
    }
    s.u = vtd_setup_unit_for(d->seg, d->bus, d->dev, d->fn, &why);
    if (!s.u) {
        vtd_suite_unavailable("isolation", why);
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
    if (s.u->mode == VTD_MODE_SCALABLE)
        run_scalable(&s);
    else
        run_legacy(&s);
    if (s.enabled_here)
        vtd_disable_translation(s.u);
    vtd_fault_poll();
    ktap_suite_end();
}

SUITE("isolation", 40, suite_isolation);
