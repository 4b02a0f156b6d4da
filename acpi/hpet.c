/* HPET parsing: one fixed layout, 56 bytes. */
#include "acpi/hpet.h"

#include "acpi/bytes.h"
#include "lib/kstring.h"

#define HPET_LEN 56

int hpet_parse(const void *table, size_t len, struct hpet_info *out, struct acpi_diag *d)
{
    const uint8_t *t = table;

    memset(out, 0, sizeof(*out));
    if (!acpi_table_check(table, len, "HPET", HPET_LEN, &out->hdr, &out->checksum_ok, d))
        return -1;
    out->event_timer_block_id = acpi_rd32(t + 36);
    out->pci_vendor_id = (uint16_t)(out->event_timer_block_id >> 16);
    out->num_comparators = (uint8_t)(((out->event_timer_block_id >> 8) & 0x1f) + 1);
    out->counter_64bit = out->event_timer_block_id & (1u << 13);
    acpi_gas_read(t + 40, &out->base);
    out->number = t[52];
    out->min_clock_tick = acpi_rd16(t + 53);
    out->page_protection = t[55];
    /* The HPET registers are memory-mapped; anything else cannot be used. */
    if (out->base.space_id != ACPI_GAS_MEMORY || out->base.address == 0 ||
        (out->base.address & 0x3ff)) {
        acpi_diagf(d,
                   "HPET: base address at offset 0x28: space %u address 0x%llx is not a "
                   "1 KiB-aligned MMIO block",
                   out->base.space_id, (unsigned long long)out->base.address);
        return -1;
    }
    out->valid = true;
    return 0;
}
