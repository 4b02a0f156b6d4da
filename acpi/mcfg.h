/* MCFG: PCI Express memory-mapped configuration (ECAM) windows. */
#ifndef ACPI_MCFG_H
#define ACPI_MCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acpi/diag.h"
#include "acpi/table.h"

/* The windows are allocated at the count the table gives (one block from
 * the caller's struct acpi_mem); this only caps absurd counts. */
#define MCFG_MAX_WINDOWS 4096

struct mcfg_window {
    uint64_t base; /* address of bus 0 of the segment, even if start_bus > 0 */
    uint16_t segment;
    uint8_t start_bus, end_bus;
};

struct mcfg_info {
    bool valid;
    bool checksum_ok;
    struct acpi_header hdr;
    unsigned count;
    struct mcfg_window *windows; /* in `block`: mcfg_release() */
    struct acpi_block block;
};

/* Returns 0 when the header was usable, -1 otherwise.  Windows with a bus
 * range that is reversed, misaligned or overlaps an earlier window of the
 * same segment are reported and left out.  The array comes from mem; *out
 * is overwritten, so mcfg_release() an earlier result first. */
int mcfg_parse(const void *table, size_t len, const struct acpi_mem *mem, struct mcfg_info *out,
               struct acpi_diag *d);

/* Gives the array back; *out is then empty (nothing valid). */
void mcfg_release(struct mcfg_info *out);

/* ECAM address of a function's configuration space, 0 when no window
 * covers it. */
uint64_t mcfg_ecam_address(const struct mcfg_info *m, uint16_t seg, uint8_t bus, uint8_t dev,
                           uint8_t fn);

#endif
