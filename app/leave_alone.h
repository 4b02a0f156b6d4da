/* Which remapping units vtdsync must leave alone: translation (GCMD.TE)
 * is neither switched on nor off there, by any suite or at the end.
 *
 * - A unit that translates no device under test (the NVMe, edu or ATS
 *   function a suite takes for its DMA): toggling it tests nothing and
 *   only risks the devices behind it (a lab machine's GPU, USB, NIC).
 * - The graphics unit of the GPU generations Linux lists in its
 *   quirk_igfx_skip_te_disable: these integrated GPUs can fail to drain
 *   their DMA when TE is cleared (VT-d spec 11.4.4: the unit completes a
 *   TE change only after draining in-flight requests), so the unit never
 *   reports TES = 0 and Linux therefore never clears TE on it.  Linux
 *   also asks for CAP.DRD or DWD (the hang is in the drain); every
 *   graphics unit in the real-hardware data reports both, and holding TE
 *   without them costs nothing, so vtdsync does not ask.
 *
 * Portable: the PCI functions come through struct leave_alone_pci, so the
 * host test feeds a fake list. */
#ifndef APP_LEAVE_ALONE_H
#define APP_LEAVE_ALONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acpi/dmar.h"
#include "lib/why.h"

struct pci_dev;

struct leave_alone_pci {
    unsigned (*count)(void *ctx);
    const struct pci_dev *(*get)(void *ctx, unsigned i);
    /* Does a suite take d for its DMA? */
    bool (*under_test)(void *ctx, const struct pci_dev *d);
    void *ctx;
};

enum leave_alone {
    LEAVE_NONE, /* a device under test is behind it: suites may switch TE */
    LEAVE_IDLE, /* no device under test behind it */
    LEAVE_IGFX, /* the graphics unit of a listed GPU generation: for good */
};

/* Intel (0x8086), display class (base class 03) and a device ID whose high
 * byte names a generation Linux lists: Ice Lake (0x8a), Lakefield (0x98),
 * Tiger Lake (0x9a), Rocket Lake (0x4c), Jasper/Elkhart Lake (0x4e, 0x45),
 * Alder Lake (0x46), Raptor Lake (0xa7), Meteor Lake (0x7d). */
bool igfx_keeps_te(uint16_t vendor, uint16_t device, uint32_t class_code);

/* The decision for unit `unit` of the DMAR (te_on: GSTS.TES as found),
 * with the reason in why (one line, no "# ").  LEAVE_IGFX when every
 * present PCI function in the unit's scope is such a GPU (at least one,
 * no INCLUDE_PCI_ALL, no ACPI-namespace scope; IOAPIC/HPET scopes are
 * interrupt sources, not DMA, and do not count); else LEAVE_IDLE when no
 * function the unit translates is under test; else LEAVE_NONE. */
enum leave_alone leave_alone_unit(const struct dmar_info *dmar, unsigned unit,
                                  const struct leave_alone_pci *pci, bool te_on, struct why *why);

#endif
