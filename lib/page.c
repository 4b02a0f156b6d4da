/* Firmware wrapper of the range allocator: memory is identity-mapped, so a
 * physical address is also a pointer. */
#include "lib/page.h"

#include "lib/kstring.h"

void *page_alloc_constrained(uint64_t n, uint64_t align, uint64_t limit)
{
    uint64_t pa = alloc_pages(n, align, limit);
    if (!pa)
        return 0;
    void *p = phys_to_virt(pa);
    memset(p, 0, n * PAGE_SIZE);
    return p;
}

void *page_alloc(uint64_t n)
{
    return page_alloc_constrained(n, PAGE_SIZE, 0);
}

void page_free(void *p, uint64_t n)
{
    if (p)
        alloc_free(virt_to_phys(p), n);
}

void *page_alloc_bytes(uint64_t bytes)
{
    if (!bytes || bytes > UINT64_MAX - PAGE_SIZE)
        return 0;
    return page_alloc((bytes + PAGE_SIZE - 1) / PAGE_SIZE);
}
