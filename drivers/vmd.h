/* Intel Volume Management Device (VMD): a PCIe endpoint (class 0104, RAID)
 * that puts the NVMe drives of its root ports into a PCI domain of its own,
 * reached only through the VMD's BARs.  Firmware turns it on for Intel RST;
 * vtdsync then finds no NVMe controller in the normal PCI tree, and DMA from
 * the hidden drives reaches the IOMMU with the VMD's requester ID.  The lab
 * has to turn VMD off in the firmware setup; this module says so. */
#ifndef DRIVERS_VMD_H
#define DRIVERS_VMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The platform of a VMD controller from config dwords 0x00 (device:vendor)
 * and 0x08 (class:revision), or NULL when the function is not one. */
const char *vmd_platform(uint32_t id, uint32_t class_rev);

/* Config space access for the scan: dword `off` of function `i` of n. */
struct vmd_scan_ops {
    void *ctx;
    unsigned n;
    uint32_t (*read32)(void *ctx, unsigned i, unsigned off);
    /* "SSSS:BB:DD.F" of function i */
    void (*name)(void *ctx, unsigned i, char *buf, size_t len);
};

/* Scans every function; returns how many VMD controllers there are and puts
 * into buf a sentence for skip reasons ("" when none), e.g. "an Intel VMD
 * controller (Alder Lake) at 0000:00:0e.0 hides the NVMe drives behind it:
 * turn VMD (Intel RST) off in the firmware setup". */
unsigned vmd_scan(const struct vmd_scan_ops *ops, char *buf, size_t len);

#endif
