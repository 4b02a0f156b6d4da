/* The firmware's own identity-mapped 4-level page tables. */
#ifndef ARCH_X86_PAGING_H
#define ARCH_X86_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "boot/boot_info.h"

enum cache_mode { CACHE_WB, CACHE_WC, CACHE_UC };

/* Identity-map every range of the memory map (RAM write-back, firmware
 * MMIO uncached) except page 0, program the PAT, and switch CR3. */
bool paging_init(const struct boot_info *bi);
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
