// HOST-DEPS: lib/alloc.c
/* The page allocator's bookkeeping against a reference bitmap, under
 * random allocation and free with alignment and address limits. */
#include "lib/alloc.h"
#include "tests/host/check.h"

#include <stdbool.h>
#include <string.h>

CHECK_STATE_DEFINE;

#define NPAGES 8192 /* model 32 MiB of physical address space */
static unsigned char used[NPAGES]; /* 1: allocated or never free */

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
    memset(used, 1, sizeof(used));
    /* A map with holes, like firmware's. */
    for (uint64_t p = 16; p < NPAGES; p += 700) {
        uint64_t len = 300 + next_rand() % 300;
        if (p + len > NPAGES)
            len = NPAGES - p;
        CHECK(alloc_add_free(p * PAGE_SIZE, len * PAGE_SIZE), "add %llu", (unsigned long long)p);
        memset(used + p, 0, len);
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
    CHECK(s.used_pages == 0 && s.free_pages == s.total_pages, "all returned: used %llu",
          (unsigned long long)s.used_pages);
    CHECK(alloc_check(), "final consistency");
}

int main(void)
{
    RUN(basic_ranges);
    RUN(random_against_bitmap);
    return check_finish();
}
