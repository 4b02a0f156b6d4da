/* The firmware side of the VT-d engine: struct vtd_ops on real hardware
 * (uncached MMIO, the TSC, page_alloc, CLFLUSH, CMPXCHG16B) and unit
 * bring-up with the fault interrupt wired to VEC_IOMMU_FAULT + index. */
#ifndef IOMMU_VTD_HW_H
#define IOMMU_VTD_HW_H

#include <stddef.h>
#include <stdint.h>

#include "iommu/vtd.h"

extern const struct vtd_ops vtd_hw_ops;

/* Map the register range, bring the unit up (vtd_unit_init) and arm the
 * fault event MSI to this CPU.  Returns 0 or -1 with the reason in why. */
int vtd_hw_unit_init(struct vtd_unit *u, int index, uint64_t reg_base, uint64_t reg_size,
                     uint16_t segment, enum vtd_mode_request want, struct why *why);

#endif
