/* RSDP, XSDT/RSDT walk and the table list. */
#include "acpi/acpi.h"

#include "acpi/bytes.h"
#include "lib/kstring.h"

#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36
#define FADT_DSDT_OFF 40
#define FADT_X_DSDT_OFF 140

/* Maps a table's header, then the whole table; checks the signature (when
 * sig is given) and the length.  Returns the mapped table or NULL. */
static const uint8_t *map_table(struct acpi_tables *t, uint64_t phys, const char *sig,
                                const char *who, struct acpi_diag *d, uint32_t *len_out)
{
    const uint8_t *h = t->map(phys, ACPI_HEADER_LEN, t->map_ctx);
    if (!h) {
        acpi_diagf(d, "ACPI: %s at 0x%llx: cannot map header", who, (unsigned long long)phys);
        return NULL;
    }
    if (sig && memcmp(h, sig, 4) != 0) {
        char got[5];
        acpi_copy_name(got, h, 4);
        acpi_diagf(d, "ACPI: %s at 0x%llx: signature \"%s\", expected \"%s\"", who,
                   (unsigned long long)phys, got, sig);
        return NULL;
    }
    uint32_t len = acpi_rd32(h + 4);
    if (len < ACPI_HEADER_LEN || len > ACPI_MAX_TABLE_LEN) {
        acpi_diagf(d, "ACPI: %s at 0x%llx: length 0x%x at offset 0x4 out of range [0x%x, 0x%x]",
                   who, (unsigned long long)phys, len, ACPI_HEADER_LEN, ACPI_MAX_TABLE_LEN);
        return NULL;
    }
    const uint8_t *p = t->map(phys, len, t->map_ctx);
    if (!p)
        acpi_diagf(d, "ACPI: %s at 0x%llx: cannot map 0x%x bytes", who, (unsigned long long)phys,
                   len);
    *len_out = len;
    return p;
}

static void add_table(struct acpi_tables *t, uint64_t phys, const char *sig, const char *who,
                      struct acpi_diag *d)
{
    uint32_t len;
    const uint8_t *p = map_table(t, phys, sig, who, d, &len);
    if (!p)
        return;
    if (t->count >= t->room) {
        t->dropped++; /* reported once, with the real count */
        return;
    }
    struct acpi_table *e = &t->tables[t->count++];
    acpi_header_read(p, &e->hdr);
    e->phys = phys;
    e->checksum_ok = acpi_sum(p, len) == 0;
    if (!e->checksum_ok)
        acpi_diagf(d, "ACPI: %s at 0x%llx: checksum 0x%02x at offset 0x9 wrong", e->hdr.signature,
                   (unsigned long long)phys, e->hdr.checksum);
}

/* The list, sized by the root table that is read (capped); out of memory
 * (reported) leaves it empty, and dropped says how many were listed. */
static void alloc_list(struct acpi_tables *t, unsigned n, const struct acpi_mem *mem,
                       struct acpi_diag *d)
{
    struct acpi_carve c = {0};
    char what[40];
    t->room = n < ACPI_MAX_TABLES ? n : ACPI_MAX_TABLES;
    acpi_carve(&c, t->room, sizeof(*t->tables));
    ksnprintf(what, sizeof(what), "a list of %u tables", n);
    if (!acpi_block_alloc(&t->block, &c, mem, "ACPI", what, d))
        t->room = 0;
    t->tables = acpi_carve(&c, t->room, sizeof(*t->tables));
}

/* Lists the entries of an XSDT (entry 8 bytes) or RSDT (4 bytes).  strict:
 * refuse a root table with a bad checksum, so that the other one is tried. */
static int load_root(struct acpi_tables *t, uint64_t phys, const char *sig, unsigned esize,
                     bool strict, const struct acpi_mem *mem, struct acpi_diag *d)
{
    uint32_t len;
    const uint8_t *p = map_table(t, phys, sig, sig, d, &len);
    if (!p)
        return -1;
    uint8_t sum = acpi_sum(p, len);
    if (sum != 0) {
        acpi_diagf(d, "%s: checksum 0x%02x at offset 0x9 wrong: bytes sum to 0x%02x%s", sig, p[9],
                   sum, strict ? "" : ", used anyway");
        if (strict)
            return -1;
    }
    if ((len - ACPI_HEADER_LEN) % esize)
        acpi_diagf(d, "%s: length 0x%x: %u trailing bytes after the last %u-byte entry", sig, len,
                   (len - ACPI_HEADER_LEN) % esize, esize);

    memcpy(t->root_sig, sig, 5);
    t->root_phys = phys;
    unsigned n = (len - ACPI_HEADER_LEN) / esize;
    alloc_list(t, n + 1, mem, d); /* + 1: the DSDT */
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *ep = p + ACPI_HEADER_LEN + (size_t)i * esize;
        uint64_t tp = esize == 8 ? acpi_rd64(ep) : acpi_rd32(ep);
        if (!tp) {
            acpi_notef(d, "%s: entry %u at offset 0x%zx is 0, skipped", sig, i, (size_t)(ep - p));
            continue;
        }
        char who[32];
        ksnprintf(who, sizeof(who), "%s entry %u", sig, i);
        add_table(t, tp, NULL, who, d);
    }
    return 0;
}

static int read_rsdp(struct acpi_tables *t, uint64_t phys, struct acpi_diag *d)
{
    const uint8_t *r = t->map(phys, RSDP_V1_LEN, t->map_ctx);
    if (!r) {
        acpi_diagf(d, "RSDP: cannot map 0x%llx", (unsigned long long)phys);
        return -1;
    }
    if (memcmp(r, "RSD PTR ", 8) != 0) {
        acpi_diagf(d, "RSDP: no \"RSD PTR \" signature at 0x%llx", (unsigned long long)phys);
        return -1;
    }
    t->rsdp_checksum_ok = acpi_sum(r, RSDP_V1_LEN) == 0;
    if (!t->rsdp_checksum_ok)
        acpi_diagf(d, "RSDP: checksum 0x%02x at offset 0x8 wrong over the first 20 bytes", r[8]);
    acpi_copy_name(t->rsdp_oem_id, r + 9, 6);
    t->rsdp_revision = r[15];
    t->rsdt_phys = acpi_rd32(r + 16);
    if (t->rsdp_revision < 2)
        return 0;

    const uint8_t *x = t->map(phys, RSDP_V2_LEN, t->map_ctx);
    if (!x) {
        acpi_diagf(d, "RSDP: revision %u but cannot map 36 bytes", t->rsdp_revision);
        return 0;
    }
    uint32_t len = acpi_rd32(x + 20);
    if (len < RSDP_V2_LEN || len > 4096) {
        acpi_diagf(d, "RSDP: length 0x%x at offset 0x14 out of range [0x24, 0x1000]", len);
        len = RSDP_V2_LEN;
    }
    x = t->map(phys, len, t->map_ctx);
    if (!x) {
        acpi_diagf(d, "RSDP: cannot map 0x%x bytes", len);
        return 0;
    }
    t->xsdt_phys = acpi_rd64(x + 24);
    t->rsdp_ext_checksum_ok = acpi_sum(x, len) == 0;
    if (!t->rsdp_ext_checksum_ok)
        acpi_diagf(d, "RSDP: extended checksum 0x%02x at offset 0x20 wrong", x[32]);
    return 0;
}

/* The DSDT is not listed in the XSDT; the FADT points at it. */
static void add_dsdt(struct acpi_tables *t, struct acpi_diag *d)
{
    const struct acpi_table *f = acpi_find_table(t, "FACP", 0);
    if (!f)
        return;
    const uint8_t *p = acpi_table_map(t, f);
    if (!p || f->hdr.length < FADT_DSDT_OFF + 4)
        return;
    uint64_t dsdt = acpi_rd32(p + FADT_DSDT_OFF);
    if (f->hdr.length >= FADT_X_DSDT_OFF + 8 && acpi_rd64(p + FADT_X_DSDT_OFF))
        dsdt = acpi_rd64(p + FADT_X_DSDT_OFF);
    if (dsdt)
        add_table(t, dsdt, "DSDT", "FACP DSDT pointer", d);
}

int acpi_tables_load(struct acpi_tables *t, uint64_t rsdp_phys, acpi_map_fn map, void *map_ctx,
                     const struct acpi_mem *mem, struct acpi_diag *d)
{
    memset(t, 0, sizeof(*t));
    t->rsdp_phys = rsdp_phys;
    t->map = map;
    t->map_ctx = map_ctx;
    if (read_rsdp(t, rsdp_phys, d) < 0)
        return -1;

    bool xsdt_ok = t->rsdp_revision >= 2 && t->rsdp_ext_checksum_ok && t->xsdt_phys;
    int rc = -1;
    /* Prefer a fully valid XSDT, then a fully valid RSDT; only when both
     * fail, accept whichever exists with a bad checksum. */
    if (xsdt_ok)
        rc = load_root(t, t->xsdt_phys, "XSDT", 8, true, mem, d);
    if (rc < 0 && t->rsdt_phys && t->rsdp_checksum_ok)
        rc = load_root(t, t->rsdt_phys, "RSDT", 4, true, mem, d);
    if (rc < 0 && t->xsdt_phys && t->rsdp_revision >= 2)
        rc = load_root(t, t->xsdt_phys, "XSDT", 8, false, mem, d);
    if (rc < 0 && t->rsdt_phys)
        rc = load_root(t, t->rsdt_phys, "RSDT", 4, false, mem, d);
    if (rc < 0) {
        acpi_diagf(d, "RSDP: no usable XSDT (0x%llx) or RSDT (0x%llx)",
                   (unsigned long long)t->xsdt_phys, (unsigned long long)t->rsdt_phys);
        return -1;
    }
    if (t->rsdp_revision >= 2 && strcmp(t->root_sig, "RSDT") == 0)
        /* The XSDT's own problem was reported as a defect already. */
        acpi_notef(d, "RSDP: revision %u but XSDT at 0x%llx unusable: fell back to RSDT",
                   t->rsdp_revision, (unsigned long long)t->xsdt_phys);
    add_dsdt(t, d);
    if (t->dropped)
        acpi_notef(d, "ACPI: %u of %u tables kept (vtdsync's limit); the others are not read",
                   t->count, t->count + t->dropped);
    return 0;
}

void acpi_tables_release(struct acpi_tables *t)
{
    acpi_block_release(&t->block);
    memset(t, 0, sizeof(*t));
}

const struct acpi_table *acpi_find_table(const struct acpi_tables *t, const char *sig,
                                         unsigned index)
{
    for (unsigned i = 0; i < t->count; i++) {
        if (memcmp(t->tables[i].hdr.signature, sig, 4) == 0 && index-- == 0)
            return &t->tables[i];
    }
    return NULL;
}

const void *acpi_table_map(const struct acpi_tables *t, const struct acpi_table *e)
{
    if (!e || !t->map)
        return NULL;
    return t->map(e->phys, e->hdr.length, t->map_ctx);
}
