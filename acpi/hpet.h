/* HPET description table: where the event timer block lives. */
#ifndef ACPI_HPET_H
#define ACPI_HPET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acpi/diag.h"
#include "acpi/table.h"

struct hpet_info {
    bool valid; /* header usable and base address in memory space */
    bool checksum_ok;
    struct acpi_header hdr;
    uint32_t event_timer_block_id;
    uint16_t pci_vendor_id;  /* bits 31:16 of the block id */
    uint8_t num_comparators; /* bits 12:8 + 1 */
    bool counter_64bit;      /* bit 13 */
    struct acpi_gas base;
    uint8_t number;
    uint16_t min_clock_tick;
    uint8_t page_protection;
};

int hpet_parse(const void *table, size_t len, struct hpet_info *out, struct acpi_diag *d);

#endif
