/* SPCR: the serial port the firmware uses as its console. */
#ifndef ACPI_SPCR_H
#define ACPI_SPCR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acpi/diag.h"
#include "acpi/table.h"

/* Interface types (Microsoft DBG2 port subtypes). */
#define SPCR_IF_16550 0x00
#define SPCR_IF_16550_SUBSET 0x01
#define SPCR_IF_PL011 0x03
#define SPCR_IF_16550_GAS 0x12 /* 16550 described entirely by the GAS */

struct spcr_info {
    bool valid; /* header usable and base address a usable port */
    bool checksum_ok;
    struct acpi_header hdr;
    uint8_t interface_type;
    bool is_16550; /* a 16550-compatible register set */
    struct acpi_gas base;
    bool mmio;             /* base.space_id is memory (else port I/O) */
    unsigned access_bytes; /* width of one register access (register stride on MMIO) */
    uint8_t interrupt_type;
    uint8_t irq;
    uint32_t gsi;
    uint8_t baud_code;
    uint32_t baud; /* 0: keep the rate the firmware set */
    uint8_t parity, stop_bits, flow_control, terminal_type;
    uint16_t pci_device_id, pci_vendor_id; /* 0xffff: not a PCI device */
    uint8_t pci_bus, pci_dev, pci_fn, pci_segment;
    uint32_t pci_flags;
    uint32_t uart_clock_hz; /* revision 3+, 0 when unknown */
    uint32_t precise_baud;  /* revision 4+, 0 when unused */
};

/* Returns 0 when a usable console port was described, -1 otherwise. */
int spcr_parse(const void *table, size_t len, struct spcr_info *out, struct acpi_diag *d);

const char *spcr_interface_name(uint8_t type);

#endif
