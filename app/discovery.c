/* Discovery at start-up: ACPI tables, the console, the timers.
 *
 * Everything read from firmware goes through the bounds-checked parsers in
 * acpi/; this file only decides what to do with their results. */
#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"
#include "arch/x86/tsc.h"
#include "drivers/console.h"
#include "drivers/pci.h"
#include "drivers/serial.h"
#include "drivers/vmd.h"
#include "drivers/uart_setup.h"
#include "lib/alloc.h"
#include "lib/kstring.h"
#include "lib/page.h"
#include "lib/printf.h"
#include "app/platform.h"
#include "app/run.h"

struct platform_info platform;

/* The parsers' arrays (sized by the firmware's tables) in whole pages. */
static void *pages_alloc(void *ctx, size_t bytes)
{
    (void)ctx;
    return page_alloc_bytes(bytes);
}

static void pages_free(void *ctx, void *p, size_t bytes)
{
    (void)ctx;
    page_free(p, (bytes + PAGE_SIZE - 1) / PAGE_SIZE);
}

static const struct acpi_mem table_mem = {pages_alloc, pages_free, NULL};

const void *platform_map_phys(uint64_t phys, uint64_t len, void *ctx)
{
    (void)ctx;
    uint64_t limit = 1ull << (cpu.phys_addr_bits ? cpu.phys_addr_bits : 36);
    if (!phys || !len || phys >= limit || len > limit - phys)
        return NULL;
    for (uint64_t a = phys & ~0xfffull; a < phys + len; a += 0x1000) {
        if (!paging_is_mapped(a) && !paging_map(a, 0x1000, CACHE_WB))
            return NULL;
    }
    return (const void *)(uintptr_t)phys;
}

static void count_diag(void *ctx, enum acpi_severity sev, const char *line)
{
    (void)ctx;
    platform.acpi_problems++;
    acpi_diag_print(sev, line);
}

/* DMAR device-scope paths walk through bridges: their bus numbers come
 * from configuration space. */
static int read_bridge_byte(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, unsigned off)
{
    uint32_t id = pci_cfg_read32(seg, bus, dev, fn, 0);
    if (id == 0xffffffffu)
        return -1;
    if (((pci_cfg_read32(seg, bus, dev, fn, 0x0c) >> 16) & 0x7f) != 1)
        return -1; /* not a PCI-to-PCI bridge */
    return (int)((pci_cfg_read32(seg, bus, dev, fn, off & ~3u) >> (8 * (off & 3))) & 0xff);
}

static int secondary_bus(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
    (void)ctx;
    return read_bridge_byte(seg, bus, dev, fn, 0x19);
}

static int subordinate_bus(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
    (void)ctx;
    return read_bridge_byte(seg, bus, dev, fn, 0x1a);
}

static void enumerate_pci(void)
{
    static struct pci_ecam_window w[PCI_MAX_WINDOWS];
    unsigned n = 0;
    for (unsigned i = 0; platform.mcfg_present && i < platform.mcfg.count && n < PCI_MAX_WINDOWS;
         i++) {
        w[n].base = platform.mcfg.windows[i].base;
        w[n].segment = platform.mcfg.windows[i].segment;
        w[n].start_bus = platform.mcfg.windows[i].start_bus;
        w[n].end_bus = platform.mcfg.windows[i].end_bus;
        n++;
    }
    if (!n)
        kprintf("# pci: no MCFG; using legacy configuration ports for segment 0\n");
    if (platform.mcfg_present && platform.mcfg.count > n)
        kprintf("# pci: %u of the %u MCFG windows used (the PCI layer keeps %u); devices in the "
                "others are not seen\n",
                n, platform.mcfg.count, PCI_MAX_WINDOWS);
    pci_init(w, n);
}

/* Maps the index-th table (0: the first) with `sig`; false when absent. */
static bool with_table_at(const char *sig, unsigned index, const void **p, size_t *len)
{
    const struct acpi_table *t = acpi_find_table(&platform.acpi, sig, index);
    if (!t)
        return false;
    *p = acpi_table_map(&platform.acpi, t);
    *len = t->hdr.length;
    return *p != NULL;
}

static bool with_table(const char *sig, const void **p, size_t *len)
{
    return with_table_at(sig, 0, p, len);
}

/* The DMAR to parse: the first, unless dmar_table= names another.  A
 * platform has one; several (stale firmware tables) are worth a line. */
static unsigned choose_dmar(void)
{
    unsigned n = 0, pick = cfg.dmar_table - 1;
    while (acpi_find_table(&platform.acpi, "DMAR", n))
        n++;
    if (pick && pick >= n) {
        kprintf("# acpi: dmar_table=%u, but the firmware lists %u DMAR table(s): using the first\n",
                cfg.dmar_table, n);
        return 0;
    }
    if (n > 1)
        kprintf("# acpi: the firmware lists %u DMAR tables (a platform has one): "
                "using table %u%s\n",
                n, pick + 1, pick ? " (dmar_table=)" : "; dmar_table= picks another");
    return pick;
}

/* A scope that names a bridge holds the whole bus behind it, whatever its
 * type: the bridge forwards that DMA, often under its own or its secondary
 * bus's requester ID (Linux applies RMRRs to devices below a named bridge
 * the same way).  The walk is bounded: parents come from a table. */
bool platform_rmrr_covers(const struct dmar_rmrr *rm, const struct pci_dev *d)
{
    if (!rm->usable || rm->segment != d->seg)
        return false;
    for (unsigned up = 0; d && up < 64; up++) {
        if (dmar_scopes_cover(&platform.dmar, rm->scopes, d->seg, d->bus, d->dev, d->fn))
            return true;
        d = d->parent < 0 ? NULL : pci_get((unsigned)d->parent);
    }
    return false;
}

/* RMRR memory belongs to the devices in its scope (USB legacy emulation,
 * graphics stolen memory): firmware must keep it out of the free memory it
 * reports.  Where it did not, say so and keep our allocator off it. */
static void reserve_rmrr_memory(const struct boot_info *boot)
{
    unsigned n = platform.dmar.nrmrrs;
    /* Every RMRR is reserved below either way; without the flags no test
     * borrows RMRR memory. */
    platform.rmrr_was_free = n ? page_alloc_bytes(n * sizeof(bool)) : NULL;
    if (n && !platform.rmrr_was_free)
        kprintf("# DMAR: out of memory for the flags of %u RMRRs: no test uses RMRR memory\n", n);
    for (unsigned i = 0; i < n; i++) {
        const struct dmar_rmrr *r = &platform.dmar.rmrrs[i];
        if (!r->usable)
            continue;
        uint64_t size = r->limit - r->base + 1, overlap = 0;
        for (uint32_t k = 0; k < boot->nranges; k++) {
            const struct mem_range *m = &boot->ranges[k];
            uint64_t end = m->base + m->pages * PAGE_SIZE;
            uint64_t lo = m->base > r->base ? m->base : r->base;
            uint64_t hi = end - 1 < r->limit ? end - 1 : r->limit;
            if (m->kind == MEM_FREE && lo <= hi)
                overlap += hi - lo + 1;
        }
        if (!overlap)
            continue;
        bool was_free = overlap == size && alloc_is_free(r->base, size);
        if (platform.rmrr_was_free)
            platform.rmrr_was_free[i] = was_free;
        kprintf("# DMAR: RMRR %u %#llx-%#llx: %llu KiB of it is free memory in the firmware's "
                "map (RMRR memory must be reserved): %s\n",
                i, (unsigned long long)r->base, (unsigned long long)r->limit,
                (unsigned long long)(overlap / 1024),
                was_free ? "reserved now" : "reserved now, but some was in use");
        alloc_reserve(r->base, size);
    }
}

/* The PM timer (I/O or MMIO, from the FADT) and the HPET, for the TSC. */
static void find_timers(void)
{
    struct tsc_timers *t = &platform.timers;
    uint16_t port;
    uint64_t mmio;
    if (platform.fadt_present && fadt_pm_timer_where(&platform.fadt, &port, &mmio)) {
        t->pm_32bit = platform.fadt.pm_timer_32bit;
        t->pm_port = port;
        if (mmio && paging_map_mmio(mmio & ~0xfffull, 4096))
            t->pm_mmio = mmio;
    }
    const struct acpi_gas *hb = &platform.hpet.base;
    if (platform.hpet_present && platform.hpet.valid && hb->address && !(hb->address & 0x3ff) &&
        paging_map_mmio(hb->address & ~0xfffull, 4096))
        t->hpet_base = hb->address;
}

static void parse_acpi(void)
{
    struct acpi_diag d = { count_diag, 0, 0, 0 };
    const void *p;
    size_t len;

    if (!boot->rsdp_phys) {
        kprintf("# acpi: the firmware gave no RSDP; no ACPI tables\n");
        enumerate_pci();
        return;
    }
    if (acpi_tables_load(&platform.acpi, boot->rsdp_phys, platform_map_phys, 0, &table_mem, &d)) {
        enumerate_pci();
        return;
    }
    platform.acpi_ok = true;
    if (with_table("FACP", &p, &len))
        platform.fadt_present = fadt_parse(p, len, &platform.fadt, &d) == 0;
    if (with_table("MCFG", &p, &len))
        platform.mcfg_present = mcfg_parse(p, len, &table_mem, &platform.mcfg, &d) == 0;
    if (with_table("APIC", &p, &len))
        platform.madt_present = madt_parse(p, len, &table_mem, &platform.madt, &d) == 0;
    if (with_table("SPCR", &p, &len))
        platform.spcr_present = spcr_parse(p, len, &platform.spcr, &d) == 0;
    if (with_table("HPET", &p, &len))
        platform.hpet_present = hpet_parse(p, len, &platform.hpet, &d) == 0;
    enumerate_pci();
    if (with_table_at("DMAR", choose_dmar(), &p, &len)) {
        struct dmar_pci_ops pci = { secondary_bus, subordinate_bus, 0 };
        unsigned lines = platform.acpi_problems, defects = d.defects;
        platform.dmar_present = dmar_parse(p, len, &pci, &table_mem, &platform.dmar, &d) == 0;
        platform.dmar_problems = d.defects - defects;
        platform.dmar_notes = platform.acpi_problems - lines - platform.dmar_problems;
        reserve_rmrr_memory(boot);
    }
    find_timers();
}

static void choose_console(void)
{
    struct uart u;
    const char *want = cfg.console;
    if (!strcmp(want, "com1") || !strcmp(want, "none"))
        return; /* COM1 is already on; "none" keeps it quiet on screen only */
    if (!strcmp(want, "auto") || !strcmp(want, "spcr")) {
        struct why why;
        if (!platform.spcr_present || !platform.spcr.valid) {
            if (!strcmp(want, "spcr"))
                kprintf("# console: console=spcr but no usable SPCR; staying on COM1\n");
            return;
        }
        if (!uart_from_spcr(&platform.spcr, &u, &why)) {
            kprintf("# console: %s; staying on COM1\n", why.text);
            return;
        }
        if (u.mmio && !paging_map_mmio(u.base & ~0xfffull, 4096))
            return;
        /* Even at COM1 the SPCR may ask for another rate or clock. */
        char rate[24] = "the firmware's rate";
        if (u.baud)
            ksnprintf(rate, sizeof(rate), "%u baud", u.baud);
        kprintf("# console: using the SPCR UART (%s 0x%llx, %s, %u Hz clock)\n",
                u.mmio ? "mmio" : "io", (unsigned long long)u.base, rate, u.clock_hz);
        console_use_uart(&u);
        return;
    }
    if (serial_parse(want, &u)) {
        if (u.mmio && !paging_map_mmio(u.base, 4096))
            return;
        console_use_uart(&u);
    }
}

void platform_early_init(void)
{
    struct acpi_diag d = { count_diag, 0, 0, 0 };
    smbios_parse(boot->smbios3_phys, boot->smbios_phys, platform_map_phys, 0, &platform.smbios,
                 &d);
    parse_acpi();
    choose_console();
    struct why why;
    if (!tsc_calibrate(&platform.timers, &why)) {
        /* Every deadline and the watchdog count TSC ticks: nothing after
         * this could be trusted to end. */
        kprintf("Bail out! %s\n", why.text);
        run_abort(EXIT_CRASH, "TSC calibration");
    }
}

bool platform_iommu_usable(struct why *why)
{
    if (!platform.acpi_ok)
        return why_set(why, "no ACPI tables: cannot find the IOMMU");
    if (!platform.acpi.block.p) /* the list always has room for the DSDT */
        return why_set(why, "out of memory for the list of ACPI tables: cannot find the IOMMU");
    if (!platform.dmar_present)
        return why_set(why, "no DMAR table: VT-d not enabled in firmware?");
    for (unsigned i = 0; i < platform.dmar.nunits; i++)
        if (platform.dmar.units[i].usable)
            return true;
    return why_set(why, "DMAR table has no usable remapping unit (see the diagnostics above)");
}

void platform_dump_table(const char *sig)
{
    const void *p;
    size_t len;
    if (!with_table(sig, &p, &len)) {
        kprintf("# dump: no %s table\n", sig);
        return;
    }
    const uint8_t *b = p;
    kprintf("# dump %s %zu bytes\n", sig, len);
    for (size_t off = 0; off < len; off += 32) {
        char line[80];
        int n = 0;
        for (size_t i = off; i < off + 32 && i < len; i++)
            n += ksnprintf(line + n, sizeof(line) - n, "%02x", b[i]);
        kprintf("# dump %s %04zx %s\n", sig, off, line);
    }
}

/* ---- NVMe drives hidden behind Intel VMD -------------------------------------- */

static uint32_t inventory_read32(void *ctx, unsigned i, unsigned off)
{
    (void)ctx;
    const struct pci_dev *d = pci_get(i);
    if (off == 0x00)
        return (uint32_t)d->device << 16 | d->vendor;
    return d->class_code << 8 | d->revision; /* 0x08 */
}

static void inventory_name(void *ctx, unsigned i, char *buf, size_t len)
{
    (void)ctx;
    const struct pci_dev *d = pci_get(i);
    ksnprintf(buf, len, "%04x:%02x:%02x.%u", d->seg, d->bus, d->dev, d->fn);
}

/* The VMD note, "" when there is none (drivers/vmd.h). */
static void vmd_note(char *note, size_t len)
{
    struct vmd_scan_ops ops = {NULL, pci_count(), inventory_read32, inventory_name};
    vmd_scan(&ops, note, len);
}

bool platform_vmd_hides_nvme(struct why *why)
{
    char note[200];
    vmd_note(note, sizeof(note));
    return note[0] ? !why_set(why, "%s", note) : false;
}

bool platform_no_nvme(const char *tail, struct why *why)
{
    char vmd[200];
    vmd_note(vmd, sizeof(vmd));
    return why_set(why, "no NVMe controller%s%s%s", tail, vmd[0] ? "; " : "", vmd);
}
