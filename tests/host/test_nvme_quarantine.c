// HOST-DEPS: drivers/nvme_quarantine.c drivers/dma.c lib/page.c lib/alloc.c lib/printf.c lib/ktap.c
/* The quarantine for reset NVMe controllers' memory
 * (drivers/nvme_quarantine.c), on the real page allocator over a host
 * arena (a pointer is the "physical address", as on the machine).
 * Checked: retired memory is poisoned and handed back only once both
 * rules hold (NVMEQ_GENERATIONS later retirements and NVMEQ_HOLD_US), not
 * on either alone; a write into held memory is reported once, with its
 * address and generation, and that region is never handed back while the
 * others are; the quarantine stays within its page and slot bounds by
 * handing back its oldest regions early, checked, and says so once; past
 * eight findings, further ones are counted, not printed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/dma.h"
#include "drivers/nvme_quarantine.h"
#include "lib/alloc.h"
#include "lib/ktap.h"
#include "lib/page.h"
#include "lib/printf.h"
#include "tests/host/capture.h"
#include "tests/host/check.h"

CHECK_STATE_DEFINE;

#define ARENA_PAGES 6000u
#define SEC 1000000ull
static uint8_t *arena;

static void fresh(void)
{
    nvmeq_forget();
    alloc_reset();
    alloc_add_free((uint64_t)(uintptr_t)arena, (uint64_t)ARENA_PAGES * PAGE_SIZE);
    start_capture();
    ktap_reset();
}

/* A pool of n regions of `pages` each, as a controller's would be. */
static void make_pool(struct dma_pool *p, unsigned n, uint64_t pages)
{
    dma_pool_init(p, NULL, 0);
    for (unsigned i = 0; i < n; i++) {
        uint64_t iova;
        CHECK(dma_pool_alloc(p, pages, &iova) != NULL, "allocation %u", i);
    }
}

static bool region_free(const struct dma_region *r)
{
    return alloc_is_free(r->phys, r->len);
}

static unsigned count_in_out(const char *what)
{
    unsigned n = 0;
    for (const char *p = out; (p = strstr(p, what)); p++)
        n++;
    return n;
}

static uint64_t used_pages(void)
{
    struct alloc_stats s;
    alloc_get_stats(&s);
    return s.used_pages;
}

/* Retire `n` small pools at time `now` (later generations). */
static void retire_others(unsigned n, uint64_t now)
{
    for (unsigned i = 0; i < n; i++) {
        struct dma_pool p;
        make_pool(&p, 1, 1);
        nvmeq_retire(&p, now);
    }
}

/* Retire a new pool of n regions of `pages` at `now`; keep[] gets them. */
static void retire_new(struct dma_region *keep, unsigned n, uint64_t pages, uint64_t now)
{
    struct dma_pool a;
    make_pool(&a, n, pages);
    memcpy(keep, a.regions, n * sizeof(*keep));
    nvmeq_retire(&a, now);
    CHECK(a.count == 0, "the pool is left empty");
}

TEST(poisoned_and_held_until_both_rules)
{
    fresh();
    struct dma_region keep[3];
    retire_new(keep, 3, 2, 0);
    const uint8_t *b = (const uint8_t *)(uintptr_t)keep[1].phys;
    CHECK(b[0] == NVMEQ_POISON && b[keep[1].len - 1] == NVMEQ_POISON, "poisoned");
    /* Enough time, one generation short. */
    retire_others(NVMEQ_GENERATIONS - 1, 1 * SEC);
    nvmeq_recycle(NVMEQ_HOLD_US * 5);
    CHECK(!region_free(&keep[0]), "not back after %u generations", NVMEQ_GENERATIONS - 1);
    /* Enough generations, not enough time. */
    retire_others(1, 2 * SEC);
    nvmeq_recycle(NVMEQ_HOLD_US - 1);
    CHECK(!region_free(&keep[0]), "not back before %llu us", NVMEQ_HOLD_US);
    struct nvmeq_stats st;
    nvmeq_get_stats(&st);
    CHECK_EQ_U64(st.held_pages, 6 + NVMEQ_GENERATIONS);
    CHECK_EQ_U64(st.generation, NVMEQ_GENERATIONS + 1);
    /* Both: back, and only that pool (the others are younger). */
    nvmeq_recycle(NVMEQ_HOLD_US);
    for (int i = 0; i < 3; i++)
        CHECK(region_free(&keep[i]), "region %d back", i);
    nvmeq_get_stats(&st);
    CHECK_EQ_U64(st.recycled_pages, 6);
    CHECK_EQ_U64(st.held_pages, NVMEQ_GENERATIONS);
    CHECK_EQ_U64(used_pages(), NVMEQ_GENERATIONS);
    CHECK(st.late_regions == 0 && st.kept_pages == 0 && st.early_regions == 0, "clean");
    CHECK(!strstr(out, "finding"), "nothing reported: %s", out);
}

TEST(late_write_reported_once_and_kept_out)
{
    fresh();
    retire_others(2, 0);
    struct dma_region keep[3];
    retire_new(keep, 3, 1, 0); /* generation 3 */
    uint8_t *hit = (uint8_t *)(uintptr_t)keep[2].phys + 0x123;
    *hit = 0;
    retire_others(NVMEQ_GENERATIONS, 1 * SEC);
    nvmeq_recycle(NVMEQ_HOLD_US);
    char want[200];
    snprintf(want, sizeof(want), "finding: DMA after reset: %#llx written in %#llx+4 KiB",
             (unsigned long long)(uintptr_t)hit, (unsigned long long)keep[2].phys);
    CHECK(strstr(out, want), "address reported: %s", out);
    CHECK(strstr(out, "retired at generation 3 (64 generations"), "generation: %s", out);
    CHECK(region_free(&keep[0]) && region_free(&keep[1]), "the clean regions are back");
    CHECK(!region_free(&keep[2]), "the written region stays out");
    struct nvmeq_stats st;
    nvmeq_get_stats(&st);
    CHECK(st.late_regions == 1 && st.kept_pages == 1, "counted: %u, %llu", st.late_regions,
          (unsigned long long)st.kept_pages);
    nvmeq_check_all(NVMEQ_HOLD_US * 2);
    nvmeq_recycle(NVMEQ_HOLD_US * 9);
    CHECK(count_in_out("finding") == 1, "reported once: %s", out);
    CHECK(!region_free(&keep[2]), "still out");
}

TEST(check_all_finds_before_ripe)
{
    fresh();
    struct dma_region keep[2];
    retire_new(keep, 2, 1, 0);
    ((uint8_t *)(uintptr_t)keep[0].phys)[4095] = 0x6a;
    CHECK(nvmeq_check_all(1000) == 1, "one region written");
    CHECK(count_in_out("finding: DMA after reset") == 1, "said: %s", out);
    CHECK(nvmeq_check_all(2000) == 0, "not found twice");
    retire_others(NVMEQ_GENERATIONS, 0);
    nvmeq_recycle(NVMEQ_HOLD_US);
    CHECK(!region_free(&keep[0]) && region_free(&keep[1]), "written out, clean back");
    struct nvmeq_stats st;
    nvmeq_get_stats(&st);
    CHECK_EQ_U64(st.held_pages, NVMEQ_GENERATIONS);
}

TEST(many_findings_are_counted_not_flooded)
{
    fresh();
    struct dma_region keep[12];
    retire_new(keep, 12, 1, 0);
    for (int i = 0; i < 12; i++)
        ((uint8_t *)(uintptr_t)keep[i].phys)[i] = 0;
    CHECK(nvmeq_check_all(0) == 12, "all twelve written");
    CHECK(count_in_out("finding: DMA after reset") == 8, "eight said: %s", out);
    CHECK(count_in_out("counted only") == 1, "then counted: %s", out);
    struct nvmeq_stats st;
    nvmeq_get_stats(&st);
    CHECK(st.late_regions == 12 && st.kept_pages == 12 && st.held_pages == 0, "counted");
}

TEST(page_bound_hands_back_oldest_early)
{
    fresh();
    struct dma_pool p;
    make_pool(&p, 1, 100);
    uint64_t first = p.regions[0].phys;
    nvmeq_retire(&p, 0);
    ((uint8_t *)(uintptr_t)first)[7] = 1; /* early, but still checked */
    uint64_t max_held = 0;
    for (unsigned i = 0; i < 60; i++) {
        make_pool(&p, 1, 100);
        nvmeq_retire(&p, 0);
        struct nvmeq_stats st;
        nvmeq_get_stats(&st);
        if (st.held_pages > max_held)
            max_held = st.held_pages;
    }
    struct nvmeq_stats st;
    nvmeq_get_stats(&st);
    CHECK(max_held <= NVMEQ_MAX_PAGES, "held %llu pages", (unsigned long long)max_held);
    CHECK(st.max_held_pages == max_held, "max %llu", (unsigned long long)st.max_held_pages);
    CHECK(st.early_regions > 0, "some went back early");
    CHECK(count_in_out("quarantine full") == 1, "said once: %s", out);
    CHECK(st.late_regions == 1 && !alloc_is_free(first, 100 * PAGE_SIZE),
          "the written one is kept out even early");
    CHECK_EQ_U64(used_pages(), st.held_pages + st.kept_pages);
}

TEST(slot_bound)
{
    fresh();
    for (unsigned i = 0; i < 24; i++) {
        struct dma_pool p;
        make_pool(&p, 50, 1); /* 1200 one-page regions in all */
        nvmeq_retire(&p, 0);
    }
    struct nvmeq_stats st;
    nvmeq_get_stats(&st);
    CHECK(st.max_held_pages <= NVMEQ_SLOTS, "held %llu regions",
          (unsigned long long)st.max_held_pages);
    CHECK_EQ_U64(st.early_regions, 24 * 50 - NVMEQ_SLOTS);
    CHECK_EQ_U64(used_pages(), st.held_pages);
}

int main(void)
{
    arena = aligned_alloc(4096, (size_t)ARENA_PAGES * PAGE_SIZE);
    if (!arena)
        return 2;
    start_capture();
    RUN(poisoned_and_held_until_both_rules);
    RUN(late_write_reported_once_and_kept_out);
    RUN(check_all_finds_before_ripe);
    RUN(many_findings_are_counted_not_flooded);
    RUN(page_bound_hands_back_oldest_early);
    RUN(slot_bound);
    free(arena);
    return check_finish();
}
