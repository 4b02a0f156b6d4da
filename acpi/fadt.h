/* FADT ("FACP"): the PM timer, the reset register and platform flags. */
#ifndef ACPI_FADT_H
#define ACPI_FADT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acpi/diag.h"
#include "acpi/table.h"

#define FADT_F_TMR_VAL_EXT (1u << 8)
#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_F_HW_REDUCED_ACPI (1u << 20)

struct fadt_info {
    bool valid;
    bool checksum_ok;
    struct acpi_header hdr; /* OEM id, OEM table id, OEM revision, creator */
    uint8_t minor_version;  /* FADT revision 5+ */
    uint32_t flags;
    uint16_t iapc_boot_arch;
    uint8_t preferred_pm_profile;
    uint16_t sci_int;
    uint8_t century;     /* CMOS index of the century, 0: none */
    uint64_t facs, dsdt; /* X_ fields preferred when non-zero */
    bool hw_reduced;

    bool pm_timer_present;
    struct acpi_gas pm_timer; /* from X_PM_TMR_BLK, else PM_TMR_BLK as I/O */
    bool pm_timer_32bit;      /* TMR_VAL_EXT; else the counter has 24 bits */

    bool reset_supported; /* RESET_REG_SUP and a usable register */
    struct acpi_gas reset_reg;
    uint8_t reset_value;
};

/* Returns 0 when the header was usable, -1 otherwise. */
int fadt_parse(const void *table, size_t len, struct fadt_info *out, struct acpi_diag *d);

/* Where the PM timer is read: an I/O port (*port) or a 4-byte-aligned
 * memory address (*mmio), the other one 0.  False when the FADT gives no
 * usable timer. */
bool fadt_pm_timer_where(const struct fadt_info *f, uint16_t *port, uint64_t *mmio);

#endif
