/* The firmware's own identity-mapped 4-level page tables. */
#ifndef ARCH_X86_PAGING_H
#define ARCH_X86_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "boot/boot_info.h"

enum cache_mode { CACHE_WB, CACHE_WC, CACHE_UC };

/* Identity-map the memory map as paging_range_mode says, except page 0,
 * program the PAT, and switch CR3. */
bool paging_init(const struct boot_info *bi);
/* Whether and how range r of the memory map is mapped (paging_policy.c):
 * free and loaded memory, ACPI reclaim and runtime services memory the EFI
 * attributes allow WB for: write-back; MMIO, ACPI NVS, reserved and other
 * firmware memory: uncached; unusable and unaccepted memory: false, not
 * mapped. */
bool paging_range_mode(const struct mem_range *r, enum cache_mode *mode);
/* Map [phys, phys+size) identity with the given caching; splits large
 * pages as needed.  Returns false when out of memory for tables. */
bool paging_map(uint64_t phys, uint64_t size, enum cache_mode mode);
static inline bool paging_map_mmio(uint64_t phys, uint64_t size)
{
    return paging_map(phys, size, CACHE_UC);
}
bool paging_is_mapped(uint64_t addr);
uint64_t paging_table_pages(void);
/* The PAT value every CPU loads (entry 1 = write-combining). */
void paging_load_pat(void);
uint64_t paging_root(void);

#endif
