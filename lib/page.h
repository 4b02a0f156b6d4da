/* Zeroed page allocations for the firmware (identity-mapped memory). */
#ifndef LIB_PAGE_H
#define LIB_PAGE_H

#include <stdint.h>

#include "lib/alloc.h"

/* n zeroed pages; NULL when memory is exhausted (callers report it). */
void *page_alloc(uint64_t n);
/* Same, aligned to `align` bytes and wholly below `limit` (0: anywhere). */
void *page_alloc_constrained(uint64_t n, uint64_t align, uint64_t limit);
void page_free(void *p, uint64_t n);
/* A zeroed table of `bytes` bytes, in whole pages: what used to be a static
 * array in the image (README: the image limit).  NULL when memory is
 * exhausted; callers report it as a failure or a skip, never crash. */
void *page_alloc_bytes(uint64_t bytes);

static inline uint64_t virt_to_phys(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}
static inline void *phys_to_virt(uint64_t pa)
{
    return (void *)(uintptr_t)pa;
}

#endif
