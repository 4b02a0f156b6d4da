// HOST-DEPS: suites/pt_exit.c lib/printf.c lib/ktap.c lib/page.c lib/alloc.c iommu/pgtable.c iommu/pgtable_walk.c lib/why.c
/* The pt_exit probe (suites/pt_exit.c) touches no memory outside vtdsync's
 * own pages.  Host memory stands in for the firmware's identity-mapped RAM:
 * the page allocator hands out pointers of an arena, so "physical address"
 * and pointer are the same, as on the machine.  A unit stuck in
 * pass-through is modelled by writing the DMA's data at the physical
 * address equal to the IOVA; a correct unit writes nothing and records a
 * fault.  Checked: the IOVA is the target page inside the arena, between
 * two guards; the stuck unit's write is caught as the finding and lands
 * only there; a spill into a guard is reported; a correct unit passes; no
 * fault and no write fails; IOVAs that are unaligned, too high or mapped by
 * the domain are refused, and the allocator steps past a mapped candidate
 * without leaking it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/fault.h"
#include "iommu/pgtable.h"
#include "iommu/vtd.h"
#include "lib/alloc.h"
#include "lib/ktap.h"
#include "lib/page.h"
#include "lib/printf.h"
#include "tests/host/capture.h"
#include "tests/host/check.h"
#include "tests/host/pgtable_testmem.h"
#include "suites/pt_exit.h"

CHECK_STATE_DEFINE;

/* The unit's fault log, as pt_exit_run reads it: a sequence number per
 * recorded fault and the source id of the latest ones. */
struct vtd_options vtd_options;
static uint32_t fault_seq;
static uint16_t fault_sid[16];
static unsigned polls;

uint32_t vtd_fault_seq(void)
{
    return fault_seq;
}

void vtd_fault_poll(void)
{
    polls++;
}

unsigned vtd_faults_since(uint32_t since, int sid, struct vtd_fault_record *out, unsigned max)
{
    (void)out;
    (void)max;
    unsigned n = 0;
    for (uint32_t s = since + 1; s <= fault_seq; s++)
        n += sid < 0 || fault_sid[s % 16] == sid;
    return n;
}

static void record_fault(uint16_t sid)
{
    fault_sid[++fault_seq % 16] = sid;
}

#define ARENA_BYTES (64u * 4096u)
static uint8_t *arena;

static void fresh(void)
{
    alloc_reset();
    memset(arena, 0xee, ARENA_BYTES);
    alloc_add_free((uint64_t)(uintptr_t)arena, ARENA_BYTES);
    start_capture();
    ktap_reset();
}

static bool in_arena(uint64_t pa, uint64_t len)
{
    uint64_t a = (uint64_t)(uintptr_t)arena;
    return pa >= a && pa + len <= a + ARENA_BYTES;
}

/* A unit stuck in pass-through: the device's write reaches physical
 * address = IOVA. */
static void stuck_unit_write(uint64_t iova, const void *data, size_t len)
{
    CHECK(in_arena(iova, len), "the stuck unit's write at %#llx+%zu leaves vtdsync's memory",
          (unsigned long long)iova, len);
    if (in_arena(iova, len))
        memcpy((void *)(uintptr_t)iova, data, len);
}

static struct tmem mem;
static struct pgtable back;

static void back_init(void)
{
    struct tcfg c = {"ss4", PGTABLE_SECOND_STAGE, 4, 0, false, false, 0};
    struct pgtable_params p = tcfg_params(&c, 48);
    tmem_init(&mem, 64);
    struct pgtable_mem_ops ops = tmem_ops(&mem);
    CHECK(pgtable_init(&back, &p, &ops) == PGTABLE_OK, "domain table");
}

static void back_fini(void)
{
    pgtable_destroy(&back);
    tmem_fini(&mem);
}

TEST(probe_is_our_target_between_guards)
{
    fresh();
    back_init();
    struct pt_exit_probe p;
    struct why why;
    CHECK(pt_exit_probe_alloc(&p, 1ull << 48, &back, &why), "alloc: %s", why.text);
    uint64_t iova = pt_exit_iova(&p);
    CHECK_EQ_U64(iova, (uint64_t)(uintptr_t)(p.va + PAGE_SIZE));
    CHECK(in_arena(p.phys, PT_EXIT_PAGES * PAGE_SIZE), "probe pages outside the arena");
    CHECK(!alloc_is_free(p.phys, PT_EXIT_PAGES * PAGE_SIZE), "probe pages still free");
    struct pt_exit_damage d = pt_exit_check(&p);
    CHECK(d.target_bytes == 0 && d.guard_bytes == 0, "fresh probe damaged: %u/%u",
          d.target_bytes, d.guard_bytes);
    /* The poison is not a constant fill: device data of zeros or of a
     * repeated byte cannot pass for it. */
    uint64_t w0, w1;
    memcpy(&w0, p.va + PAGE_SIZE, 8);
    memcpy(&w1, p.va + PAGE_SIZE + 8, 8);
    CHECK(w0 != w1 && w0 != 0, "poison words %#llx %#llx", (unsigned long long)w0,
          (unsigned long long)w1);
    pt_exit_probe_free(&p);
    CHECK(alloc_is_free((uint64_t)(uintptr_t)arena, ARENA_BYTES), "probe pages leaked");
    back_fini();
}

TEST(correct_unit_passes)
{
    fresh();
    back_init();
    struct pt_exit_probe p;
    struct why why;
    CHECK(pt_exit_probe_alloc(&p, 1ull << 48, &back, &why), "alloc: %s", why.text);
    /* faulted, wrote nothing */
    pt_exit_report(&p, "pt_exit_translates", "NVMe read", 1, NULL, false);
    CHECK(strstr(out, "ok 1 pt_exit_translates\n") && !strstr(out, "not ok"), "%s", out);
    CHECK(strstr(out, "0 of 4096 target bytes written, 0 guard bytes"), "%s", out);
    pt_exit_probe_free(&p);
    back_fini();
}

TEST(stuck_unit_is_the_finding_and_lands_only_in_the_target)
{
    fresh();
    back_init();
    struct pt_exit_probe p;
    struct why why;
    CHECK(pt_exit_probe_alloc(&p, 1ull << 48, &back, &why), "alloc: %s", why.text);
    uint8_t data[4096];
    memset(data, 0, sizeof(data)); /* an empty disk block */
    stuck_unit_write(pt_exit_iova(&p), data, sizeof(data));
    struct pt_exit_damage d = pt_exit_check(&p);
    CHECK(d.target_bytes > 4000 && d.guard_bytes == 0, "damage %u/%u", d.target_bytes,
          d.guard_bytes);
    pt_exit_report(&p, "pt_exit_translates", "NVMe read", 0, NULL, true);
    CHECK(strstr(out, "not ok 1 pt_exit_translates"), "%s", out);
    CHECK(strstr(out, "finding: after leaving pass-through DMA is still untranslated"), "%s", out);
    CHECK(strstr(out, "(already on: it did not help)"), "%s", out);
    pt_exit_probe_free(&p);
    back_fini();
}

TEST(one_byte_is_enough)
{
    fresh();
    struct pt_exit_probe p;
    struct why why;
    CHECK(pt_exit_probe_alloc(&p, 1ull << 48, NULL, &why), "alloc: %s", why.text);
    uint8_t b = (uint8_t)~p.va[PAGE_SIZE + 100];
    stuck_unit_write(pt_exit_iova(&p) + 100, &b, 1);
    /* faults too: still a finding */
    pt_exit_report(&p, "pt_exit_translates", "edu DMA write", 3, NULL, false);
    CHECK(strstr(out, "wrote 1 byte(s)") && strstr(out, "not ok 1"), "%s", out);
    pt_exit_probe_free(&p);
}

TEST(spill_into_a_guard_is_reported)
{
    fresh();
    struct pt_exit_probe p;
    struct why why;
    CHECK(pt_exit_probe_alloc(&p, 1ull << 48, NULL, &why), "alloc: %s", why.text);
    uint8_t data[8] = {0};
    stuck_unit_write(pt_exit_iova(&p) + PAGE_SIZE, data, sizeof(data));
    struct pt_exit_damage d = pt_exit_check(&p);
    CHECK(d.guard_bytes > 0 && d.target_bytes == 0, "damage %u/%u", d.target_bytes,
          d.guard_bytes);
    pt_exit_report(&p, "pt_exit_translates", "NVMe read", 1, NULL, false);
    CHECK(strstr(out, "of the guard pages") && strstr(out, "not ok 1"), "%s", out);
    pt_exit_probe_free(&p);
}

TEST(no_fault_and_no_write_fails)
{
    fresh();
    struct pt_exit_probe p;
    struct why why;
    CHECK(pt_exit_probe_alloc(&p, 1ull << 48, NULL, &why), "alloc: %s", why.text);
    pt_exit_report(&p, "pt_exit_translates", "NVMe read", 0, NULL, false);
    CHECK(strstr(out, "raised no fault although it did not land") && strstr(out, "not ok 1"),
          "%s", out);
    start_capture();
    ktap_reset();
    pt_exit_report(&p, "pt_exit_translates", "edu DMA write", 1, "edu DMA to 0x1000: timeout", false);
    CHECK(strstr(out, "not ok 1 pt_exit_translates # edu DMA to 0x1000: timeout") ||
          strstr(out, "edu DMA to 0x1000: timeout"), "%s", out);
    CHECK(strstr(out, "not ok 1"), "%s", out);
    pt_exit_probe_free(&p);
}

TEST(iova_choice)
{
    back_init();
    uint64_t mapped = 0x12345000;
    CHECK(pgtable_map(&back, mapped, 0x9000000, PAGE_SIZE, PGTABLE_R | PGTABLE_W) == PGTABLE_OK,
          "map");
    CHECK(pt_exit_iova_usable(0x20000000, 1ull << 39, &back, NULL), "a free page refused");
    CHECK(!pt_exit_iova_usable(0x20000800, 1ull << 39, &back, NULL), "unaligned accepted");
    CHECK(!pt_exit_iova_usable(1ull << 28, 1ull << 28, &back, NULL), "at the limit accepted");
    CHECK(pt_exit_iova_usable((1ull << 28) - PAGE_SIZE, 1ull << 28, &back, NULL),
          "last page below the limit refused");
    CHECK(!pt_exit_iova_usable(mapped, 1ull << 39, &back, NULL), "a mapped page accepted");
    back_fini();
}

/* The allocator's first candidate is mapped by the domain: the probe takes
 * another and gives the rejected one back. */
TEST(mapped_candidate_is_skipped)
{
    fresh();
    back_init();
    struct pt_exit_probe p;
    struct why why;
    CHECK(pt_exit_probe_alloc(&p, 1ull << 48, NULL, &why), "alloc: %s", why.text);
    uint64_t first = pt_exit_iova(&p);
    pt_exit_probe_free(&p);
    CHECK(pgtable_map(&back, first, 0x9000000, PAGE_SIZE, PGTABLE_R | PGTABLE_W) == PGTABLE_OK,
          "map");
    CHECK(pt_exit_probe_alloc(&p, 1ull << 48, &back, &why), "alloc: %s", why.text);
    CHECK(pt_exit_iova(&p) != first, "the mapped candidate was used");
    CHECK(pt_exit_iova_usable(pt_exit_iova(&p), 1ull << 48, &back, NULL), "probe mapped");
    pt_exit_probe_free(&p);
    CHECK(alloc_is_free((uint64_t)(uintptr_t)arena, ARENA_BYTES), "rejected pages leaked");
    back_fini();
}

TEST(no_page_below_the_limit)
{
    fresh();
    struct pt_exit_probe p;
    struct why why;
    CHECK(!pt_exit_probe_alloc(&p, (uint64_t)(uintptr_t)arena, NULL, &why),
          "a probe above the limit");
    CHECK(strstr(why.text, "pt_exit probe: ") != NULL, "why: %s", why.text);
}

/* pt_exit_run's device: a correct unit faults the write (for the
 * device's source id), a stuck one lets it land at physical = IOVA. */
struct fake_dev {
    bool stuck, refuse;
    int status;
    uint16_t sid;
    uint64_t iova;
};

static int fake_send(void *ctx, uint64_t iova, struct why *why)
{
    struct fake_dev *d = ctx;
    d->iova = iova;
    if (d->refuse) {
        why_set(why, "edu DMA to %#llx: timeout", (unsigned long long)iova);
        return -1;
    }
    if (d->stuck) {
        uint8_t data[64] = {0};
        stuck_unit_write(iova, data, sizeof(data));
    } else {
        record_fault(0x0123); /* another device's fault does not count */
        record_fault(d->sid);
    }
    return d->status;
}

static void run_with(struct fake_dev *d, const struct pgtable *back)
{
    fresh();
    polls = 0;
    struct pt_exit_dma x = {.name = "pt_exit_translates",
                            .dma = "NVMe read",
                            .sid = d->sid,
                            .limit = 1ull << 48,
                            .back = back,
                            .send = fake_send,
                            .ctx = d};
    pt_exit_run(&x);
}

TEST(run_correct_unit_passes_and_frees_the_probe)
{
    back_init();
    struct fake_dev d = {.sid = 0x0800, .status = 1};
    run_with(&d, &back);
    CHECK(strstr(out, "ok 1 pt_exit_translates\n") && !strstr(out, "not ok"), "%s", out);
    CHECK(strstr(out, ": 1 fault(s), 0 of 4096 target bytes"), "%s", out);
    CHECK(in_arena(d.iova, PAGE_SIZE), "IOVA %#llx is not vtdsync's page",
          (unsigned long long)d.iova);
    CHECK(polls > 0, "faults counted without polling the unit");
    CHECK(alloc_is_free((uint64_t)(uintptr_t)arena, ARENA_BYTES), "probe pages leaked");
    back_fini();
}

TEST(run_stuck_unit_is_the_finding)
{
    struct fake_dev d = {.sid = 0x0800, .stuck = true};
    vtd_options.pt_ctx_flush = true;
    run_with(&d, NULL);
    vtd_options.pt_ctx_flush = false;
    CHECK(strstr(out, "# pt_exit_translates: finding") &&
              strstr(out, "not ok 1 pt_exit_translates"),
          "%s", out);
    CHECK(strstr(out, "(already on: it did not help)"), "%s", out);
}

TEST(run_success_on_a_faulted_dma_is_said)
{
    struct fake_dev d = {.sid = 0x0800, .status = 0};
    run_with(&d, NULL);
    CHECK(strstr(out, "reported success although its DMA faulted"), "%s", out);
    CHECK(strstr(out, "ok 1 pt_exit_translates\n"), "%s", out);
}

TEST(run_dma_refused_fails_with_its_reason)
{
    struct fake_dev d = {.sid = 0x0800, .refuse = true};
    run_with(&d, NULL);
    CHECK(strstr(out, "# pt_exit_translates: edu DMA to 0x") &&
              strstr(out, "not ok 1 pt_exit_translates"),
          "%s", out);
}

TEST(run_without_a_probe_fails)
{
    fresh();
    struct fake_dev d = {.sid = 0x0800};
    struct pt_exit_dma x = {.name = "edu_pt_exit_translates",
                            .dma = "edu DMA write",
                            .limit = (uint64_t)(uintptr_t)arena,
                            .send = fake_send,
                            .ctx = &d};
    pt_exit_run(&x);
    CHECK(strstr(out, "# edu_pt_exit_translates: pt_exit probe: ") &&
              strstr(out, "not ok 1 edu_pt_exit_translates"),
          "%s", out);
    CHECK(d.iova == 0, "DMA sent without a probe");
}

int main(void)
{
    arena = aligned_alloc(4096, ARENA_BYTES);
    if (!arena)
        return 2;
    start_capture();
    RUN(probe_is_our_target_between_guards);
    RUN(correct_unit_passes);
    RUN(stuck_unit_is_the_finding_and_lands_only_in_the_target);
    RUN(one_byte_is_enough);
    RUN(spill_into_a_guard_is_reported);
    RUN(no_fault_and_no_write_fails);
    RUN(iova_choice);
    RUN(mapped_candidate_is_skipped);
    RUN(no_page_below_the_limit);
    RUN(run_correct_unit_passes_and_frees_the_probe);
    RUN(run_stuck_unit_is_the_finding);
    RUN(run_success_on_a_faulted_dma_is_said);
    RUN(run_dma_refused_fails_with_its_reason);
    RUN(run_without_a_probe_fails);
    free(arena);
    return check_finish();
}
