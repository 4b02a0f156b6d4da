/* MCFG parsing: a 44-byte header followed by 16-byte allocation entries. */
#include "acpi/mcfg.h"

#include "acpi/bytes.h"
#include "lib/kstring.h"

#define MCFG_HEADER_LEN 44
#define MCFG_ENTRY_LEN 16

static bool overlaps(const struct mcfg_info *m, const struct mcfg_window *w)
{
    for (unsigned i = 0; i < m->count; i++) {
        const struct mcfg_window *o = &m->windows[i];
        if (o->segment == w->segment && w->start_bus <= o->end_bus && o->start_bus <= w->end_bus)
            return true;
    }
    return false;
}

int mcfg_parse(const void *table, size_t len, const struct acpi_mem *mem, struct mcfg_info *out,
               struct acpi_diag *d)
{
    const uint8_t *t = table;
    unsigned dropped = 0; /* good windows beyond the array */

    memset(out, 0, sizeof(*out));
    len = acpi_table_check(table, len, "MCFG", MCFG_HEADER_LEN, &out->hdr, &out->checksum_ok, d);
    if (!len)
        return -1;
    out->valid = true;
    if ((len - MCFG_HEADER_LEN) % MCFG_ENTRY_LEN)
        acpi_diagf(d, "MCFG: %zu stray byte(s) at offset 0x%zx after the last entry",
                   (len - MCFG_HEADER_LEN) % MCFG_ENTRY_LEN,
                   len - (len - MCFG_HEADER_LEN) % MCFG_ENTRY_LEN);

    /* Every entry may be a window: the array holds them all (capped). */
    size_t entries = (len - MCFG_HEADER_LEN) / MCFG_ENTRY_LEN;
    unsigned room = entries < MCFG_MAX_WINDOWS ? (unsigned)entries : MCFG_MAX_WINDOWS;
    struct acpi_carve c = {0};
    char what[40];
    acpi_carve(&c, room, sizeof(*out->windows));
    ksnprintf(what, sizeof(what), "%zu windows", entries);
    if (!acpi_block_alloc(&out->block, &c, mem, "MCFG", what, d))
        room = 0;
    out->windows = acpi_carve(&c, room, sizeof(*out->windows));

    for (size_t off = MCFG_HEADER_LEN; off + MCFG_ENTRY_LEN <= len; off += MCFG_ENTRY_LEN) {
        struct mcfg_window w = {
            .base = acpi_rd64(t + off),
            .segment = acpi_rd16(t + off + 8),
            .start_bus = t[off + 10],
            .end_bus = t[off + 11],
        };
        if (w.end_bus < w.start_bus) {
            acpi_diagf(d,
                       "MCFG: entry at offset 0x%zx: end bus 0x%x at offset 0x%zx < start bus "
                       "0x%x, skipped",
                       off, w.end_bus, off + 11, w.start_bus);
            continue;
        }
        /* 1 MiB per bus, and the base addresses bus 0. */
        if (w.base & 0xfffff) {
            acpi_diagf(d,
                       "MCFG: entry at offset 0x%zx: base 0x%llx at offset 0x%zx not 1 MiB "
                       "aligned, skipped",
                       off, (unsigned long long)w.base, off);
            continue;
        }
        if (overlaps(out, &w)) {
            acpi_diagf(d,
                       "MCFG: entry at offset 0x%zx: segment %u buses 0x%x..0x%x overlap an "
                       "earlier entry, skipped",
                       off, w.segment, w.start_bus, w.end_bus);
            continue;
        }
        if (out->count >= room) {
            dropped++;
            continue;
        }
        out->windows[out->count++] = w;
    }
    if (dropped)
        acpi_notef(d, "MCFG: %u of %u windows kept (vtdsync's limit); the others are not used",
                   out->count, out->count + dropped);
    return 0;
}

void mcfg_release(struct mcfg_info *out)
{
    acpi_block_release(&out->block);
    memset(out, 0, sizeof(*out));
}

uint64_t mcfg_ecam_address(const struct mcfg_info *m, uint16_t seg, uint8_t bus, uint8_t dev,
                           uint8_t fn)
{
    if (dev > 31 || fn > 7)
        return 0;
    for (unsigned i = 0; i < m->count; i++) {
        const struct mcfg_window *w = &m->windows[i];
        if (w->segment == seg && bus >= w->start_bus && bus <= w->end_bus)
            return w->base + ((uint64_t)bus << 20) + ((uint64_t)dev << 15) + ((uint64_t)fn << 12);
    }
    return 0;
}
