/* Common table header, checksum and Generic Address Structure. */
#include "acpi/table.h"

#include "acpi/bytes.h"
#include "lib/kstring.h"

uint8_t acpi_sum(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint8_t s = 0;

    for (size_t i = 0; i < len; i++)
        s = (uint8_t)(s + b[i]);
    return s;
}

void acpi_copy_name(char *dst, const uint8_t *src, size_t n)
{
    /* Names end up in serial logs that tools parse: keep them printable. */
    for (size_t i = 0; i < n; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
    dst[n] = '\0';
}

void acpi_header_read(const void *table, struct acpi_header *h)
{
    const uint8_t *t = table;

    acpi_copy_name(h->signature, t, 4);
    h->length = acpi_rd32(t + 4);
    h->revision = t[8];
    h->checksum = t[9];
    acpi_copy_name(h->oem_id, t + 10, 6);
    acpi_copy_name(h->oem_table_id, t + 16, 8);
    h->oem_revision = acpi_rd32(t + 24);
    acpi_copy_name(h->creator_id, t + 28, 4);
    h->creator_revision = acpi_rd32(t + 32);
}

size_t acpi_table_check(const void *table, size_t avail, const char *sig, size_t min_len,
                        struct acpi_header *h, bool *checksum_ok, struct acpi_diag *d)
{
    *checksum_ok = false;
    if (!table || avail < ACPI_HEADER_LEN) {
        acpi_diagf(d, "%s: table truncated: %zu bytes < header length %u", sig, avail,
                   ACPI_HEADER_LEN);
        return 0;
    }
    acpi_header_read(table, h);
    if (memcmp(table, sig, 4) != 0) {
        acpi_diagf(d, "%s: signature at offset 0x0 is \"%s\"", sig, h->signature);
        return 0;
    }
    if (h->length < min_len) {
        acpi_diagf(d, "%s: header length 0x%x at offset 0x4 < minimum 0x%zx", sig, h->length,
                   min_len);
        return 0;
    }
    size_t len = h->length;
    if (len > avail) {
        acpi_diagf(d, "%s: header length 0x%x at offset 0x4 > 0x%zx bytes available: truncated",
                   sig, h->length, avail);
        len = avail;
        if (len < min_len)
            return 0;
        /* The checksum covers bytes we do not have: it cannot be verified. */
        return len;
    }
    uint8_t sum = acpi_sum(table, len);
    *checksum_ok = sum == 0;
    if (sum != 0)
        acpi_diagf(d, "%s: checksum 0x%02x at offset 0x9 wrong: bytes sum to 0x%02x, not 0", sig,
                   h->checksum, sum);
    return len;
}

void acpi_gas_read(const uint8_t *p, struct acpi_gas *g)
{
    g->space_id = p[0];
    g->bit_width = p[1];
    g->bit_offset = p[2];
    g->access_size = p[3];
    g->address = acpi_rd64(p + 4);
}

unsigned acpi_gas_access_bytes(const struct acpi_gas *g)
{
    if (g->access_size >= 1 && g->access_size <= 4)
        return 1u << (g->access_size - 1);
    switch (g->bit_width) {
    case 16:
        return 2;
    case 32:
        return 4;
    case 64:
        return 8;
    default:
        return 1;
    }
}

const char *acpi_gas_space_name(uint8_t space_id)
{
    switch (space_id) {
    case ACPI_GAS_MEMORY:
        return "mmio";
    case ACPI_GAS_IO:
        return "io";
    case ACPI_GAS_PCI_CONFIG:
        return "pci-config";
    default:
        return "other";
    }
}

void *acpi_carve(struct acpi_carve *c, size_t count, size_t size)
{
    size_t at = (c->used + 7) & ~(size_t)7;
    c->used = at + count * size;
    if (!c->base || !count)
        return NULL;
    return c->base + at;
}

bool acpi_block_alloc(struct acpi_block *b, struct acpi_carve *c, const struct acpi_mem *mem,
                      const char *sig, const char *what, struct acpi_diag *d)
{
    *b = (struct acpi_block){0};
    c->base = NULL;
    size_t bytes = c->used;
    c->used = 0;
    if (!bytes)
        return true;
    void *p = mem && mem->alloc ? mem->alloc(mem->ctx, bytes) : NULL;
    if (!p) {
        acpi_diagf(
            d, "%s: out of memory: cannot allocate %zu bytes for %s; vtdsync keeps none of them",
            sig, bytes, what);
        return false;
    }
    *b = (struct acpi_block){.mem = mem, .p = p, .bytes = bytes};
    c->base = p;
    return true;
}

void acpi_block_release(struct acpi_block *b)
{
    if (b->p && b->mem && b->mem->free)
        b->mem->free(b->mem->ctx, b->p, b->bytes);
    *b = (struct acpi_block){0};
}
