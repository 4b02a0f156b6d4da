/* The EFI memory map, put in address order.
 *
 * UEFI does not promise a sorted map (OVMF with more than 4 GiB of RAM and
 * the Secure-Boot builds hand out descriptors out of order), and nothing
 * forbids two descriptors from sharing addresses, although that would be a
 * firmware defect.  memmap_normalize() sorts the converted ranges by
 * address, joins neighbours of one type and attribute set, and counts true
 * overlaps so that the boot suite can name them.  Portable: host-tested. */
#ifndef BOOT_MEMMAP_H
#define BOOT_MEMMAP_H

#include <stdint.h>

#include "boot/boot_info.h"

/* Exclusive end of a range, saturated at 2^64 - 4096 for absurd sizes. */
uint64_t memmap_end(const struct mem_range *r);

/* Sort r[0..n) by base, merge address-adjacent ranges of the same EFI type
 * and attributes, count overlaps (kept, not merged: which one is right is
 * not ours to guess).  Returns the new count (<= n); fills *rep. */
uint32_t memmap_normalize(struct mem_range *r, uint32_t n, struct memmap_report *rep);

#endif
