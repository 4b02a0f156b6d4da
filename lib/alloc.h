/* Physical page allocator: a sorted list of free ranges fed from the memory
 * map.  Portable bookkeeping only (it never touches the pages), so the host
 * tests exercise it unchanged; lib/page.c wraps it for the firmware. */
#ifndef LIB_ALLOC_H
#define LIB_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#define PAGE_SIZE 4096ull
/* The range table starts as a static array of this many ranges (there is
 * no allocator to get memory from before it) and then grows; see below. */
#define ALLOC_STATIC_RANGES 64
/* Nor is the table ever put below this address (real-mode leftovers). */
#define ALLOC_TABLE_FLOOR 0x100000ull

/* Forget every range (the growth hook below stays). */
void alloc_reset(void);
/* Let the range table grow, doubling, into pages the allocator takes from
 * itself; phys_to_ptr turns such a page's address into a pointer.  NULL
 * (the default, for host tests on made-up addresses) keeps the static
 * table, and then a full table makes alloc_add_free fail. */
void alloc_grow_into(void *(*phys_to_ptr)(uint64_t pa));
/* Add [base, base+size) as free (trimmed inward to whole pages); returns
 * false if the range table is full or the range overlaps free memory. */
bool alloc_add_free(uint64_t base, uint64_t size);
/* Take a range out of the free list (e.g. the first MiB). */
void alloc_reserve(uint64_t base, uint64_t size);
/* Is every page of [base, base+size) free (in the free list)? */
bool alloc_is_free(uint64_t base, uint64_t size);
/* n contiguous pages aligned to `align` bytes (power of two >= 4 KiB),
 * wholly below `limit` (0: no limit).  Returns the address or 0. */
uint64_t alloc_pages(uint64_t n, uint64_t align, uint64_t limit);
void alloc_free(uint64_t base, uint64_t n);
/* Prefer the highest suitable addresses (to put DMA buffers above 4 GiB). */
void alloc_prefer_high(bool on);

struct alloc_stats {
    uint64_t free_pages, total_pages, used_pages, peak_used_pages;
    uint32_t ranges;
    uint32_t capacity;    /* ranges the table holds now */
    uint64_t table_base;  /* where the grown table is (counted as used) */
    uint64_t table_pages; /* its size in pages (0: still the static one) */
};
void alloc_get_stats(struct alloc_stats *s);
/* Consistency check for tests: sorted, non-overlapping, non-adjacent. */
bool alloc_check(void);

#endif
