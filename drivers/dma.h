/* Device addresses for DMA buffers.
 *
 * Drivers never hand a device a physical address directly: they ask a
 * dma_space for the address the device must use (the IOVA).  With the IOMMU
 * off that is the physical address; once the IOMMU translates, the caller
 * supplies a map function, and the pool's region list tells it exactly which
 * ranges the driver's queues and buffers occupy. */
#ifndef DRIVERS_DMA_H
#define DRIVERS_DMA_H

#include <stdbool.h>
#include <stdint.h>

/* Returns the IOVA of [phys, phys+len), which must stay contiguous in
 * device address space, or DMA_MAP_FAILED. */
typedef uint64_t (*dma_map_fn)(void *ctx, uint64_t phys, uint64_t len);
#define DMA_MAP_FAILED (~0ull)

struct dma_space {
    dma_map_fn map; /* NULL: identity (translation off) */
    void *ctx;
};

struct dma_region {
    uint64_t phys, iova, len;
};

#define DMA_POOL_MAX 64

/* Every allocation a driver made for one device, with its IOVA. */
struct dma_pool {
    struct dma_space space;
    uint64_t limit; /* all memory below this physical address (0: any) */
    unsigned count;
    struct dma_region regions[DMA_POOL_MAX];
};

void dma_pool_init(struct dma_pool *p, const struct dma_space *space, uint64_t limit);
/* n zeroed pages; *iova gets the device address.  NULL when out of memory,
 * out of slots, or the map function refused. */
void *dma_pool_alloc(struct dma_pool *p, uint64_t pages, uint64_t *iova);
void dma_pool_release(struct dma_pool *p);
/* The device address of a CPU pointer inside one of the pool's regions,
 * DMA_MAP_FAILED when it is in none. */
uint64_t dma_pool_iova(const struct dma_pool *p, const void *va);

#endif
