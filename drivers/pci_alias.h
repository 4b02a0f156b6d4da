/* DMA aliases: the requester IDs a PCI function's DMA may carry.
 *
 * A request reaches the remapping unit with the requester ID (source-id)
 * of whoever issued it on the last link.  PCIe switches and root ports pass
 * requests on unchanged, but some bridges take them over:
 *
 *   - a PCIe-to-PCI/PCI-X bridge (PCIe port type 7) forwards a conventional
 *     PCI device's request with its secondary bus number and device 0,
 *     function 0 (conventional PCI has no requester ID on the bus; PCI-X
 *     has one, so that transaction may still carry the device's own);
 *   - a PCI/PCI-X-to-PCIe bridge (type 8), and a PCI-to-PCI bridge without
 *     a PCIe capability (a conventional or PCI-X hierarchy), forward it
 *     with their own ID;
 *   - a few functions issue DMA under the ID of another function of the
 *     same device (listed in the quirk table of pci_alias.c), and a few
 *     PCIe-to-PCI bridges lack the PCIe capability that would say so.
 *
 * Each such bridge up the path adds one alias; the device's own ID stays
 * first.  Every alias must get the same translation as the device, or its
 * DMA meets a missing context entry. */
#ifndef DRIVERS_PCI_ALIAS_H
#define DRIVERS_PCI_ALIAS_H

#include <stdint.h>

#include "drivers/pci.h"

/* PCIe capability, Device/Port Type (PCIe base spec 7.5.3.2). */
enum {
    PCIE_TYPE_ENDPOINT = 0x0,
    PCIE_TYPE_LEGACY_ENDPOINT = 0x1,
    PCIE_TYPE_ROOT_PORT = 0x4,
    PCIE_TYPE_UPSTREAM = 0x5,
    PCIE_TYPE_DOWNSTREAM = 0x6,
    PCIE_TYPE_PCIE_TO_PCI = 0x7, /* PCIe-to-PCI/PCI-X bridge */
    PCIE_TYPE_PCI_TO_PCIE = 0x8, /* PCI/PCI-X-to-PCIe bridge */
    PCIE_TYPE_RCIEP = 0x9,
    PCIE_TYPE_RC_EC = 0xa,
};

/* Why a requester ID is on the list. */
enum pci_alias_kind {
    PCI_ALIAS_SELF,      /* the function's own ID */
    PCI_ALIAS_QUIRK_FN,  /* another function of the device (quirk table) */
    PCI_ALIAS_SECONDARY, /* a PCIe-to-PCI bridge's secondary bus, 00.0 */
    PCI_ALIAS_BRIDGE,    /* a bridge's own ID */
};

struct pci_alias {
    uint16_t rid; /* bus << 8 | device << 3 | function, same segment */
    uint8_t kind; /* enum pci_alias_kind */
    int bridge;   /* index of the bridge that introduces it, -1: none */
};

/* Bridges above the device are found with get(d->parent), get(its
 * parent), ... (pci_get in the firmware; a fake table in host tests).
 * Writes up to max distinct requester IDs, the device's own first, and
 * returns how many there are (more than max when some did not fit). */
unsigned pci_dma_aliases(const struct pci_dev *d, struct pci_dev *(*get)(unsigned),
                         struct pci_alias *out, unsigned max);

/* "its own ID", "phantom function, quirk table", "secondary bus of the
 * PCIe-to-PCI bridge", "ID of the bridge" (a bridge's ID may follow). */
const char *pci_alias_kind_name(unsigned kind);

#endif
