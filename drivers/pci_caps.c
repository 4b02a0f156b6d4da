/* PCI BAR sizing, capability walks and the one-line device description. */
#include "arch/x86/cpu.h"
#include "drivers/pci.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/printf.h"

/* Standard and extended capability ids. */
enum {
    CAP_PM = 0x01,
    CAP_MSI = 0x05,
    CAP_PCIE = 0x10,
    CAP_MSIX = 0x11,
    ECAP_ACS = 0x0d,
    ECAP_ATS = 0x0f,
    ECAP_PRI = 0x13,
    ECAP_PASID = 0x1b,
};

/* A list longer than this has a cycle: 48 is every dword slot from 0x40. */
#define MAX_STD_CAPS 48
#define MAX_EXT_CAPS ((4096 - 256) / 4)

/* Size one BAR: write all ones, read the mask back, restore. */
static uint32_t bar_probe(struct pci_dev *d, uint16_t off, uint32_t *orig)
{
    *orig = pci_read32(d, off);
    pci_write32(d, off, 0xffffffffu);
    uint32_t mask = pci_read32(d, off);
    pci_write32(d, off, *orig);
    return mask;
}

void pci_read_bars(struct pci_dev *d)
{
    unsigned n = d->header_type == 0 ? 6 : d->header_type == 1 ? 2 : 0;
    memset(d->bars, 0, sizeof(d->bars));
    d->nbars = n;
    if (!n)
        return;
    /* Decode stays off while a BAR holds all ones, so the device cannot
     * claim a bogus range; no interrupt handler may touch it meanwhile. */
    bool was = irq_enabled();
    irq_disable();
    uint16_t cmd = pci_read16(d, PCI_COMMAND);
    pci_write16(d, PCI_COMMAND, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));
    for (unsigned i = 0; i < n; i++) {
        struct pci_bar *b = &d->bars[i];
        uint16_t off = (uint16_t)(PCI_BAR0 + 4 * i);
        uint32_t orig, mask = bar_probe(d, off, &orig);
        if (mask == 0 || mask == 0xffffffffu)
            continue; /* absent (or the device went away) */
        if (orig & 1) {
            uint32_t m = mask & ~3u;
            if (!(m & 0xffff0000u))
                m |= 0xffff0000u; /* 16-bit I/O decoders return 0 above */
            b->kind = PCI_BAR_IO;
            b->base = orig & ~3u;
            b->size = (uint32_t)(~m + 1);
            continue;
        }
        b->prefetch = orig & 8;
        uint64_t m = mask & ~0xfull;
        b->base = orig & ~0xfull;
        if (((orig >> 1) & 3) == 2) {
            if (i + 1 >= n) {
                ktap_diag("pci: %02x:%02x.%x BAR%u claims 64 bits in the last slot", d->bus, d->dev,
                          d->fn, i);
                b->base = 0;
                continue;
            }
            uint32_t orig_hi, mask_hi = bar_probe(d, off + 4, &orig_hi);
            m |= (uint64_t)mask_hi << 32;
            b->base |= (uint64_t)orig_hi << 32;
            b->kind = PCI_BAR_MEM64;
            b->size = ~m + 1;
            i++; /* the upper half is not a BAR of its own */
        } else {
            m |= 0xffffffff00000000ull;
            b->kind = PCI_BAR_MEM32;
            b->size = ~m + 1;
        }
    }
    pci_write16(d, PCI_COMMAND, cmd);
    if (was)
        irq_enable();
}

static void std_cap(struct pci_dev *d, uint8_t id, uint8_t at)
{
    struct pci_caps *c = &d->caps;
    switch (id) {
    case CAP_PM:
        c->pm = at;
        break;
    case CAP_MSI:
        c->msi = at;
        c->msi_64bit = pci_read16(d, at + 2) & (1u << 7);
        break;
    case CAP_MSIX:
        c->msix = at;
        c->msix_entries = (pci_read16(d, at + 2) & 0x7ff) + 1;
        break;
    case CAP_PCIE: {
        c->pcie = at;
        c->pcie_type = (pci_read16(d, at + 2) >> 4) & 0xf;
        uint16_t lnksta = pci_read16(d, at + 0x12);
        c->link_speed = lnksta & 0xf;
        c->link_width = (lnksta >> 4) & 0x3f;
        break;
    }
    }
}

static void ext_cap(struct pci_dev *d, uint16_t id, uint16_t at)
{
    struct pci_caps *c = &d->caps;
    switch (id) {
    case ECAP_PASID: {
        uint16_t cap = pci_read16(d, at + 4);
        c->pasid = at;
        c->pasid_exec = cap & (1u << 1);
        c->pasid_priv = cap & (1u << 2);
        c->pasid_width = (cap >> 8) & 0x1f;
        c->pasid_enabled = pci_read16(d, at + 6) & 1;
        break;
    }
    case ECAP_ATS:
        c->ats = at;
        c->ats_inv_depth = pci_read16(d, at + 4) & 0x1f;
        c->ats_enabled = pci_read16(d, at + 6) & (1u << 15);
        break;
    case ECAP_PRI:
        c->pri = at;
        c->pri_enabled = pci_read16(d, at + 4) & 1;
        c->pri_capacity = pci_read32(d, at + 8);
        break;
    case ECAP_ACS:
        c->acs = at;
        c->acs_cap = pci_read16(d, at + 4);
        c->acs_ctrl = pci_read16(d, at + 6);
        break;
    }
}

void pci_read_caps(struct pci_dev *d)
{
    struct pci_caps *c = &d->caps;
    memset(c, 0, sizeof(*c));
    uint16_t status = pci_read16(d, PCI_STATUS);
    if (status == 0xffff || !(status & (1u << 4)) || d->header_type > 2)
        return;
    uint8_t at = pci_read8(d, d->header_type == 2 ? 0x14 : PCI_CAP_PTR) & 0xfc;
    int n = 0;
    for (; at && n < MAX_STD_CAPS; n++) {
        if (at < 0x40) {
            ktap_diag("pci: %02x:%02x.%x capability pointer %#x inside the header", d->bus, d->dev,
                      d->fn, at);
            c->cap_loop = true;
            break;
        }
        std_cap(d, pci_read8(d, at), at);
        at = pci_read8(d, at + 1) & 0xfc;
    }
    if (n == MAX_STD_CAPS) {
        ktap_diag("pci: %02x:%02x.%x capability list does not end", d->bus, d->dev, d->fn);
        c->cap_loop = true;
    }
    /* Extended space exists only for PCIe functions reached through ECAM. */
    if (!d->ecam || !c->pcie)
        return;
    uint16_t off = 0x100;
    for (n = 0; n < MAX_EXT_CAPS; n++) {
        uint32_t h = pci_read32(d, off);
        if (h == 0 || h == 0xffffffffu)
            break;
        ext_cap(d, h & 0xffff, off);
        uint16_t next = (h >> 20) & 0xffc;
        if (!next)
            break;
        if (next < 0x100) {
            ktap_diag("pci: %02x:%02x.%x extended capability pointer %#x below 0x100", d->bus,
                      d->dev, d->fn, next);
            c->cap_loop = true;
            break;
        }
        off = next;
    }
    if (n == MAX_EXT_CAPS) {
        ktap_diag("pci: %02x:%02x.%x extended capability list does not end", d->bus, d->dev, d->fn);
        c->cap_loop = true;
    }
}

const char *pci_class_name(uint32_t cc)
{
    static const struct {
        uint32_t code, mask;
        const char *name;
    } names[] = {
        {0x010802, 0xffffff, "NVMe"},        {0x010600, 0xffff00, "SATA"},
        {0x010000, 0xff0000, "storage"},     {0x020000, 0xff0000, "network"},
        {0x030000, 0xff0000, "display"},     {0x040000, 0xff0000, "multimedia"},
        {0x060000, 0xffff00, "host bridge"}, {0x060100, 0xffff00, "ISA bridge"},
        {0x060400, 0xffff00, "PCI bridge"},  {0x060000, 0xff0000, "bridge"},
        {0x070000, 0xff0000, "serial"},      {0x080600, 0xffff00, "IOMMU"},
        {0x080000, 0xff0000, "system"},      {0x0c0300, 0xffff00, "USB"},
        {0x0c0500, 0xffff00, "SMBus"},       {0x0c0000, 0xff0000, "serial bus"},
        {0x120000, 0xff0000, "accelerator"}, {0xff0000, 0xff0000, "other"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if ((cc & names[i].mask) == names[i].code)
            return names[i].name;
    return "device";
}

static int size_text(char *buf, size_t size, uint64_t bytes)
{
    static const char units[] = "KMGT";
    int u = -1;
    while (bytes >= 1024 && !(bytes & 1023) && u < 3) {
        bytes >>= 10;
        u++;
    }
    if (u < 0)
        return ksnprintf(buf, size, "%llu", (unsigned long long)bytes);
    return ksnprintf(buf, size, "%llu%c", (unsigned long long)bytes, units[u]);
}

int pci_describe(const struct pci_dev *d, char *buf, size_t size)
{
    static const char *const kind[] = {"", "io", "mem32", "mem64"};
    const struct pci_caps *c = &d->caps;
    size_t n = 0;
#define PUT(...)                                                                                   \
    do {                                                                                           \
        if (n < size)                                                                              \
            n += ksnprintf(buf + n, size - n, __VA_ARGS__);                                        \
    } while (0)
    PUT("%04x:%02x:%02x.%x %04x:%04x %06x %s", d->seg, d->bus, d->dev, d->fn, d->vendor, d->device,
        d->class_code, pci_class_name(d->class_code));
    if (d->header_type == 1)
        PUT(" bus %02x-%02x", d->secondary, d->subordinate);
    for (unsigned i = 0; i < d->nbars; i++) {
        const struct pci_bar *b = &d->bars[i];
        if (b->kind == PCI_BAR_NONE)
            continue;
        char sz[16];
        size_text(sz, sizeof(sz), b->size);
        PUT(" bar%u=%s%s:%#llx+%s", i, kind[b->kind], b->prefetch ? "p" : "",
            (unsigned long long)b->base, sz);
    }
    if (c->pcie)
        PUT(" pcie(type %u x%u gen%u)", c->pcie_type, c->link_width, c->link_speed);
    if (c->msi)
        PUT(" msi%s", c->msi_64bit ? "64" : "");
    if (c->msix)
        PUT(" msix(%u)", c->msix_entries);
    if (c->pasid)
        PUT(" pasid(%u bits%s%s%s)", c->pasid_width, c->pasid_exec ? " exec" : "",
            c->pasid_priv ? " priv" : "", c->pasid_enabled ? " on" : "");
    if (c->ats)
        PUT(" ats%s", c->ats_enabled ? "(on)" : "");
    if (c->pri)
        PUT(" pri(%u)", c->pri_capacity);
    if (c->acs)
        PUT(" acs(%#x)", c->acs_cap);
    if (c->cap_loop)
        PUT(" BAD-CAP-LIST");
    if (d->parent >= 0) {
        const struct pci_dev *p = pci_get((unsigned)d->parent);
        if (p)
            PUT(" via %02x:%02x.%x", p->bus, p->dev, p->fn);
    }
#undef PUT
    return (int)(n < size ? n : size - 1);
}

bool pci_ats_enable(struct pci_dev *d, bool on)
{
    if (!d->caps.ats)
        return false;
    /* ATS control: bit 15 enable, bits 4:0 smallest translation unit
     * (2^(12+STU) bytes; 0 = 4 KiB). */
    pci_write16(d, d->caps.ats + 6, on ? 1u << 15 : 0);
    d->caps.ats_enabled = pci_read16(d, d->caps.ats + 6) & (1u << 15);
    return d->caps.ats_enabled == on;
}
