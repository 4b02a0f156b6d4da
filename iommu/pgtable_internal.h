/* Helpers shared by the page-table builder (pgtable.c) and the walker
 * (pgtable_walk.c).  Not for other modules: use pgtable.h. */
#ifndef IOMMU_PGTABLE_INTERNAL_H
#define IOMMU_PGTABLE_INTERNAL_H

#include "iommu/pgtable.h"

#define PGTABLE_ENTRIES 512u
#define PGTABLE_MAX_LEVELS 5u

/* Each level resolves 9 address bits above the 12-bit page offset. */
static inline unsigned pgt_level_shift(unsigned level)
{
    return 12 + 9 * (level - 1);
}

static inline uint64_t pgt_level_span(unsigned level)
{
    return 1ULL << pgt_level_shift(level);
}

static inline unsigned pgt_index(uint64_t iova, unsigned level)
{
    return (unsigned)(iova >> pgt_level_shift(level)) & (PGTABLE_ENTRIES - 1);
}

static inline bool pgt_is_ss(const struct pgtable_params *p)
{
    return p->format == PGTABLE_SECOND_STAGE;
}

static inline unsigned pgt_phys_bits(const struct pgtable_params *p)
{
    return p->phys_bits ? p->phys_bits : 52;
}

/* Second stage: an entry with R = W = 0 is not present (9.8).  First stage:
 * the P bit (9.7). */
static inline bool pgt_present(const struct pgtable_params *p, uint64_t e)
{
    if (pgt_is_ss(p))
        return (e & (PGTABLE_SS_R | PGTABLE_SS_W)) != 0;
    return (e & PGTABLE_FS_P) != 0;
}

/* PS is bit 7 in both formats; level 1 entries are always leaves. */
static inline bool pgt_leaf(uint64_t e, unsigned level)
{
    return level == 1 || (e & PGTABLE_SS_PS) != 0;
}

/* Page sizes the format allows at a level (1 = 4 KiB always).  First-stage
 * IA-32e paging always has 2 MiB pages. */
static inline bool pgt_level_has_leaf(const struct pgtable_params *p, unsigned level)
{
    unsigned large = p->large_pages;

    if (!pgt_is_ss(p))
        large |= PGTABLE_LARGE_2M;
    if (level == 1)
        return true;
    if (level == 2)
        return (large & PGTABLE_LARGE_2M) != 0;
    if (level == 3)
        return (large & PGTABLE_LARGE_1G) != 0;
    return false;
}

/* Is [iova, iova + size) inside the input address space?  size >= 1.
 * Second stage: below 2^width.  First stage: canonical, i.e. wholly in the
 * lower half or wholly in the sign-extended upper half (9.7, the first
 * stage checks input addresses like IA-32e paging does). */
static inline bool pgt_range_ok(const struct pgtable_params *p, uint64_t iova, uint64_t size)
{
    unsigned width = 12 + 9 * p->levels;
    uint64_t last = iova + (size - 1);

    if (last < iova)
        return false;
    if (pgt_is_ss(p))
        return last < (1ULL << width);
    uint64_t half = 1ULL << (width - 1);
    if (last < half)
        return true;
    return iova >= (uint64_t)0 - half;
}

#endif
