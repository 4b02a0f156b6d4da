/* DMA pools: page allocations with their device addresses recorded. */
#include "drivers/dma.h"

#include "lib/kstring.h"
#include "lib/page.h"

void dma_pool_init(struct dma_pool *p, const struct dma_space *space, uint64_t limit)
{
    memset(p, 0, sizeof(*p));
    if (space)
        p->space = *space;
    p->limit = limit;
}

void *dma_pool_alloc(struct dma_pool *p, uint64_t pages, uint64_t *iova)
{
    if (p->count >= DMA_POOL_MAX || !pages)
        return 0;
    void *va = p->limit ? page_alloc_constrained(pages, PAGE_SIZE, p->limit) : page_alloc(pages);
    if (!va)
        return 0;
    uint64_t phys = virt_to_phys(va), len = pages * PAGE_SIZE;
    uint64_t addr = p->space.map ? p->space.map(p->space.ctx, phys, len) : phys;
    if (addr == DMA_MAP_FAILED) {
        page_free(va, pages);
        return 0;
    }
    p->regions[p->count++] = (struct dma_region){.phys = phys, .iova = addr, .len = len};
    *iova = addr;
    return va;
}

void dma_pool_release(struct dma_pool *p)
{
    for (unsigned i = 0; i < p->count; i++)
        page_free(phys_to_virt(p->regions[i].phys), p->regions[i].len / PAGE_SIZE);
    p->count = 0;
}

uint64_t dma_pool_iova(const struct dma_pool *p, const void *va)
{
    uint64_t pa = virt_to_phys(va);
    for (unsigned i = 0; i < p->count; i++) {
        const struct dma_region *r = &p->regions[i];
        if (pa >= r->phys && pa - r->phys < r->len)
            return r->iova + (pa - r->phys);
    }
    return DMA_MAP_FAILED;
}
