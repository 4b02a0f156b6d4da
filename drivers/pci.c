/* PCI configuration access and enumeration. */
#include "drivers/pci.h"

#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/page.h"
#include "lib/printf.h"

#define CF8_ADDR 0xcf8
#define CF8_DATA 0xcfc
#define MAX_BRIDGE_DEPTH 32

static struct pci_ecam_window windows[PCI_MAX_WINDOWS];
static unsigned nwindows;
static bool legacy;
static struct pci_dev *devs; /* [0, capacity), page-allocated */
static unsigned ndevs, capacity, problems;
static bool out_of_room;
/* Buses already scanned, per window (legacy mode uses slot 0). */
static uint8_t visited[PCI_MAX_WINDOWS][256 / 8];

static void problem(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void problem(const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    ktap_diag("pci: %s", line);
    problems++;
}

/* --- raw config access --------------------------------------------------- */

static uint64_t ecam_lookup(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
    for (unsigned i = 0; i < nwindows; i++) {
        const struct pci_ecam_window *w = &windows[i];
        if (w->segment == seg && bus >= w->start_bus && bus <= w->end_bus)
            return w->base + ((uint64_t)bus << 20) + ((uint64_t)dev << 15) + ((uint64_t)fn << 12);
    }
    return 0;
}

static uint32_t cf8_address(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
    return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)(dev & 31) << 11 |
           (uint32_t)(fn & 7) << 8 | (off & 0xfc);
}

/* The address/data pair must not be split by an interrupt handler that
 * touches config space too. */
static uint32_t cf8_access(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off, int width, bool write,
                           uint32_t v)
{
    bool was = irq_enabled();
    irq_disable();
    outl(CF8_ADDR, cf8_address(bus, dev, fn, off));
    uint16_t port = CF8_DATA + (off & 3);
    if (write) {
        if (width == 1)
            outb(port, (uint8_t)v);
        else if (width == 2)
            outw(port, (uint16_t)v);
        else
            outl(port, v);
    } else {
        v = width == 1 ? inb(port) : width == 2 ? inw(port) : inl(port);
    }
    if (was)
        irq_enable();
    return v;
}

uint32_t pci_legacy_read32(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
    return cf8_access(bus, dev, fn, off & 0xfc, 4, false, 0);
}

/* ecam == 0: legacy.  width 1, 2 or 4; off aligned to width. */
static uint32_t cfg_read(uint64_t ecam, const struct pci_dev *d, uint16_t off, int width)
{
    uint32_t ones = width == 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
    if (off & (width - 1) || off + width > (ecam ? 4096 : 256))
        return ones;
    if (ecam) {
        if (width == 1)
            return mmio_read8(ecam + off);
        if (width == 2)
            return mmio_read16(ecam + off);
        return mmio_read32(ecam + off);
    }
    if (d->seg != 0)
        return ones;
    return cf8_access(d->bus, d->dev, d->fn, (uint8_t)off, width, false, 0);
}

static void cfg_write(uint64_t ecam, const struct pci_dev *d, uint16_t off, int width, uint32_t v)
{
    if (off & (width - 1) || off + width > (ecam ? 4096 : 256))
        return;
    if (ecam) {
        if (width == 1)
            mmio_write8(ecam + off, (uint8_t)v);
        else if (width == 2)
            mmio_write16(ecam + off, (uint16_t)v);
        else
            mmio_write32(ecam + off, v);
        return;
    }
    if (d->seg == 0)
        cf8_access(d->bus, d->dev, d->fn, (uint8_t)off, width, true, v);
}

uint8_t pci_read8(const struct pci_dev *d, uint16_t off)
{
    return (uint8_t)cfg_read(d->ecam, d, off, 1);
}
uint16_t pci_read16(const struct pci_dev *d, uint16_t off)
{
    return (uint16_t)cfg_read(d->ecam, d, off, 2);
}
uint32_t pci_read32(const struct pci_dev *d, uint16_t off)
{
    return cfg_read(d->ecam, d, off, 4);
}
void pci_write8(const struct pci_dev *d, uint16_t off, uint8_t v)
{
    cfg_write(d->ecam, d, off, 1, v);
}
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v)
{
    cfg_write(d->ecam, d, off, 2, v);
}
void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v)
{
    cfg_write(d->ecam, d, off, 4, v);
}

uint32_t pci_cfg_read32(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    struct pci_dev tmp = {.seg = seg, .bus = bus, .dev = dev, .fn = fn};
    if (!legacy) {
        tmp.ecam = ecam_lookup(seg, bus, dev, fn);
        if (!tmp.ecam)
            return 0xffffffffu;
    }
    return cfg_read(tmp.ecam, &tmp, off & ~3u, 4);
}

/* --- enumeration ----------------------------------------------------------- */

static bool bus_seen(unsigned w, uint8_t bus)
{
    return visited[w][bus / 8] & (1u << (bus % 8));
}

static void scan_bus(unsigned w, uint16_t seg, uint8_t bus, int parent, int depth);

static void scan_bridge(unsigned w, struct pci_dev *b, int depth)
{
    const struct pci_ecam_window *win = legacy ? 0 : &windows[w];
    uint8_t lo = win ? win->start_bus : 0, hi = win ? win->end_bus : 255;
    uint8_t pri = pci_read8(b, PCI_PRIMARY_BUS);
    char name[16];
    ksnprintf(name, sizeof(name), "%02x:%02x.%x", b->bus, b->dev, b->fn);
    if (b->secondary == 0 && b->subordinate == 0) {
        ktap_diag("pci: bridge %s has no bus numbers assigned; not scanned", name);
        return;
    }
    if (pri != b->bus)
        problem("bridge %s: primary bus %#x differs from its own bus %#x", name, pri, b->bus);
    if (b->secondary <= b->bus || b->subordinate < b->secondary) {
        problem("bridge %s: bad bus numbers secondary %#x subordinate %#x; not scanned", name,
                b->secondary, b->subordinate);
        return;
    }
    if (b->secondary < lo || b->subordinate > hi) {
        problem("bridge %s: buses %#x-%#x outside the ECAM window %#x-%#x; not scanned", name,
                b->secondary, b->subordinate, lo, hi);
        return;
    }
    if (depth >= MAX_BRIDGE_DEPTH) {
        problem("bridge %s: more than %d bridges deep; not scanned", name, MAX_BRIDGE_DEPTH);
        return;
    }
    if (bus_seen(w, b->secondary)) {
        problem("bridge %s: secondary bus %#x already scanned (numbering loop)", name,
                b->secondary);
        return;
    }
    scan_bus(w, b->seg, b->secondary, pci_index(b), depth + 1);
}

/* Room for one more function: the table doubles into new pages.  The old
 * table is not freed: a caller may still hold pointers from an earlier
 * pci_init (the scan itself holds none across add_function). */
static bool room_for_one(void)
{
    if (ndevs < capacity)
        return true;
    uint64_t want = capacity ? 2ull * capacity : 64;
    uint64_t pages = (want * sizeof(*devs) + PAGE_SIZE - 1) / PAGE_SIZE;
    struct pci_dev *t = want <= 0x10000000u ? page_alloc(pages) : 0;
    if (!t)
        return false;
    if (ndevs)
        memcpy(t, devs, ndevs * sizeof(*devs));
    devs = t;
    capacity = (unsigned)(pages * PAGE_SIZE / sizeof(*devs));
    return true;
}

static struct pci_dev *add_function(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
                                    uint64_t ecam, uint32_t id, int parent)
{
    if (!room_for_one()) {
        if (!out_of_room)
            problem("out of memory for more than %u functions; the rest are not listed", ndevs);
        out_of_room = true;
        return 0;
    }
    struct pci_dev *d = &devs[ndevs++];
    memset(d, 0, sizeof(*d));
    d->seg = seg;
    d->bus = bus;
    d->dev = dev;
    d->fn = fn;
    d->ecam = ecam;
    d->parent = parent;
    d->vendor = (uint16_t)id;
    d->device = (uint16_t)(id >> 16);
    uint32_t cr = pci_read32(d, PCI_CLASS_REV);
    d->revision = (uint8_t)cr;
    d->class_code = cr >> 8;
    uint8_t ht = pci_read8(d, PCI_HEADER_TYPE);
    d->header_type = ht & 0x7f;
    d->multifunction = ht & 0x80;
    if (d->header_type == 1) {
        d->secondary = pci_read8(d, PCI_SECONDARY_BUS);
        d->subordinate = pci_read8(d, PCI_SUBORDINATE_BUS);
    } else if (d->header_type > 2) {
        problem("%02x:%02x.%x: unknown header type %#x", bus, dev, fn, d->header_type);
    }
    pci_read_bars(d);
    pci_read_caps(d);
    return d;
}

static void scan_bus(unsigned w, uint16_t seg, uint8_t bus, int parent, int depth)
{
    visited[w][bus / 8] |= 1u << (bus % 8);
    for (uint8_t dev = 0; dev < 32; dev++) {
        for (uint8_t fn = 0; fn < 8; fn++) {
            uint64_t ecam = legacy ? 0 : ecam_lookup(seg, bus, dev, fn);
            struct pci_dev probe = {.seg = seg, .bus = bus, .dev = dev, .fn = fn};
            uint32_t id = cfg_read(ecam, &probe, PCI_VENDOR, 4);
            uint16_t vendor = (uint16_t)id;
            if (vendor == 0xffff || vendor == 0x0000) {
                if (fn == 0)
                    break; /* no function 0: no device */
                continue;
            }
            struct pci_dev *d = add_function(seg, bus, dev, fn, ecam, id, parent);
            if (!d)
                return;
            bool multi = fn == 0 ? d->multifunction : true;
            if (d->header_type == 1)
                scan_bridge(w, d, depth);
            if (!multi)
                break;
        }
    }
}

/* Buses inside some bridge's range in this segment are not root buses even
 * when the scan did not reach them. */
static bool under_a_bridge(uint16_t seg, uint8_t bus)
{
    for (unsigned i = 0; i < ndevs; i++) {
        const struct pci_dev *d = &devs[i];
        if (d->seg == seg && d->header_type == 1 && d->secondary && bus >= d->secondary &&
            bus <= d->subordinate)
            return true;
    }
    return false;
}

static void scan_window(unsigned w, uint16_t seg, uint8_t lo, uint8_t hi)
{
    scan_bus(w, seg, lo, -1, 0);
    /* Servers have several root buses per segment (one per host bridge),
     * reachable from no bridge: look at every other bus of the window. */
    for (unsigned bus = lo + 1u; bus <= hi; bus++) {
        if (bus_seen(w, (uint8_t)bus) || under_a_bridge(seg, (uint8_t)bus))
            continue;
        scan_bus(w, seg, (uint8_t)bus, -1, 0);
    }
}

unsigned pci_init(const struct pci_ecam_window *w, unsigned n)
{
    ndevs = 0;
    problems = 0;
    out_of_room = false;
    nwindows = 0;
    memset(visited, 0, sizeof(visited));
    for (unsigned i = 0; i < n; i++) {
        const struct pci_ecam_window *src = &w[i];
        if (nwindows >= PCI_MAX_WINDOWS) {
            problem("more than %d ECAM windows; the rest are ignored", PCI_MAX_WINDOWS);
            break;
        }
        if (src->end_bus < src->start_bus || !src->base || (src->base & 0xfffff)) {
            problem("ECAM window %u (segment %u base %#llx buses %#x-%#x) is malformed; ignored", i,
                    src->segment, (unsigned long long)src->base, src->start_bus, src->end_bus);
            continue;
        }
        uint64_t start = src->base + ((uint64_t)src->start_bus << 20);
        uint64_t size = ((uint64_t)src->end_bus - src->start_bus + 1) << 20;
        if (!paging_map_mmio(start, size)) {
            problem("cannot map ECAM window %#llx+%#llx; ignored", (unsigned long long)start,
                    (unsigned long long)size);
            continue;
        }
        windows[nwindows++] = *src;
    }
    legacy = nwindows == 0;
    if (legacy)
        scan_window(0, 0, 0, 255);
    for (unsigned i = 0; i < nwindows; i++)
        scan_window(i, windows[i].segment, windows[i].start_bus, windows[i].end_bus);
    return ndevs;
}

const char *pci_access_mode(void)
{
    return legacy ? "legacy" : "ecam";
}

unsigned pci_problems(void)
{
    return problems;
}

/* --- the device table ------------------------------------------------------ */

unsigned pci_count(void)
{
    return ndevs;
}

struct pci_dev *pci_get(unsigned i)
{
    return i < ndevs ? &devs[i] : 0;
}

int pci_index(const struct pci_dev *d)
{
    if (d < devs || d >= devs + ndevs)
        return -1;
    return (int)(d - devs);
}

struct pci_dev *pci_find_bdf(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
    for (unsigned i = 0; i < ndevs; i++)
        if (devs[i].seg == seg && devs[i].bus == bus && devs[i].dev == dev && devs[i].fn == fn)
            return &devs[i];
    return 0;
}

static unsigned first_after(const struct pci_dev *prev)
{
    int i = prev ? pci_index(prev) : -1;
    return (unsigned)(i + 1);
}

struct pci_dev *pci_find_id(uint16_t vendor, uint16_t device, const struct pci_dev *prev)
{
    for (unsigned i = first_after(prev); i < ndevs; i++)
        if (devs[i].vendor == vendor && devs[i].device == device)
            return &devs[i];
    return 0;
}

struct pci_dev *pci_find_class(uint32_t want, uint32_t mask, const struct pci_dev *prev)
{
    for (unsigned i = first_after(prev); i < ndevs; i++)
        if ((devs[i].class_code & mask) == (want & mask))
            return &devs[i];
    return 0;
}

/* --- control --------------------------------------------------------------- */

void pci_enable_mem(const struct pci_dev *d)
{
    uint16_t cmd = pci_read16(d, PCI_COMMAND);
    if (!(cmd & PCI_CMD_MEM))
        pci_write16(d, PCI_COMMAND, cmd | PCI_CMD_MEM);
}

void pci_set_master(const struct pci_dev *d, bool on)
{
    uint16_t cmd = pci_read16(d, PCI_COMMAND);
    uint16_t want = on ? (cmd | PCI_CMD_MASTER) : (cmd & ~PCI_CMD_MASTER);
    if (want != cmd)
        pci_write16(d, PCI_COMMAND, want);
}

uint64_t pci_map_bar(const struct pci_dev *d, unsigned bar, uint64_t min_size)
{
    if (bar >= d->nbars)
        return 0;
    const struct pci_bar *b = &d->bars[bar];
    if ((b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64) || !b->base || b->size < min_size ||
        (b->base & (b->size - 1)))
        return 0;
    if (!paging_map_mmio(b->base, b->size))
        return 0;
    return b->base;
}
