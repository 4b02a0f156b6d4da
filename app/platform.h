/* Platform discovery glue: what ACPI told us, kept for the suites. */
#ifndef APP_PLATFORM_H
#define APP_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/why.h"

#include "acpi/acpi.h"
#include "acpi/dmar.h"
#include "acpi/fadt.h"
#include "acpi/hpet.h"
#include "acpi/madt.h"
#include "acpi/mcfg.h"
#include "acpi/smbios.h"
#include "acpi/spcr.h"
#include "arch/x86/tsc.h"

struct platform_info {
    bool acpi_ok;
    struct acpi_tables acpi;
    bool dmar_present, mcfg_present, madt_present, fadt_present, spcr_present, hpet_present;
    struct dmar_info dmar;
    struct mcfg_info mcfg;
    struct madt_info madt;
    struct fadt_info fadt;
    struct spcr_info spcr;
    struct hpet_info hpet;
    struct smbios_info smbios;
    unsigned acpi_problems; /* diagnostics printed while parsing */
    unsigned dmar_problems; /* of which defects of the DMAR */
    unsigned dmar_notes;    /* and notes about it (printed, not failed) */
    /* Per RMRR (dmar.nrmrrs entries, allocated with the DMAR's arrays'
     * count): the firmware's memory map called all of it free memory, and
     * discovery took it out of the allocator (so a test may use it). */
    bool *rmrr_was_free;
    struct tsc_timers timers; /* PM timer and HPET for the TSC */
};
extern struct platform_info platform;

/* ACPI tables, the console choice (console= or SPCR) and TSC calibration. */
void platform_early_init(void);
/* Whether a usable remapping unit exists; if not, *why says why the IOMMU
 * suites cannot run. */
bool platform_iommu_usable(struct why *why);
/* Is d in the scope of this RMRR (usable, same segment), by itself or by
 * a bridge above it? */
struct pci_dev;
bool platform_rmrr_covers(const struct dmar_rmrr *rm, const struct pci_dev *d);
/* True when an Intel VMD hides NVMe drives from the PCI tree
 * (drivers/vmd.h): *why says so. */
bool platform_vmd_hides_nvme(struct why *why);
/* Fills *why with "no NVMe controller<tail>", with the VMD note when there
 * is one; returns false (for `return platform_no_nvme(...)`). */
bool platform_no_nvme(const char *tail, struct why *why);
/* Identity map callback for the ACPI parsers (maps on demand). */
const void *platform_map_phys(uint64_t phys, uint64_t len, void *ctx);
/* Hex dump of a table to serial (dump_acpi=1), for tests/data/. */
void platform_dump_table(const char *sig);

#endif
