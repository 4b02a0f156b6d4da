/* The pieces every ACPI table shares: the 36-byte system description
 * header, the checksum, and the Generic Address Structure. */
#ifndef ACPI_TABLE_H
#define ACPI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acpi/diag.h"

#define ACPI_HEADER_LEN 36

/* Header fields as printable strings (non-printable bytes become '?'). */
struct acpi_header {
    char signature[5];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[7];
    char oem_table_id[9];
    uint32_t oem_revision;
    char creator_id[5];
    uint32_t creator_revision;
};

/* Reads the header of a table that has at least ACPI_HEADER_LEN bytes. */
void acpi_header_read(const void *table, struct acpi_header *h);

/* Byte sum of len bytes; a valid table sums to 0. */
uint8_t acpi_sum(const void *p, size_t len);

/* Copies n bytes into a NUL-terminated printable string (dst has n+1). */
void acpi_copy_name(char *dst, const uint8_t *src, size_t n);

/* Validates a table image of `avail` readable bytes: header present,
 * signature `sig`, header length >= min_len, checksum.  A header length
 * larger than avail is reported and the table is parsed only up to avail.
 * A bad checksum is reported but not fatal (real firmware ships them).
 * Returns the number of bytes the parser may use, or 0 when the table is
 * unusable; fills *h (when it returns non-zero) and *checksum_ok. */
size_t acpi_table_check(const void *table, size_t avail, const char *sig, size_t min_len,
                        struct acpi_header *h, bool *checksum_ok, struct acpi_diag *d);

/* Generic Address Structure (12 bytes). */
#define ACPI_GAS_LEN 12
enum acpi_gas_space {
    ACPI_GAS_MEMORY = 0,
    ACPI_GAS_IO = 1,
    ACPI_GAS_PCI_CONFIG = 2,
};

struct acpi_gas {
    uint8_t space_id;
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size; /* 0 undefined/legacy, 1 byte, 2 word, 3 dword, 4 qword */
    uint64_t address;
};

void acpi_gas_read(const uint8_t *p, struct acpi_gas *g);

/* Bytes per access: from access_size, else from bit_width, else 1. */
unsigned acpi_gas_access_bytes(const struct acpi_gas *g);

const char *acpi_gas_space_name(uint8_t space_id);

/* Memory for what the firmware's tables size (remapping units, device
 * scopes, CPUs, the table list).  A parser counts a table's entries in a
 * first pass, then asks for one zeroed block that holds each array at
 * exactly its counted size: no fixed maximum in the image, and one
 * allocation per table (the firmware hands out whole pages).  The
 * firmware passes its page allocator, host tests and tools malloc. */
struct acpi_mem {
    void *(*alloc)(void *ctx, size_t bytes); /* zeroed; NULL when out of memory */
    void (*free)(void *ctx, void *p, size_t bytes);
    void *ctx;
};

/* The block of one parsed table. */
struct acpi_block {
    const struct acpi_mem *mem;
    void *p;
    size_t bytes;
};

/* Lays arrays out in one block: a pass with base NULL sums their sizes
 * (8-byte aligned each), a pass over the allocated block hands them out.
 * Returns NULL for count 0 or while sizing. */
struct acpi_carve {
    uint8_t *base;
    size_t used;
};
void *acpi_carve(struct acpi_carve *c, size_t count, size_t size);

/* Allocates c->used bytes into *b and points c at them for the second
 * pass.  When mem is NULL or fails, reports "<sig>: out of memory" (a
 * defect line, so that the platform suite fails: vtdsync cannot check
 * the table) and returns false; the parser then keeps nothing. */
bool acpi_block_alloc(struct acpi_block *b, struct acpi_carve *c, const struct acpi_mem *mem,
                      const char *sig, const char *what, struct acpi_diag *d);
/* Gives the block back (nothing when none was allocated). */
void acpi_block_release(struct acpi_block *b);

#endif
