/* A translation domain: a domain id plus a page table (second or first
 * stage) whose memory comes from the unit's ops, with the invalidations
 * that make map/unmap changes visible. */
#ifndef IOMMU_DOMAIN_H
#define IOMMU_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/pgtable.h"

struct vtd_unit;
struct pasid_entry;

struct vtd_domain {
    struct vtd_unit *u;
    uint16_t did;
    struct pgtable pt;
};

/* Second stage (levels from CAP.SAGAW) or first stage (4-level). */
int vtd_domain_init(struct vtd_domain *d, struct vtd_unit *u, enum pgtable_format format);
/* pgtable_map, then the invalidation caching mode needs for a
 * not-present -> present change (6.1), else a write-buffer flush. */
int vtd_domain_map(struct vtd_domain *d, uint64_t iova, uint64_t phys, uint64_t size,
                   unsigned flags);
/* Unmap and invalidate the range (IOTLB, paging-structure caches). */
int vtd_domain_unmap(struct vtd_domain *d, uint64_t iova, uint64_t size, uint32_t pasid);
/* A PASID entry translating through the domain (SS or FS by format). */
/* Map [phys, phys+len) at IOVA = phys, read/write, whole pages; pages
 * already mapped are left as they are.  0 or a pgtable error code. */
int vtd_domain_map_identity(struct vtd_domain *d, uint64_t phys, uint64_t len);
void vtd_domain_pasid_entry(const struct vtd_domain *d, struct pasid_entry *e);
void vtd_domain_destroy(struct vtd_domain *d);

#endif
