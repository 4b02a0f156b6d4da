/* Which remapping units to leave alone (see leave_alone.h). */
#include "app/leave_alone.h"

#include "drivers/pci.h"
#include "lib/printf.h"

#define INTEL_VENDOR 0x8086
#define DISPLAY_CLASS 0x03

bool igfx_keeps_te(uint16_t vendor, uint16_t device, uint32_t class_code)
{
    /* The generations of Linux's quirk_igfx_skip_te_disable, by the high
     * byte of the device ID (facts from drivers/iommu/intel/iommu.c). */
    static const uint8_t gens[] = {0x45, 0x46, 0x4c, 0x4e, 0x7d, 0x8a, 0x98, 0x9a, 0xa7};
    if (vendor != INTEL_VENDOR || class_code >> 16 != DISPLAY_CLASS)
        return false;
    for (unsigned i = 0; i < sizeof(gens); i++)
        if (device >> 8 == gens[i])
            return true;
    return false;
}

static const struct pci_dev *find(const struct leave_alone_pci *pci, uint16_t seg, uint8_t bus,
                                  uint8_t dev, uint8_t fn)
{
    unsigned n = pci->count(pci->ctx);
    for (unsigned i = 0; i < n; i++) {
        const struct pci_dev *d = pci->get(pci->ctx, i);
        if (d->seg == seg && d->bus == bus && d->dev == dev && d->fn == fn)
            return d;
    }
    return NULL;
}

/* The GPU when every present PCI function the unit's scopes name is a GPU
 * of a listed generation (Linux's "graphics dedicated" unit), else NULL.
 * Scopes naming absent functions are skipped, as Linux skips them. */
static const struct pci_dev *igfx_of(const struct dmar_info *dmar, const struct dmar_unit *du,
                                     const struct leave_alone_pci *pci)
{
    const struct pci_dev *gpu = NULL;
    if (du->include_pci_all)
        return NULL;
    for (unsigned i = 0; i < du->scopes.count; i++) {
        const struct dmar_scope *sc = &dmar->scopes[du->scopes.first + i];
        if (sc->type == DMAR_SCOPE_IOAPIC || sc->type == DMAR_SCOPE_HPET)
            continue;
        if (sc->type != DMAR_SCOPE_ENDPOINT)
            return NULL; /* a bridge or an ACPI device: more than a GPU */
        const struct pci_dev *d =
            sc->resolved ? find(pci, du->segment, sc->bus, sc->dev, sc->fn) : NULL;
        if (!d)
            continue;
        if (!igfx_keeps_te(d->vendor, d->device, d->class_code))
            return NULL;
        gpu = d;
    }
    return gpu;
}

enum leave_alone leave_alone_unit(const struct dmar_info *dmar, unsigned unit,
                                  const struct leave_alone_pci *pci, bool te_on, struct why *why)
{
    const struct dmar_unit *du = &dmar->units[unit];
    const struct pci_dev *gpu = igfx_of(dmar, du, pci);
    why_clear(why);
    if (gpu) {
        why_set(why,
                "graphics unit of %04x:%04x at %02x:%02x.%x: translation %s (Linux never "
                "clears TE on this GPU generation: the unit may wait forever for the GPU "
                "to drain its DMA)",
                gpu->vendor, gpu->device, gpu->bus, gpu->dev, gpu->fn,
                te_on ? "was on and stays on" : "stays off, so that it never has to be cleared");
        return LEAVE_IGFX;
    }
    unsigned n = pci->count(pci->ctx), mine = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct pci_dev *d = pci->get(pci->ctx, i);
        if (dmar_unit_for_device(dmar, d->seg, d->bus, d->dev, d->fn) != (int)unit)
            continue;
        if (pci->under_test(pci->ctx, d))
            return LEAVE_NONE;
        mine++;
    }
    why_set(why,
            "no device under test behind it (%u PCI function%s, none taken by a "
            "suite): translation stays %s as found",
            mine, mine == 1 ? "" : "s", te_on ? "on" : "off");
    return LEAVE_IDLE;
}
