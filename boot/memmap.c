/* Sorting and merging the memory map (see memmap.h). */
#include "boot/memmap.h"

#define MEMMAP_PAGE 4096ull

uint64_t memmap_end(const struct mem_range *r)
{
    uint64_t room = (UINT64_MAX & ~(MEMMAP_PAGE - 1)) - r->base;
    if (r->base > (UINT64_MAX & ~(MEMMAP_PAGE - 1)) || r->pages > room / MEMMAP_PAGE)
        return UINT64_MAX & ~(MEMMAP_PAGE - 1);
    return r->base + r->pages * MEMMAP_PAGE;
}

/* Address order; ties (only possible in a defective map) by size then
 * type, so that the result does not depend on the firmware's order. */
static int before(const struct mem_range *a, const struct mem_range *b)
{
    if (a->base != b->base)
        return a->base < b->base;
    if (a->pages != b->pages)
        return a->pages < b->pages;
    return a->efi_type < b->efi_type;
}

static void swap(struct mem_range *a, struct mem_range *b)
{
    struct mem_range t = *a;
    *a = *b;
    *b = t;
}

static void sift_down(struct mem_range *r, uint32_t root, uint32_t n)
{
    for (;;) {
        uint32_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && before(&r[child], &r[child + 1]))
            child++;
        if (!before(&r[root], &r[child]))
            return;
        swap(&r[root], &r[child]);
        root = child;
    }
}

/* Heap sort: in place, O(n log n) whatever the firmware's order, and no
 * recursion or scratch memory (this runs before the allocator exists). */
static void sort_ranges(struct mem_range *r, uint32_t n)
{
    for (uint32_t i = n / 2; i-- > 0;)
        sift_down(r, i, n);
    for (uint32_t end = n; end > 1; end--) {
        swap(&r[0], &r[end - 1]);
        sift_down(r, 0, end - 1);
    }
}

uint32_t memmap_normalize(struct mem_range *r, uint32_t n, struct memmap_report *rep)
{
    *rep = (struct memmap_report){ .entries = n };
    for (uint32_t i = 1; i < n; i++)
        if (r[i].base < r[i - 1].base)
            rep->unordered++;
    if (rep->unordered)
        sort_ranges(r, n);

    uint32_t out = 0;
    uint64_t reach = 0; /* highest end among the ranges kept so far */
    const struct mem_range *reach_owner = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!r[i].pages) {
            rep->merged++; /* an empty descriptor describes nothing */
            continue;
        }
        if (out && r[i].base < reach) {
            if (!rep->overlaps++) {
                rep->overlap_a = *reach_owner;
                rep->overlap_b = r[i];
            }
        } else if (out && r[i].base == memmap_end(&r[out - 1]) &&
                   r[i].efi_type == r[out - 1].efi_type && r[i].attr == r[out - 1].attr &&
                   r[i].kind == r[out - 1].kind && r[i].pages <= UINT64_MAX - r[out - 1].pages) {
            r[out - 1].pages += r[i].pages;
            rep->merged++;
            if (memmap_end(&r[out - 1]) > reach) {
                reach = memmap_end(&r[out - 1]);
                reach_owner = &r[out - 1];
            }
            continue;
        }
        r[out] = r[i];
        if (memmap_end(&r[out]) > reach) {
            reach = memmap_end(&r[out]);
            reach_owner = &r[out];
        }
        out++;
    }
    return out;
}
