/* MADT ("APIC"): local APIC address, CPUs, IOAPICs, interrupt overrides
 * and NMI wiring. */
#ifndef ACPI_MADT_H
#define ACPI_MADT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acpi/diag.h"
#include "acpi/table.h"

/* The arrays are allocated at the size the table asks for (a counting
 * pass, then one block from the caller's struct acpi_mem).  These are
 * only sanity caps against absurd counts, far above real machines (x2APIC
 * CPUs, an IOAPIC per IIO stack, firmware that gives every CPU its own NMI
 * entry, at most one override per ISA source).  Beyond a cap one note
 * gives the table's real count. */
#define MADT_MAX_CPUS 32768
#define MADT_MAX_IOAPICS 1024
#define MADT_MAX_OVERRIDES 256
#define MADT_MAX_NMIS 32768

enum madt_entry_type {
    MADT_LAPIC = 0,
    MADT_IOAPIC = 1,
    MADT_INT_OVERRIDE = 2,
    MADT_NMI_SOURCE = 3,
    MADT_LAPIC_NMI = 4,
    MADT_LAPIC_ADDR_OVERRIDE = 5,
    MADT_X2APIC = 9,
    MADT_X2APIC_NMI = 0xa,
};

#define MADT_CPU_ENABLED 0x1
#define MADT_CPU_ONLINE_CAPABLE 0x2
#define MADT_UID_ALL_CPUS 0xffffffffu /* NMI entries: applies to every CPU */

struct madt_cpu {
    uint32_t apic_id;
    uint32_t uid; /* ACPI processor UID */
    uint32_t flags;
    bool x2apic; /* from a type 9 entry */
    bool enabled;
    bool online_capable; /* may be enabled later; valid from MADT revision 5 */
    uint32_t offset;
};

struct madt_ioapic {
    uint8_t id;
    uint32_t address;
    uint32_t gsi_base;
    uint32_t offset;
};

struct madt_override {
    uint8_t bus, source; /* ISA IRQ */
    uint32_t gsi;
    uint16_t flags; /* polarity bits 1:0, trigger mode bits 3:2 */
};

struct madt_nmi {
    uint32_t uid; /* MADT_UID_ALL_CPUS for all */
    uint16_t flags;
    uint8_t lint;
};

struct madt_info {
    bool valid;
    bool checksum_ok;
    struct acpi_header hdr;
    uint64_t lapic_address; /* after any type 5 override */
    bool lapic_overridden;
    uint32_t flags; /* bit 0 PCAT_COMPAT: legacy 8259s present */
    unsigned ncpus, nioapics, noverrides, nnmis;
    /* Exactly what the table lists (up to the caps above), all in
     * `block`, which madt_release() gives back. */
    struct madt_cpu *cpus;
    struct madt_ioapic *ioapics;
    struct madt_override *overrides;
    struct madt_nmi *nmis;
    struct acpi_block block;
};

/* The arrays come from mem; *out is overwritten, so madt_release() an
 * earlier result first.  Out of memory is reported through d and leaves
 * the arrays empty.  Returns 0 when the header was usable, -1 otherwise. */
int madt_parse(const void *table, size_t len, const struct acpi_mem *mem, struct madt_info *out,
               struct acpi_diag *d);

/* Gives the arrays back; *out is then empty (nothing valid). */
void madt_release(struct madt_info *out);

#endif
