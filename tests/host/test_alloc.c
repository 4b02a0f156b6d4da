// HOST-DEPS: lib/alloc.c
/* The page allocator's bookkeeping against a reference bitmap, under
 * random allocation and free with alignment and address limits, and its
 * range table growing into memory it takes from itself. */
#include "lib/alloc.h"
#include "tests/host/check.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

CHECK_STATE_DEFINE;

#define NPAGES 8192 /* model 32 MiB of physical address space */
static unsigned char used[NPAGES]; /* 1: allocated or never free */

/* "Physical" address pa of the model is arena + pa, so the range table can
 * grow into pages of the model. */
static unsigned char *arena;
static void *arena_ptr(uint64_t pa)
{
    return pa < (uint64_t)NPAGES * PAGE_SIZE ? arena + pa : NULL;
}

/* Mark the pages of the grown table in the bitmap (they are not free), and
 * unmark the old table's pages when it moved. */
static uint64_t seen_table_base, seen_table_pages;
static void track_table(void)
{
    struct alloc_stats s;
    alloc_get_stats(&s);
    if (s.table_base == seen_table_base && s.table_pages == seen_table_pages)
        return;
    for (uint64_t i = 0; i < seen_table_pages; i++)
        used[seen_table_base / PAGE_SIZE + i] = 0;
    for (uint64_t i = 0; i < s.table_pages; i++) {
        uint64_t p = s.table_base / PAGE_SIZE + i;
        CHECK(p < NPAGES && !used[p], "table page %llu was not free", (unsigned long long)p);
        if (p < NPAGES)
            used[p] = 3;
    }
    CHECK(!s.table_pages || s.table_base >= ALLOC_TABLE_FLOOR, "table below the floor");
    seen_table_base = s.table_base;
    seen_table_pages = s.table_pages;
}

TEST(basic_ranges)
{
    alloc_reset();
    CHECK(alloc_add_free(0x1800, 0x10000), "add");
    struct alloc_stats s;
    alloc_get_stats(&s);
    CHECK(s.free_pages == 15, "trimmed inward to whole pages: %llu", (unsigned long long)s.free_pages);
    CHECK(!alloc_add_free(0x4000, 0x1000), "overlap refused");
    alloc_reserve(0x3000, 0x2000);
    alloc_get_stats(&s);
    CHECK(s.free_pages == 13 && s.ranges == 2, "reserve splits: %llu pages %u ranges",
          (unsigned long long)s.free_pages, s.ranges);
    uint64_t a = alloc_pages(1, 0x4000, 0);
    CHECK(a == 0x8000, "aligned allocation at %#llx", (unsigned long long)a);
    CHECK(alloc_pages(100, 0, 0) == 0, "too large fails");
    CHECK(alloc_pages(1, 0x3000, 0) == 0, "non-power-of-two alignment refused");
    alloc_free(a, 1);
    alloc_get_stats(&s);
    CHECK(s.free_pages == 13 && alloc_check(), "free merges back");
    alloc_prefer_high(true);
    a = alloc_pages(2, 0, 0);
    CHECK(a == 0x0f000, "high allocation at %#llx", (unsigned long long)a);
    alloc_prefer_high(false);
    a = alloc_pages(1, 0, 0x3000);
    CHECK(a == 0x2000, "limited allocation at %#llx", (unsigned long long)a);
    CHECK(alloc_is_free(0x5000, 0x3000) && !alloc_is_free(0x3000, 0x1000) &&
              !alloc_is_free(0x2000, 0x1000) && !alloc_is_free(0x10800, 0x1000) &&
              !alloc_is_free(0x5000, 0) && !alloc_is_free(~0ull - 0x10, 0x100),
          "alloc_is_free on the edges");
}

static uint32_t rng = 12345;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

TEST(random_against_bitmap)
{
    alloc_reset();
    alloc_grow_into(arena_ptr);
    seen_table_base = seen_table_pages = 0;
    memset(used, 1, sizeof(used));
    /* A map with holes, like firmware's. */
    for (uint64_t p = 16; p < NPAGES; p += 700) {
        uint64_t len = 300 + next_rand() % 300;
        if (p + len > NPAGES)
            len = NPAGES - p;
        memset(used + p, 0, len);
        CHECK(alloc_add_free(p * PAGE_SIZE, len * PAGE_SIZE), "add %llu", (unsigned long long)p);
        track_table();
    }
    struct { uint64_t at, n; } live[256];
    int nlive = 0;
    for (int step = 0; step < 20000; step++) {
        if (nlive < 256 && (next_rand() % 3 || nlive == 0)) {
            uint64_t n = 1 + next_rand() % 40;
            uint64_t align = PAGE_SIZE << (next_rand() % 5);
            uint64_t limit = next_rand() % 4 ? 0 : (uint64_t)(next_rand() % NPAGES) * PAGE_SIZE;
            alloc_prefer_high(next_rand() % 2);
            uint64_t at = alloc_pages(n, align, limit);
            track_table();
            if (!at)
                continue;
            uint64_t p = at / PAGE_SIZE;
            CHECK(at % align == 0, "alignment");
            CHECK(!limit || at + n * PAGE_SIZE <= limit, "limit");
            for (uint64_t i = 0; i < n; i++) {
                CHECK(p + i < NPAGES && !used[p + i], "page %llu handed out twice or never free",
                      (unsigned long long)(p + i));
                if (p + i < NPAGES)
                    used[p + i] = 2;
            }
            live[nlive].at = at;
            live[nlive++].n = n;
        } else {
            int k = (int)(next_rand() % (uint32_t)nlive);
            uint64_t p = live[k].at / PAGE_SIZE;
            for (uint64_t i = 0; i < live[k].n; i++)
                used[p + i] = 0;
            alloc_free(live[k].at, live[k].n);
            track_table();
            live[k] = live[--nlive];
        }
        if (step % 1000 == 0)
            CHECK(alloc_check(), "consistency at step %d", step);
        if (step % 10 == 0) { /* alloc_is_free agrees with the bitmap */
            uint64_t p = next_rand() % NPAGES, n = 1 + next_rand() % 64;
            if (p + n > NPAGES)
                n = NPAGES - p;
            bool want = true;
            for (uint64_t i = 0; i < n; i++)
                want &= !used[p + i];
            uint64_t off = next_rand() % PAGE_SIZE; /* byte ranges round out to pages */
            uint64_t len = n * PAGE_SIZE - off - (off ? next_rand() % (PAGE_SIZE - off) : 0);
            CHECK(alloc_is_free(p * PAGE_SIZE + off, len) == want,
                  "alloc_is_free(page %llu + %llu, %llu) != %d", (unsigned long long)p,
                  (unsigned long long)off, (unsigned long long)len, want);
        }
    }
    while (nlive) {
        alloc_free(live[nlive - 1].at, live[nlive - 1].n);
        nlive--;
    }
    struct alloc_stats s;
    alloc_get_stats(&s);
    CHECK(s.used_pages == s.table_pages && s.free_pages + s.table_pages == s.total_pages,
          "all returned: used %llu, table %llu", (unsigned long long)s.used_pages,
          (unsigned long long)s.table_pages);
    CHECK(alloc_check(), "final consistency");
    alloc_grow_into(NULL);
}

/* Thousands of free ranges (a real server's map after fragmentation): the
 * table grows past its static size into pages that were free (here: the
 * one large range, as RAM is on real machines), keeps every range, and is
 * out of the way once the ranges are joined again. */
TEST(table_grows)
{
    alloc_reset();
    alloc_grow_into(arena_ptr);
    seen_table_base = seen_table_pages = 0;
    memset(used, 1, sizeof(used));
    enum { BIG = 7168, FIRST = 2048 };
    memset(used + BIG, 0, NPAGES - BIG);
    CHECK(alloc_add_free((uint64_t)BIG * PAGE_SIZE, (uint64_t)(NPAGES - BIG) * PAGE_SIZE), "big");
    /* Every other page below it: 2560 separate ranges. */
    unsigned added = 0;
    for (uint64_t p = FIRST; p < BIG; p += 2) {
        used[p] = 0;
        added += alloc_add_free(p * PAGE_SIZE, PAGE_SIZE);
        track_table();
    }
    struct alloc_stats s;
    alloc_get_stats(&s);
    CHECK(added == (BIG - FIRST) / 2, "%u of %u ranges added", added, (BIG - FIRST) / 2);
    CHECK(s.ranges >= added && s.capacity >= s.ranges && s.capacity > ALLOC_STATIC_RANGES &&
              s.table_pages * PAGE_SIZE >= s.capacity * 16ull,
          "capacity %u for %u ranges, table %llu pages", s.capacity, s.ranges,
          (unsigned long long)s.table_pages);
    CHECK(s.free_pages + s.table_pages == s.total_pages, "free %llu + table %llu != total %llu",
          (unsigned long long)s.free_pages, (unsigned long long)s.table_pages,
          (unsigned long long)s.total_pages);
    CHECK(alloc_check(), "consistent after growth");
    /* Allocations never hand out the table's pages (track_table checks
     * that they were free; the bitmap check here that they stay taken). */
    for (int i = 0; i < 64; i++) {
        uint64_t at = alloc_pages(1 + i % 7, 0, 0);
        CHECK(at, "allocation %d", i);
        for (uint64_t p = at / PAGE_SIZE; at && p < at / PAGE_SIZE + 1 + i % 7; p++) {
            CHECK(!used[p], "page %llu handed out while taken", (unsigned long long)p);
            used[p] = 2;
        }
    }
    for (uint64_t p = FIRST + 1; p < BIG; p += 2) {
        used[p] = 0;
        alloc_free(p * PAGE_SIZE, 1); /* joins its neighbours */
        track_table();
    }
    CHECK(alloc_check(), "consistent after joining");
    for (uint64_t p = FIRST; p < NPAGES; p++)
        CHECK(alloc_is_free(p * PAGE_SIZE, PAGE_SIZE) == !used[p], "page %llu",
              (unsigned long long)p);
    alloc_grow_into(NULL);
}

/* Without a way to reach memory the static table is the limit, and a full
 * table says so instead of losing a range. */
TEST(static_table_limit)
{
    alloc_reset();
    unsigned added = 0;
    for (uint64_t p = 16; p < 16 + 4 * (ALLOC_STATIC_RANGES + 8); p += 4)
        added += alloc_add_free(p * PAGE_SIZE, PAGE_SIZE);
    struct alloc_stats s;
    alloc_get_stats(&s);
    CHECK(added == ALLOC_STATIC_RANGES && s.ranges == ALLOC_STATIC_RANGES &&
              s.free_pages == ALLOC_STATIC_RANGES && s.total_pages == ALLOC_STATIC_RANGES,
          "added %u, ranges %u, free %llu", added, s.ranges, (unsigned long long)s.free_pages);
    CHECK(alloc_check(), "consistent");
}

/* Two CPUs allocating at once (an AP writing a PASID entry for the first
 * time while the BSP rebuilds an NVMe controller): no page may be handed
 * out twice.  Each thread stamps its pages in `owner` and clears the stamp
 * before freeing; a stamp found set at allocation is a page given to both. */
#define RACE_ROUNDS 2000000
static volatile unsigned char owner[NPAGES];
static unsigned doubles;

static void *race(void *arg)
{
    unsigned char me = (unsigned char)(uintptr_t)arg;
    uint64_t held[8] = {0};
    uint64_t seed = me * 0x9e3779b97f4a7c15ull + 1;
    for (unsigned r = 0; r < RACE_ROUNDS; r++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        unsigned k = seed % 8;
        if (held[k]) {
            owner[held[k] / PAGE_SIZE] = 0;
            alloc_free(held[k], 1);
            held[k] = 0;
            continue;
        }
        uint64_t pa = alloc_pages(1, PAGE_SIZE, 0);
        if (!pa)
            continue;
        if (__atomic_exchange_n(&owner[pa / PAGE_SIZE], me, __ATOMIC_SEQ_CST))
            __atomic_fetch_add(&doubles, 1, __ATOMIC_RELAXED);
        held[k] = pa;
    }
    for (unsigned k = 0; k < 8; k++)
        if (held[k]) {
            owner[held[k] / PAGE_SIZE] = 0;
            alloc_free(held[k], 1);
        }
    return NULL;
}

TEST(two_cpus_never_share_a_page)
{
    alloc_reset();
    CHECK(alloc_add_free(PAGE_SIZE, 64 * PAGE_SIZE), "free memory");
    pthread_t a, b;
    pthread_create(&a, NULL, race, (void *)1);
    pthread_create(&b, NULL, race, (void *)2);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    struct alloc_stats st;
    alloc_get_stats(&st);
    CHECK(doubles == 0, "%u pages were handed to both threads", doubles);
    CHECK(alloc_check() && st.used_pages == 0 && st.free_pages == 64,
          "bookkeeping after the race: %llu used, %llu free, ranges %s",
          (unsigned long long)st.used_pages, (unsigned long long)st.free_pages,
          alloc_check() ? "sorted" : "broken");
}

int main(void)
{
    arena = aligned_alloc(PAGE_SIZE, (size_t)NPAGES * PAGE_SIZE);
    if (!arena)
        return 2;
    RUN(basic_ranges);
    RUN(random_against_bitmap);
    RUN(table_grows);
    RUN(static_table_limit);
    RUN(two_cpus_never_share_a_page);
    free(arena);
    return check_finish();
}
