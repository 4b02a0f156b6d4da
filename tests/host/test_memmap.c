// HOST-DEPS: boot/memmap.c
/* Putting the EFI memory map in order: shuffled maps come out sorted and
 * complete, neighbours of one type and attribute set are joined (others
 * are not), overlaps are counted and the first pair named, and a huge map
 * with absurd sizes neither overflows nor loses a range. */
#include "boot/memmap.h"
#include "tests/host/check.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

CHECK_STATE_DEFINE;

static uint32_t rng = 2463534242u;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void shuffle(struct mem_range *r, uint32_t n)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = next_rand() % i;
        struct mem_range t = r[i - 1];
        r[i - 1] = r[j];
        r[j] = t;
    }
}

static struct mem_range range(uint64_t base, uint64_t pages, uint32_t type, uint64_t attr)
{
    return (struct mem_range){ .base = base, .pages = pages, .kind = type == 7 ? 0 : 1,
                               .efi_type = type, .attr = attr };
}

/* n ranges with gaps or type changes between all neighbours, so none may
 * be merged; the caller shuffles them. */
static uint32_t make_unmergeable(struct mem_range *r, uint32_t n)
{
    uint64_t at = 0x1000;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t pages = 1 + next_rand() % 64;
        r[i] = range(at, pages, i % 2 ? 7 : 4, 0xf);
        at += pages * 4096;
        if (next_rand() % 2)
            at += 4096 * (1 + next_rand() % 8); /* a hole */
    }
    return n;
}

static bool sorted_and_disjoint(const struct mem_range *r, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++)
        if (r[i].base < memmap_end(&r[i - 1]))
            return false;
    return true;
}

TEST(shuffled)
{
    enum { N = 600 };
    static struct mem_range orig[N], r[N];
    make_unmergeable(orig, N);
    memcpy(r, orig, sizeof(r));
    shuffle(r, N);
    struct memmap_report rep;
    uint32_t n = memmap_normalize(r, N, &rep);
    CHECK_EQ_U64(n, N);
    CHECK(rep.entries == N && rep.unordered > 0 && rep.merged == 0 && rep.overlaps == 0,
          "entries %u unordered %u merged %u overlaps %u", rep.entries, rep.unordered, rep.merged,
          rep.overlaps);
    CHECK(!memcmp(r, orig, sizeof(r)), "the sorted map is the original one");
    /* Already in order: nothing reported out of order, nothing changed. */
    n = memmap_normalize(r, N, &rep);
    CHECK(n == N && rep.unordered == 0 && !memcmp(r, orig, sizeof(r)), "sorted input kept");
}

TEST(adjacent)
{
    struct mem_range r[] = {
        range(0x300000, 16, 7, 0xf),  /* joins the one before it (same type, attr) */
        range(0x100000, 512, 7, 0xf),
        range(0x310000, 16, 7, 0xe),  /* different attributes: kept apart */
        range(0x320000, 16, 4, 0xe),  /* different type: kept apart */
        range(0x330000, 0, 7, 0xe),   /* empty: dropped */
        range(0x330000, 16, 4, 0xe),  /* joins 0x320000 across the empty one */
        range(0x400000, 16, 4, 0xe),  /* a hole before it: kept apart */
    };
    struct memmap_report rep;
    uint32_t n = memmap_normalize(r, 7, &rep);
    CHECK_EQ_U64(n, 4);
    CHECK(rep.merged == 3 && rep.overlaps == 0 && rep.unordered == 1,
          "merged %u overlaps %u unordered %u", rep.merged, rep.overlaps, rep.unordered);
    CHECK(r[0].base == 0x100000 && r[0].pages == 528, "first: %#llx+%llu",
          (unsigned long long)r[0].base, (unsigned long long)r[0].pages);
    CHECK(r[1].base == 0x310000 && r[1].pages == 16 && r[1].attr == 0xe, "attributes apart");
    CHECK(r[2].base == 0x320000 && r[2].pages == 32 && r[2].efi_type == 4, "type 4 joined");
    CHECK(r[3].base == 0x400000 && r[3].pages == 16, "after the hole");
}

TEST(overlapping)
{
    struct mem_range r[] = {
        range(0x200000, 16, 7, 0xf),
        range(0x100000, 512, 4, 0xf),  /* covers 0x100000-0x300000: both below overlap it */
        range(0x280000, 1, 7, 0xf),
        range(0x400000, 16, 7, 0xf),
        range(0x400000, 16, 7, 0xf),   /* a duplicate descriptor */
        range(0x500000, 16, 7, 0xf),
    };
    struct memmap_report rep;
    uint32_t n = memmap_normalize(r, 6, &rep);
    CHECK(rep.overlaps == 3, "overlaps %u", rep.overlaps);
    CHECK_EQ_U64(n, 6); /* nothing overlapping is merged away */
    CHECK(rep.overlap_a.base == 0x100000 && rep.overlap_a.pages == 512 &&
              rep.overlap_b.base == 0x200000 && rep.overlap_b.pages == 16,
          "first pair %#llx+%llu / %#llx+%llu", (unsigned long long)rep.overlap_a.base,
          (unsigned long long)rep.overlap_a.pages, (unsigned long long)rep.overlap_b.base,
          (unsigned long long)rep.overlap_b.pages);
    for (uint32_t i = 1; i < n; i++)
        CHECK(r[i].base >= r[i - 1].base, "order at %u", i);
    /* Touching is not overlapping. */
    struct mem_range t[] = { range(0x2000, 1, 7, 0), range(0x1000, 1, 4, 0) };
    n = memmap_normalize(t, 2, &rep);
    CHECK(n == 2 && rep.overlaps == 0, "touching ranges: overlaps %u", rep.overlaps);
}

TEST(huge)
{
    enum { N = 100000 };
    struct mem_range *orig = calloc(N, sizeof(*orig)), *r = calloc(N, sizeof(*r));
    CHECK(orig && r, "memory");
    if (!orig || !r)
        return;
    make_unmergeable(orig, N - 1);
    /* The last range claims the rest of the address space and more. */
    orig[N - 1] = range(memmap_end(&orig[N - 2]) + 0x1000, UINT64_MAX / 2, 0, 0);
    memcpy(r, orig, N * sizeof(*r));
    shuffle(r, N);
    struct memmap_report rep;
    uint32_t n = memmap_normalize(r, N, &rep);
    CHECK(n == N && rep.overlaps == 0 && rep.merged == 0, "n %u overlaps %u merged %u", n,
          rep.overlaps, rep.merged);
    CHECK(!memcmp(r, orig, N * sizeof(*r)), "sorted back");
    CHECK(sorted_and_disjoint(r, n), "disjoint");
    CHECK_EQ_U64(memmap_end(&r[N - 1]), UINT64_MAX & ~0xfffull);
    free(orig);
    free(r);
}

int main(void)
{
    RUN(shuffled);
    RUN(adjacent);
    RUN(overlapping);
    RUN(huge);
    return check_finish();
}
