/* DMA aliases of a PCI function (see pci_alias.h). */
#include "drivers/pci_alias.h"

#include <stdbool.h>

/* Bridges above a function: the enumerator stops at 32, a corrupt parent
 * chain must not loop here either. */
#define MAX_UP 64

/* Functions known to issue DMA under another function number of the same
 * device (Marvell SATA controllers use function 1, some Ricoh card readers
 * function 0).  IDs as Linux lists them; not exhaustive. */
static const struct fn_quirk {
    uint16_t vendor, device;
    uint8_t fn;
} fn_quirks[] = {
    {0x1b4b, 0x9120, 1}, {0x1b4b, 0x9123, 1}, {0x1b4b, 0x9125, 1}, {0x1b4b, 0x9128, 1},
    {0x1b4b, 0x9130, 1}, {0x1b4b, 0x9172, 1}, {0x1b4b, 0x917a, 1}, {0x1b4b, 0x9182, 1},
    {0x1b4b, 0x91a0, 1}, {0x1b4b, 0x9215, 1}, {0x1b4b, 0x9220, 1}, {0x1b4b, 0x9230, 1},
    {0x1103, 0x0642, 1}, {0x197b, 0x2394, 1}, {0x1180, 0xe832, 0}, {0x1180, 0xe476, 0},
};

/* PCIe-to-PCI bridges without a PCIe capability (ASMedia, Tundra, ITE and
 * Intel 82801 parts, IDs as Linux lists them): below a PCIe port they
 * forward with their secondary bus, like a type 7 bridge. */
static const struct {
    uint16_t vendor, device;
} hidden_pcie_bridges[] = {
    {0x1b21, 0x1080},
    {0x10e3, 0x8113},
    {0x1283, 0x8892},
    {0x8086, 0x244e},
};

static uint16_t rid_of(uint8_t bus, uint8_t dev, uint8_t fn)
{
    return (uint16_t)(bus << 8 | (dev & 31) << 3 | (fn & 7));
}

static bool is_pcie(const struct pci_dev *d)
{
    return d->caps.pcie != 0;
}

/* A bridge without the PCIe capability that still acts as a PCIe-to-PCI
 * bridge: listed above and sitting right below a PCIe port. */
static bool hidden_pcie_bridge(const struct pci_dev *b, const struct pci_dev *above)
{
    if (!above || !is_pcie(above) || above->caps.pcie_type == PCIE_TYPE_PCIE_TO_PCI)
        return false;
    for (unsigned i = 0; i < sizeof(hidden_pcie_bridges) / sizeof(hidden_pcie_bridges[0]); i++)
        if (b->vendor == hidden_pcie_bridges[i].vendor &&
            b->device == hidden_pcie_bridges[i].device)
            return true;
    return false;
}

struct alias_list {
    struct pci_alias *out;
    unsigned max, n;
};

static void add(struct alias_list *l, uint16_t rid, enum pci_alias_kind kind, int bridge)
{
    unsigned stored = l->n < l->max ? l->n : l->max;
    for (unsigned i = 0; i < stored; i++)
        if (l->out[i].rid == rid)
            return; /* e.g. the device is itself 00.0 of the secondary bus */
    if (l->n < l->max)
        l->out[l->n] = (struct pci_alias){.rid = rid, .kind = (uint8_t)kind, .bridge = bridge};
    l->n++;
}

static struct pci_dev *parent_of(const struct pci_dev *d, struct pci_dev *(*get)(unsigned))
{
    return d->parent < 0 ? 0 : get((unsigned)d->parent);
}

unsigned pci_dma_aliases(const struct pci_dev *d, struct pci_dev *(*get)(unsigned),
                         struct pci_alias *out, unsigned max)
{
    struct alias_list l = {.out = out, .max = max};
    add(&l, rid_of(d->bus, d->dev, d->fn), PCI_ALIAS_SELF, -1);
    for (unsigned i = 0; i < sizeof(fn_quirks) / sizeof(fn_quirks[0]); i++) {
        const struct fn_quirk *q = &fn_quirks[i];
        if (d->vendor == q->vendor && d->device == q->device && d->fn != q->fn)
            add(&l, rid_of(d->bus, d->dev, q->fn), PCI_ALIAS_QUIRK_FN, -1);
    }
    /* Up the path: each bridge that takes requests over adds its ID; a
     * PCIe switch port or root port passes them on unchanged. */
    int bi = d->parent;
    const struct pci_dev *b = parent_of(d, get);
    for (unsigned up = 0; b && up < MAX_UP; up++) {
        const struct pci_dev *above = parent_of(b, get);
        uint16_t secondary = rid_of(b->secondary, 0, 0);
        uint16_t own = rid_of(b->bus, b->dev, b->fn);
        if (is_pcie(b)) {
            if (b->caps.pcie_type == PCIE_TYPE_PCIE_TO_PCI)
                add(&l, secondary, PCI_ALIAS_SECONDARY, bi);
            else if (b->caps.pcie_type == PCIE_TYPE_PCI_TO_PCIE)
                add(&l, own, PCI_ALIAS_BRIDGE, bi);
            /* root port, switch ports: requests pass as they are */
        } else if (b->header_type == 1) {
            if (hidden_pcie_bridge(b, above))
                add(&l, secondary, PCI_ALIAS_SECONDARY, bi);
            else /* conventional PCI or PCI-X bridge: it owns what it forwards */
                add(&l, own, PCI_ALIAS_BRIDGE, bi);
        }
        bi = b->parent;
        b = above;
    }
    return l.n;
}

const char *pci_alias_kind_name(unsigned kind)
{
    switch (kind) {
    case PCI_ALIAS_SELF:
        return "its own ID";
    case PCI_ALIAS_QUIRK_FN:
        return "phantom function, quirk table";
    case PCI_ALIAS_SECONDARY:
        return "secondary bus of the PCIe-to-PCI bridge";
    case PCI_ALIAS_BRIDGE:
        return "ID of the bridge";
    }
    return "?";
}
