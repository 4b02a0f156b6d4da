/* DMAR: the DMA remapping reporting table (Intel VT-d spec, chapter 8).
 *
 * dmar_parse() turns a DMAR image into fixed-size arrays of remapping units
 * (DRHD), reserved regions (RMRR), ATS/SATC/SIDP reports, affinities (RHSA)
 * and namespace devices (ANDD).  Device scopes of all structures live in
 * one pool; each structure names its slice with a dmar_scope_list.
 *
 * Scope paths are resolved to a final bus/device/function through PCI
 * bridges with the caller's dmar_pci_ops (ECAM reads on the target, a fake
 * topology in host tests).  dmar_unit_for_device() answers "which unit
 * translates this function". */
#ifndef ACPI_DMAR_H
#define ACPI_DMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acpi/diag.h"
#include "acpi/table.h"

/* The arrays are allocated at the size the table asks for (a counting
 * pass, then one block from the caller's struct acpi_mem).  These are
 * only sanity caps against absurd counts, far above real tables (the
 * biggest servers have a DRHD per IIO stack, an RHSA per DRHD and an ATSR
 * scope per root port: a few hundred scopes).  A table beyond a cap gets
 * a note with the real count, and what was not kept is not used. */
#define DMAR_MAX_UNITS 1024
#define DMAR_MAX_SCOPES 65535 /* all structures together (indices are 16-bit) */
#define DMAR_MAX_RMRRS 4096
#define DMAR_MAX_ATSRS 1024
#define DMAR_MAX_RHSAS 1024
#define DMAR_MAX_ANDDS 256 /* one per device number */
#define DMAR_MAX_SATCS 1024
#define DMAR_MAX_SIDPS 1024
#define DMAR_MAX_PATH 8 /* (device, function) pairs: bridge levels + 1 */
#define DMAR_ANDD_NAME_MAX 64

/* Remapping structure types. */
enum dmar_struct_type {
    DMAR_TYPE_DRHD = 0,
    DMAR_TYPE_RMRR = 1,
    DMAR_TYPE_ATSR = 2,
    DMAR_TYPE_RHSA = 3,
    DMAR_TYPE_ANDD = 4,
    DMAR_TYPE_SATC = 5,
    DMAR_TYPE_SIDP = 6,
};

/* Device scope types. */
enum dmar_scope_type {
    DMAR_SCOPE_ENDPOINT = 1,
    DMAR_SCOPE_BRIDGE = 2, /* the bridge and its whole sub-hierarchy */
    DMAR_SCOPE_IOAPIC = 3,
    DMAR_SCOPE_HPET = 4,
    DMAR_SCOPE_ACPI = 5, /* enumeration id = ANDD device number */
};

/* DMAR table flags (byte 37). */
#define DMAR_FLAG_INTR_REMAP 0x01
#define DMAR_FLAG_X2APIC_OPT_OUT 0x02
#define DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN 0x04

#define DMAR_DRHD_INCLUDE_PCI_ALL 0x01
#define DMAR_ATSR_ALL_PORTS 0x01
#define DMAR_SATC_ATC_REQUIRED 0x01

struct dmar_path_elem {
    uint8_t dev, fn;
};

struct dmar_scope {
    uint8_t type; /* enum dmar_scope_type */
    uint8_t flags;
    uint8_t enum_id;
    uint8_t start_bus;
    uint8_t owner_type;   /* enum dmar_struct_type of the structure holding it */
    uint16_t owner_index; /* index in that structure's array */
    uint16_t segment;     /* the owner's PCI segment */
    uint32_t offset;      /* of this scope entry in the DMAR */
    uint8_t path_len;
    struct dmar_path_elem path[DMAR_MAX_PATH];
    /* Set by dmar_resolve_scopes(). */
    bool resolved; /* bus/dev/fn valid */
    uint8_t bus, dev, fn;
    /* DMAR_SCOPE_BRIDGE: buses below the bridge, when range_known. */
    bool range_known;
    uint8_t sec_bus, sub_bus;
};

struct dmar_scope_list {
    uint16_t first, count; /* into dmar_info.scopes */
};

/* A corrupt structure is kept with usable = false: its device set cannot
 * be trusted, but the other structures still can. */
struct dmar_unit {
    uint64_t reg_base;
    uint64_t reg_size;  /* 4 KiB << size_field */
    uint8_t size_field; /* DRHD byte 5, bits 3:0 */
    uint8_t flags;
    uint16_t segment;
    bool include_pci_all;
    bool usable;
    uint32_t offset;      /* of the DRHD in the DMAR */
    int proximity_domain; /* from an RHSA, -1 when none */
    struct dmar_scope_list scopes;
};

struct dmar_rmrr {
    uint64_t base, limit; /* inclusive limit */
    uint16_t segment;
    bool usable; /* false: bad range or scopes */
    uint32_t offset;
    struct dmar_scope_list scopes;
};

/* ATSR, SATC and SIDP share one shape: flags, segment, device scopes.
 * flags: ATSR bit 0 ALL_PORTS, SATC bit 0 ATC_REQUIRED, SIDP none. */
struct dmar_report {
    uint8_t flags;
    uint16_t segment;
    bool usable;
    uint32_t offset;
    struct dmar_scope_list scopes;
};

struct dmar_rhsa {
    uint64_t reg_base;
    uint32_t proximity_domain;
    int unit; /* index of the DRHD with that base, -1 when none */
    uint32_t offset;
};

struct dmar_andd {
    uint8_t device_number;
    char name[DMAR_ANDD_NAME_MAX]; /* ACPI object path, NUL-terminated */
    uint32_t offset;
};

struct dmar_info {
    bool valid; /* header parsed; false: nothing below is meaningful */
    bool checksum_ok;
    struct acpi_header hdr;
    uint8_t haw; /* host address width in bits (table value + 1) */
    uint8_t flags;
    bool ordered; /* structures appear in type order as the spec asks */
    unsigned nunits, nrmrrs, natsrs, nrhsas, nandds, nsatcs, nsidps, nscopes;
    /* Each array holds exactly what the table lists (up to the caps
     * above); all live in `block`, which dmar_release() gives back. */
    struct dmar_unit *units;
    struct dmar_rmrr *rmrrs;
    struct dmar_report *atsrs;
    struct dmar_rhsa *rhsas;
    struct dmar_andd *andds;
    struct dmar_report *satcs;
    struct dmar_report *sidps;
    struct dmar_scope *scopes;
    struct acpi_block block;
};

/* PCI configuration access for resolving scope paths.  Both return -1
 * when there is no bridge at seg:bus:dev.fn. */
struct dmar_pci_ops {
    int (*read_secondary_bus)(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn);
    /* May be NULL: a sub-hierarchy then covers only its secondary bus. */
    int (*read_subordinate_bus)(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn);
    void *ctx;
};

/* Parses a DMAR image of len readable bytes into *out and resolves its
 * scopes with pci.  pci may be NULL (before PCI is reachable): then only
 * single-element paths resolve and a sub-hierarchy scope covers just the
 * bridge itself, not the buses below it.  The arrays come from mem; *out
 * is overwritten, so dmar_release() an earlier result first.  Out of
 * memory is reported through d and leaves the arrays empty.
 * Returns 0 when the header was usable (out->valid), -1 otherwise. */
int dmar_parse(const void *table, size_t len, const struct dmar_pci_ops *pci,
               const struct acpi_mem *mem, struct dmar_info *out, struct acpi_diag *d);

/* Gives the arrays back; *out is then empty (nothing valid). */
void dmar_release(struct dmar_info *out);

/* (Re)resolves every scope path, e.g. after PCI bus numbers changed. */
void dmar_resolve_scopes(struct dmar_info *info, const struct dmar_pci_ops *pci,
                         struct acpi_diag *d);

/* Index of the unit that translates seg:bus:dev.fn, or -1.  A resolved
 * device scope match wins (an endpoint or bridge itself, then the
 * narrowest sub-hierarchy); otherwise the INCLUDE_PCI_ALL unit of that
 * segment.  The unit may be !usable: the caller decides what to do. */
int dmar_unit_for_device(const struct dmar_info *info, uint16_t seg, uint8_t bus, uint8_t dev,
                         uint8_t fn);

/* Index of the unit whose IOAPIC (or HPET) scope has this enumeration id,
 * or -1. */
int dmar_unit_for_scope_id(const struct dmar_info *info, uint8_t scope_type, uint8_t enum_id);

/* Whether a resolved scope of the list covers seg:bus:dev.fn (e.g. is this
 * device subject to that RMRR). */
bool dmar_scopes_cover(const struct dmar_info *info, struct dmar_scope_list list, uint16_t seg,
                       uint8_t bus, uint8_t dev, uint8_t fn);

const char *dmar_struct_name(unsigned type);
const char *dmar_scope_name(unsigned type);

#endif
