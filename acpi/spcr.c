/* SPCR parsing: an 80-byte fixed layout (revisions 1/2) whose last four
 * bytes became the UART clock in revision 3; revision 4 appends a precise
 * baud rate. */
#include "acpi/spcr.h"

#include "acpi/bytes.h"
#include "lib/kstring.h"

#define SPCR_MIN_LEN 80
#define SPCR_CLOCK_OFF 76
#define SPCR_PRECISE_BAUD_OFF 80

const char *spcr_interface_name(uint8_t type)
{
    switch (type) {
    case SPCR_IF_16550:
        return "16550";
    case SPCR_IF_16550_SUBSET:
        return "16550-subset";
    case SPCR_IF_PL011:
        return "PL011";
    case SPCR_IF_16550_GAS:
        return "16550-GAS";
    default:
        return "other";
    }
}

static uint32_t baud_from_code(uint8_t code)
{
    switch (code) {
    case 3:
        return 9600;
    case 4:
        return 19200;
    case 6:
        return 57600;
    case 7:
        return 115200;
    default:
        return 0;
    }
}

int spcr_parse(const void *table, size_t len, struct spcr_info *out, struct acpi_diag *d)
{
    const uint8_t *t = table;

    memset(out, 0, sizeof(*out));
    len = acpi_table_check(table, len, "SPCR", SPCR_MIN_LEN, &out->hdr, &out->checksum_ok, d);
    if (!len)
        return -1;
    out->interface_type = t[36];
    out->is_16550 = out->interface_type == SPCR_IF_16550 ||
                    out->interface_type == SPCR_IF_16550_SUBSET ||
                    out->interface_type == SPCR_IF_16550_GAS;
    acpi_gas_read(t + 40, &out->base);
    out->mmio = out->base.space_id == ACPI_GAS_MEMORY;
    out->access_bytes = acpi_gas_access_bytes(&out->base);
    out->interrupt_type = t[52];
    out->irq = t[53];
    out->gsi = acpi_rd32(t + 54);
    out->baud_code = t[58];
    out->baud = baud_from_code(out->baud_code);
    if (out->baud_code != 0 && out->baud == 0)
        acpi_notef(d, "SPCR: baud rate code %u at offset 0x3a unknown: keeping the current rate",
                   out->baud_code);
    out->parity = t[59];
    out->stop_bits = t[60];
    out->flow_control = t[61];
    out->terminal_type = t[62];
    out->pci_device_id = acpi_rd16(t + 64);
    out->pci_vendor_id = acpi_rd16(t + 66);
    out->pci_bus = t[68];
    out->pci_dev = t[69];
    out->pci_fn = t[70];
    out->pci_flags = acpi_rd32(t + 71);
    out->pci_segment = t[75];
    if (out->hdr.revision >= 3 && len >= SPCR_CLOCK_OFF + 4)
        out->uart_clock_hz = acpi_rd32(t + SPCR_CLOCK_OFF);
    if (out->hdr.revision >= 4 && len >= SPCR_PRECISE_BAUD_OFF + 4) {
        out->precise_baud = acpi_rd32(t + SPCR_PRECISE_BAUD_OFF);
        if (out->precise_baud)
            out->baud = out->precise_baud;
    }

    if (out->base.space_id != ACPI_GAS_MEMORY && out->base.space_id != ACPI_GAS_IO) {
        acpi_notef(d, "SPCR: base address space %u at offset 0x28 is neither MMIO nor I/O",
                   out->base.space_id);
        return -1;
    }
    if (out->base.address == 0) {
        /* The SPCR's way of saying that redirection is off. */
        acpi_notef(d, "SPCR: base address at offset 0x2c is 0: console port not configured");
        return -1;
    }
    if (!out->mmio && out->base.address > 0xffff) {
        acpi_diagf(d, "SPCR: I/O port 0x%llx at offset 0x2c above 0xffff",
                   (unsigned long long)out->base.address);
        return -1;
    }
    out->valid = true;
    return 0;
}
