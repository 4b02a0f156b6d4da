/* Identity IOVAs for a driver's DMA space: each buffer a driver allocates
 * is mapped at its physical address (IOVA = phys, read/write) in every
 * domain of a set, so one controller set-up serves all of them (the
 * suites switch the device between those domains under traffic). */
#ifndef APP_IDENTITY_MAP_H
#define APP_IDENTITY_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/dma.h"
#include "iommu/domain.h"

struct identity_map {
    struct vtd_domain *dom; /* n domains */
    const bool *ok;         /* which of them exist (NULL: all) */
    unsigned n;
    const char *who; /* names the suite in the diagnostic of a failure */
};

/* dma_map_fn over a struct identity_map: phys, or DMA_MAP_FAILED (with a
 * diagnostic) when a domain cannot map it. */
uint64_t identity_map_dma(void *ctx, uint64_t phys, uint64_t len);

/* The DMA space of m, which must live as long as the driver uses it. */
static inline struct dma_space identity_space(struct identity_map *m)
{
    struct dma_space s = {identity_map_dma, m};
    return s;
}

#endif
