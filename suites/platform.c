/* Suite `platform`: the firmware's tables are consistent with each other
 * and with the hardware, and the inventory a lab needs is printed: each
 * remapping unit, each PCI device with the unit that translates it, each
 * RMRR with its devices.  One structured `# inv:` line per item. */
#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"
#include "drivers/pci.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/printf.h"
#include "app/nvme_pick.h"
#include "app/platform.h"
#include "app/run.h"
#include "app/suite.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8

static void case_acpi_checksums(void)
{
    unsigned bad = 0;
    for (unsigned i = 0; i < platform.acpi.count; i++) {
        const struct acpi_table *t = &platform.acpi.tables[i];
        if (!t->checksum_ok) {
            bad++;
            ktap_diag("table %.4s at %#llx: checksum does not add up to zero", t->hdr.signature,
                      (unsigned long long)t->phys);
        }
    }
    if (!platform.acpi.rsdp_checksum_ok)
        bad++;
    ktap_diag("RSDP checksum %s, %u of %u tables with bad checksums, %u parser diagnostics",
              platform.acpi.rsdp_checksum_ok ? "ok" : "BAD", bad, platform.acpi.count,
              platform.acpi_problems);
    ktap_case(bad ? KTAP_FAIL : KTAP_PASS, "acpi_checksums", "%u bad checksums", bad);
}

/* Register sanity of one unit: mapped, aligned, and not reading all ones
 * (a unit that is not there) or zero. */
static bool unit_registers_sane(const struct dmar_unit *u, uint32_t *ver, uint64_t *cap,
                                uint64_t *ecap, uint32_t *gsts)
{
    if (u->reg_base & 0xfff)
        return false;
    if (!paging_map_mmio(u->reg_base, u->reg_size ? u->reg_size : 4096))
        return false;
    *ver = mmio_read32(u->reg_base + 0x00);
    *cap = mmio_read64(u->reg_base + 0x08);
    *ecap = mmio_read64(u->reg_base + 0x10);
    *gsts = mmio_read32(u->reg_base + 0x1c);
    return *ver != 0xffffffffu && *cap != ~0ull && *ecap != ~0ull && *cap != 0 &&
           ((*ver >> 4) & 0xf) >= 1;
}

/* Only defects fail: notes are firmware Linux runs on (absent scope
 * devices, type order, unused structures) or limits of vtdsync. */
static void case_dmar_table(void)
{
    char what[96];
    ksnprintf(what, sizeof(what),
              "%u defects, %u notes in the DMAR (see the diagnostics at start-up)",
              platform.dmar_problems, platform.dmar_notes);
    if (!platform.dmar_problems)
        ktap_diag("dmar_table: %s", what);
    ktap_case(platform.dmar_problems ? KTAP_FAIL : KTAP_PASS, "dmar_table", "%s", what);
}

static void case_units(void)
{
    const struct dmar_info *d = &platform.dmar;
    unsigned sane = 0;
    ktap_diag("inv: dmar haw=%u flags=%#x (intr_remap=%u x2apic_opt_out=%u "
              "dma_ctrl_platform_opt_in=%u) units=%u rmrrs=%u atsrs=%u satcs=%u",
              d->haw, d->flags, d->flags & 1, (d->flags >> 1) & 1, (d->flags >> 2) & 1, d->nunits,
              d->nrmrrs, d->natsrs, d->nsatcs);
    for (unsigned i = 0; i < d->nunits; i++) {
        const struct dmar_unit *u = &d->units[i];
        uint32_t ver = 0, gsts = 0;
        uint64_t cap = 0, ecap = 0;
        bool ok = u->usable && unit_registers_sane(u, &ver, &cap, &ecap, &gsts);
        sane += ok;
        ktap_diag("inv: unit=%u base=%#llx segment=%u include_pci_all=%u scopes=%u usable=%u "
                  "ver=%u.%u cap=%#llx ecap=%#llx gsts=%#x%s",
                  i, (unsigned long long)u->reg_base, u->segment, u->include_pci_all,
                  u->scopes.count, u->usable, (ver >> 4) & 0xf, ver & 0xf, (unsigned long long)cap,
                  (unsigned long long)ecap, gsts,
                  ok          ? ""
                  : u->usable ? " registers-not-sane"
                              : " (DMAR defect: unit skipped)");
        if (gsts & (1u << 31))
            ktap_diag("inv: unit=%u translation already enabled by firmware (GSTS.TES)", i);
    }
    if (!d->nunits)
        ktap_case(KTAP_FAIL, "remapping_units", "the DMAR lists no usable remapping unit");
    else
        ktap_case(sane == d->nunits ? KTAP_PASS : KTAP_FAIL, "remapping_units",
                  "%u of %u units usable with sane registers", sane, d->nunits);
}

static void describe_device(const struct pci_dev *p, int unit)
{
    char line[200], pasid[16];
    pci_describe(p, line, sizeof(line));
    if (p->caps.pasid)
        ksnprintf(pasid, sizeof(pasid), "%u-bit", p->caps.pasid_width);
    else
        ksnprintf(pasid, sizeof(pasid), "no");
    ktap_diag("inv: device %s unit=%d pasid=%s ats=%s pri=%s", line, unit, pasid,
              p->caps.ats ? "yes" : "no", p->caps.pri ? "yes" : "no");
}

static void case_devices(void)
{
    unsigned unmapped = 0;
    for (unsigned i = 0; i < pci_count(); i++) {
        const struct pci_dev *p = pci_get(i);
        int unit = dmar_unit_for_device(&platform.dmar, p->seg, p->bus, p->dev, p->fn);
        describe_device(p, unit);
        unmapped += unit < 0;
    }
    ktap_diag("%u PCI functions (%s access), %u not behind any unit", pci_count(),
              pci_access_mode(), unmapped);
    ktap_case(pci_count() ? KTAP_PASS : KTAP_FAIL, "pci_inventory", "no PCI device found");
}

/* Lists the PCI scopes that name no device on the bus.  Firmware names
 * devices it then hides or disables (an iGPU switched off, a root port
 * without a slot); Linux skips them, and so do the lookups here: a note. */
static unsigned check_scopes(struct dmar_scope_list list, const char *owner)
{
    unsigned missing = 0;
    for (unsigned i = 0; i < list.count; i++) {
        const struct dmar_scope *s = &platform.dmar.scopes[list.first + i];
        if (s->type != 1 && s->type != 2)
            continue; /* IOAPIC, HPET, ACPI namespace devices are not PCI */
        if (!s->resolved || !pci_find_bdf(s->segment, s->bus, s->dev, s->fn)) {
            missing++;
            ktap_diag("%s: scope %s %02x:%02x.%u %s (note)", owner, dmar_scope_name(s->type),
                      s->bus, s->dev, s->fn,
                      s->resolved ? "names no device on the bus" : "did not resolve");
        }
    }
    return missing;
}

static void case_scopes_and_rmrrs(void)
{
    const struct dmar_info *d = &platform.dmar;
    unsigned missing = 0, bad_rmrr = 0;
    char owner[32];
    for (unsigned i = 0; i < d->nunits; i++) {
        ksnprintf(owner, sizeof(owner), "unit %u", i);
        missing += check_scopes(d->units[i].scopes, owner);
    }
    for (unsigned i = 0; i < d->nrmrrs; i++) {
        const struct dmar_rmrr *r = &d->rmrrs[i];
        /* The parser widened ranges that are not whole pages (a note) and
         * marked a range with its limit below its base, or with corrupt
         * scopes, unusable (a defect). */
        bad_rmrr += !r->usable;
        ktap_diag("inv: rmrr=%u base=%#llx limit=%#llx segment=%u devices=%u%s", i,
                  (unsigned long long)r->base, (unsigned long long)r->limit, r->segment,
                  r->scopes.count, r->usable ? "" : " (unusable: see the DMAR defects)");
        ksnprintf(owner, sizeof(owner), "rmrr %u", i);
        missing += check_scopes(r->scopes, owner);
    }
    char what[96];
    ksnprintf(what, sizeof(what), "%u bad RMRRs; %u scope devices absent (notes)", bad_rmrr,
              missing);
    if (!bad_rmrr)
        ktap_diag("scopes_and_rmrrs: %s", what);
    ktap_case(bad_rmrr ? KTAP_FAIL : KTAP_PASS, "scopes_and_rmrrs", "%s", what);
}

static void case_traffic_devices(void)
{
    struct why no_nvme;
    const struct pci_dev *nvme =
        nvme_pick(" and no QEMU edu device: nothing can generate DMA", &no_nvme);
    const struct pci_dev *edu = pci_find_id(EDU_VENDOR, EDU_DEVICE, 0);
    if (nvme)
        ktap_diag("traffic device: NVMe at %04x:%02x:%02x.%u", nvme->seg, nvme->bus, nvme->dev,
                  nvme->fn);
    if (edu)
        ktap_diag("functional DMA device: edu at %04x:%02x:%02x.%u", edu->seg, edu->bus, edu->dev,
                  edu->fn);
    struct why vmd;
    if (platform_vmd_hides_nvme(&vmd))
        ktap_diag("pci: %s", vmd.text);
    if (!nvme && !edu)
        ktap_case(KTAP_SKIP, "dma_devices", "%s", no_nvme.text);
    else
        ktap_case(KTAP_PASS, "dma_devices", NULL);
}

static void suite_platform(void)
{
    if (!platform.acpi_ok) {
        ktap_suite_skip("platform", "no ACPI tables");
        return;
    }
    ktap_suite_begin("platform", 6);
    case_acpi_checksums();
    case_devices();
    case_traffic_devices();
    const char *why = platform.dmar_present ? NULL : "no DMAR table: VT-d not enabled in firmware?";
    if (why) {
        ktap_case(KTAP_SKIP, "dmar_table", "%s", why);
        ktap_case(KTAP_SKIP, "remapping_units", "%s", why);
        ktap_case(KTAP_SKIP, "scopes_and_rmrrs", "%s", why);
    } else {
        case_dmar_table();
        case_units();
        case_scopes_and_rmrrs();
    }
    ktap_suite_end();
}

SUITE("platform", 20, suite_platform);
