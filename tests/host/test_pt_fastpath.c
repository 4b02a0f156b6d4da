// HOST-DEPS: lib/printf.c lib/why.c lib/ktap.c lib/config.c lib/parse.c suites/pt_fastpath.c
/* The pass-through fast-path probe against a fake device and unit: one
 * case per run, failed with the workaround switched on when a DMA after
 * leaving pass-through lands, XFAIL with quirk=pt_ctx_flush, ok when it
 * faults, a skip when pass-through DMA itself does not land, nothing in
 * legacy mode; the workaround is held off while the probe leaves PT, and
 * after a deviation the device goes through PT once more with it on. */
#include "iommu/fault.h"
#include "iommu/vtd.h"
#include "lib/config.h"
#include "lib/ktap.h"
#include "lib/page.h"
#include "tests/host/capture.h"
#include "tests/host/check.h"
#include "suites/pt_fastpath.h"
#include "app/run.h"

#include <stdlib.h>
#include <string.h>

CHECK_STATE_DEFINE;

struct vtd_options vtd_options;
struct config cfg;

/* line (without its newline) is one whole line of the output. */
static bool has_line(const char *line)
{
    size_t n = strlen(line);
    for (const char *p = out; (p = strstr(p, line)) != NULL; p++)
        if ((p == out || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

/* ---- the engine the probe uses ---------------------------------------------- */

#define SID 0x18
static uint32_t fault_seq;
static uint32_t fault_at[64]; /* seq -> sid + 1 */

uint32_t vtd_fault_seq(void)
{
    return fault_seq;
}

void vtd_fault_poll(void)
{
}

unsigned vtd_faults_since(uint32_t since, int sid, struct vtd_fault_record *out, unsigned max)
{
    (void)out;
    (void)max;
    unsigned n = 0;
    for (uint32_t s = since + 1; s <= fault_seq; s++)
        n += sid < 0 || fault_at[s % 64] == (uint32_t)sid + 1;
    return n;
}

void *page_alloc_constrained(uint64_t n, uint64_t align, uint64_t limit)
{
    (void)limit;
    void *p = aligned_alloc(align, n * PAGE_SIZE);
    if (p)
        memset(p, 0, n * PAGE_SIZE);
    return p;
}

void page_free(void *p, uint64_t n)
{
    (void)n;
    free(p);
}

/* ---- a fake device behind a fake unit --------------------------------------- */

struct fake {
    bool deviates;    /* the platform keeps a fast path after PT */
    bool pt_broken;   /* DMA in pass-through goes nowhere */
    bool in_pt, fast; /* entry is PT; the fast path is in use */
    int to_pt, to_translating;
    bool flush_first; /* vtd_options.pt_ctx_flush at the first to_translating */
};

static bool fake_to_pt(void *ctx)
{
    struct fake *f = ctx;
    f->to_pt++;
    f->in_pt = f->fast = true;
    return true;
}

static bool fake_to_translating(void *ctx)
{
    struct fake *f = ctx;
    if (!f->to_translating++)
        f->flush_first = vtd_options.pt_ctx_flush;
    f->in_pt = false;
    if (!f->deviates || vtd_options.pt_ctx_flush)
        f->fast = false; /* a context-cache invalidation, or a unit that follows the spec */
    return true;
}

static bool fake_write(void *ctx, uint64_t phys)
{
    struct fake *f = ctx;
    if (f->in_pt && f->pt_broken)
        return true;
    if (f->in_pt || f->fast) {
        memset(phys_to_virt(phys), 0x5a, PAGE_SIZE);
        return true;
    }
    fault_at[++fault_seq % 64] = SID + 1;
    return true;
}

static void fake_store128(void *ctx, volatile uint64_t *p, const uint64_t *v)
{
    (void)ctx;
    p[0] = v[0];
    p[1] = v[1];
}

static struct vtd_ops ops = {.store128 = fake_store128};
static struct vtd_unit unit;

static void run(struct fake *f, bool quirk, enum vtd_mode mode)
{
    memset(&unit, 0, sizeof(unit));
    unit.mode = mode;
    unit.caps.pt = unit.caps.slts = true;
    unit.ops = &ops;
    config_defaults(&cfg);
    if (quirk)
        config_apply(&cfg, "quirk=pt_ctx_flush", "test");
    vtd_options.pt_ctx_flush = quirk;
    struct pt_fastpath_dev d = {
        .name = "fake",
        .translating = "SS",
        .u = &unit,
        .sid = SID,
        .ctx = f,
        .to_pt = fake_to_pt,
        .to_translating = fake_to_translating,
        .write = fake_write,
    };
    pt_fastpath_reset();
    ktap_reset();
    start_capture();
    ktap_suite_begin("s", -1);
    pt_fastpath_probe_with(&d);
    pt_fastpath_probe_with(&d); /* once per run */
    ktap_suite_end();
    stop_capture();
}

static int cases(void)
{
    int n = 0;
    for (const char *p = out; (p = strstr(p, PT_FASTPATH_CASE "\n")) != NULL; p++)
        n++;
    for (const char *p = out; (p = strstr(p, PT_FASTPATH_CASE " #")) != NULL; p++)
        n++;
    return n;
}

TEST(deviation_fails_once_and_applies_the_workaround)
{
    struct fake f = {.deviates = true};
    run(&f, false, VTD_MODE_SCALABLE);
    CHECK(has_line("    not ok 1 pt_fastpath_after_pt_exit"), "%s", out);
    CHECK(strstr(out, "reached that physical page and raised 0 fault(s)"), "%s", out);
    CHECK(strstr(out, "workaround applied for the rest of the run"), "%s", out);
    CHECK(cases() == 1, "%d cases:\n%s", cases(), out);
    CHECK(vtd_options.pt_ctx_flush, "workaround on");
    CHECK(!f.flush_first, "the probe's own PT exit ran without the workaround");
    CHECK(f.to_pt == 2 && f.to_translating == 2 && !f.fast,
          "PT once more with the workaround: %d/%d fast %d", f.to_pt, f.to_translating, f.fast);
}

TEST(acknowledged_deviation_is_xfail)
{
    struct fake f = {.deviates = true};
    run(&f, true, VTD_MODE_SCALABLE);
    CHECK(strstr(out, "    ok 1 pt_fastpath_after_pt_exit # XFAIL known deviation"), "%s", out);
    CHECK(!strstr(out, "not ok"), "%s", out);
    CHECK(cases() == 1, "%d cases:\n%s", cases(), out);
    CHECK(!f.flush_first, "held off while probing, although the quirk is on");
    CHECK(vtd_options.pt_ctx_flush && !f.fast, "quirk still on, fast path gone");
}

TEST(platform_that_translates_passes)
{
    struct fake f = {.deviates = false};
    run(&f, false, VTD_MODE_SCALABLE);
    CHECK(has_line("    ok 1 pt_fastpath_after_pt_exit"), "%s", out);
    CHECK(!vtd_options.pt_ctx_flush, "no workaround where none is needed");
    CHECK(cases() == 1 && f.to_pt == 1, "%d cases, %d PT writes", cases(), f.to_pt);
}

TEST(pass_through_dma_that_does_not_land_skips)
{
    struct fake f = {.deviates = true, .pt_broken = true};
    run(&f, false, VTD_MODE_SCALABLE);
    CHECK(strstr(out, "ok 1 pt_fastpath_after_pt_exit # SKIP cannot probe: a "
                      "pass-through DMA of the fake did not land"),
          "%s", out);
    CHECK(!vtd_options.pt_ctx_flush, "no workaround without evidence");
}

TEST(legacy_mode_says_nothing)
{
    struct fake f = {.deviates = true};
    run(&f, false, VTD_MODE_LEGACY);
    CHECK(cases() == 0 && f.to_pt == 0, "%s", out);
    CHECK(pt_fastpath_pending(), "still pending for a unit that can be probed");
}

int main(void)
{
    RUN(deviation_fails_once_and_applies_the_workaround);
    RUN(acknowledged_deviation_is_xfail);
    RUN(platform_that_translates_passes);
    RUN(pass_through_dma_that_does_not_land_skips);
    RUN(legacy_mode_says_nothing);
    return check_finish();
}
