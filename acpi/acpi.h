/* Finding the ACPI tables: RSDP -> XSDT (or RSDT) -> list of tables.
 *
 * Physical memory is reached only through the caller's map callback
 * (identity on the target, blobs in host tests), so this module runs
 * unchanged on both. */
#ifndef ACPI_ACPI_H
#define ACPI_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#include "acpi/diag.h"
#include "acpi/table.h"

/* Returns a pointer to len readable bytes at phys, or NULL. */
typedef const void *(*acpi_map_fn)(uint64_t phys, uint64_t len, void *ctx);

/* Laptops of 2024 list over 50 tables (mostly SSDTs); servers more.  The
 * list is allocated at the size the root table gives; this only caps an
 * absurd root table. */
#define ACPI_MAX_TABLES 1024
/* Larger than any real table (DSDTs reach a few hundred KiB): a header
 * claiming more is corrupt and is not mapped. */
#define ACPI_MAX_TABLE_LEN (16u << 20)

struct acpi_table {
    struct acpi_header hdr; /* hdr.length is the mapped length */
    uint64_t phys;
    bool checksum_ok;
};

struct acpi_tables {
    uint64_t rsdp_phys;
    uint8_t rsdp_revision;
    char rsdp_oem_id[7];
    bool rsdp_checksum_ok;     /* first 20 bytes */
    bool rsdp_ext_checksum_ok; /* whole structure, revision >= 2 */
    uint64_t rsdt_phys, xsdt_phys;
    char root_sig[5]; /* "XSDT" or "RSDT": the one the list came from */
    uint64_t root_phys;
    unsigned count;
    unsigned dropped; /* listed tables beyond ACPI_MAX_TABLES, not read */
    struct acpi_table *tables; /* in `block`: acpi_tables_release() */
    unsigned room;             /* entries `tables` holds */
    struct acpi_block block;
    acpi_map_fn map;
    void *map_ctx;
};

/* Reads the RSDP at rsdp_phys and lists the tables of the XSDT (or, when
 * the XSDT is absent or broken, the RSDT), plus the DSDT the FADT points
 * to.  The list comes from mem; *t is overwritten, so
 * acpi_tables_release() an earlier list first.  Returns 0 when a root
 * table was found, -1 otherwise; problems (out of memory too) are
 * reported through d either way. */
int acpi_tables_load(struct acpi_tables *t, uint64_t rsdp_phys, acpi_map_fn map, void *map_ctx,
                     const struct acpi_mem *mem, struct acpi_diag *d);

/* Gives the list back; *t is then empty. */
void acpi_tables_release(struct acpi_tables *t);

/* The index-th table (0 = first) with signature sig, or NULL. */
const struct acpi_table *acpi_find_table(const struct acpi_tables *t, const char *sig,
                                         unsigned index);

/* Maps a listed table in full (hdr.length bytes), or NULL. */
const void *acpi_table_map(const struct acpi_tables *t, const struct acpi_table *e);

#endif
