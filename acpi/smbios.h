/* SMBIOS: the machine's identity strings for the log header (system, board,
 * BIOS), so every result can be traced to the machine that produced it.
 * Portable, bounds-checked, reached through the same map callback as ACPI. */
#ifndef ACPI_SMBIOS_H
#define ACPI_SMBIOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acpi/acpi.h"

#define SMBIOS_STR 64

/* Type 38, IPMI device information (SMBIOS 3.x, 7.39). */
struct smbios_ipmi {
    bool present;
    uint8_t interface;  /* 1 KCS, 2 SMIC, 3 BT, 4 SSIF */
    uint8_t spec_rev;   /* BCD: 0x20 = IPMI 2.0 */
    uint8_t i2c_addr;   /* the BMC's target address (SSIF) */
    uint64_t base;      /* bit 0 set: I/O space; with the modifier's bit 4 */
    uint8_t modifier;   /* register spacing 7:6, LS address bit 4 (0 if absent) */
};

struct smbios_info {
    bool valid;
    uint8_t major, minor;
    char bios_vendor[SMBIOS_STR], bios_version[SMBIOS_STR], bios_date[SMBIOS_STR];
    char sys_vendor[SMBIOS_STR], sys_product[SMBIOS_STR], sys_version[SMBIOS_STR];
    char board_vendor[SMBIOS_STR], board_product[SMBIOS_STR];
    unsigned structures;
    struct smbios_ipmi ipmi; /* the first type 38 structure */
};

/* Parse from the entry point(s) UEFI reported (either may be 0; the 3.x
 * one is preferred).  Returns 0 when a structure table was walked. */
int smbios_parse(uint64_t ep3_phys, uint64_t ep2_phys, acpi_map_fn map, void *ctx,
                 struct smbios_info *out, struct acpi_diag *d);
/* Walk a structure table image (used by smbios_parse and the host tests). */
int smbios_parse_table(const uint8_t *table, size_t len, struct smbios_info *out,
                       struct acpi_diag *d);

#endif
