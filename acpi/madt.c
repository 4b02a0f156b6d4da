/* MADT parsing: a 44-byte header then entries of (type, length, body). */
#include "acpi/madt.h"

#include "acpi/bytes.h"
#include "lib/kstring.h"

#define MADT_HEADER_LEN 44

struct walk {
    const uint8_t *t;
    struct madt_info *out;
    struct acpi_diag *d;
    /* Room in the arrays (counted sizes, capped) and entries beyond it:
     * CPUs, IOAPICs, overrides, NMIs. */
    unsigned cap[4], dropped[4];
};

enum { DROP_CPU, DROP_IOAPIC, DROP_OVERRIDE, DROP_NMI };

#define EDIAG(w, type, off, fmt, ...)                                                              \
    acpi_diagf((w)->d, "MADT: entry type %u at offset 0x%zx: " fmt, (unsigned)(type),              \
               (size_t)(off), ##__VA_ARGS__)

static void add_cpu(struct walk *w, size_t off, uint32_t apic_id, uint32_t uid, uint32_t flags,
                    bool x2apic)
{
    struct madt_info *o = w->out;
    bool enabled = flags & MADT_CPU_ENABLED;

    /* Entries for absent CPUs (neither bit set) are padding in many
     * firmware tables: keep them out of the list and the duplicate check. */
    if (!(flags & (MADT_CPU_ENABLED | MADT_CPU_ONLINE_CAPABLE)))
        return;
    for (unsigned i = 0; i < o->ncpus; i++) {
        if (o->cpus[i].apic_id == apic_id) {
            EDIAG(w, x2apic ? MADT_X2APIC : MADT_LAPIC, off,
                  "APIC id 0x%x already listed at offset 0x%x, ignored", apic_id,
                  o->cpus[i].offset);
            return;
        }
    }
    if (o->ncpus >= w->cap[DROP_CPU]) {
        w->dropped[DROP_CPU]++;
        return;
    }
    o->cpus[o->ncpus++] = (struct madt_cpu){
        .apic_id = apic_id,
        .uid = uid,
        .flags = flags,
        .x2apic = x2apic,
        .enabled = enabled,
        .online_capable = !enabled && (flags & MADT_CPU_ONLINE_CAPABLE),
        .offset = (uint32_t)off,
    };
}

static void add_nmi(struct walk *w, size_t off, unsigned type, uint32_t uid, uint16_t flags,
                    uint8_t lint)
{
    struct madt_info *o = w->out;
    if (o->nnmis >= w->cap[DROP_NMI]) {
        w->dropped[DROP_NMI]++;
        return;
    }
    if (lint > 1)
        EDIAG(w, type, off, "LINT# %u is not 0 or 1", lint);
    o->nmis[o->nnmis++] = (struct madt_nmi){.uid = uid, .flags = flags, .lint = lint};
}

static void parse_ioapic(struct walk *w, size_t off, const uint8_t *e)
{
    struct madt_info *o = w->out;
    if (o->nioapics >= w->cap[DROP_IOAPIC]) {
        w->dropped[DROP_IOAPIC]++;
        return;
    }
    o->ioapics[o->nioapics++] = (struct madt_ioapic){
        .id = e[2],
        .address = acpi_rd32(e + 4),
        .gsi_base = acpi_rd32(e + 8),
        .offset = (uint32_t)off,
    };
}

static void parse_override(struct walk *w, const uint8_t *e)
{
    struct madt_info *o = w->out;
    if (o->noverrides >= w->cap[DROP_OVERRIDE]) {
        w->dropped[DROP_OVERRIDE]++;
        return;
    }
    o->overrides[o->noverrides++] = (struct madt_override){
        .bus = e[2],
        .source = e[3],
        .gsi = acpi_rd32(e + 4),
        .flags = acpi_rd16(e + 8),
    };
}

/* Smallest length of each entry type we read; 0: not read. */
static uint8_t entry_min_len(unsigned type)
{
    switch (type) {
    case MADT_LAPIC:
        return 8;
    case MADT_IOAPIC:
        return 12;
    case MADT_INT_OVERRIDE:
        return 10;
    case MADT_LAPIC_NMI:
        return 6;
    case MADT_LAPIC_ADDR_OVERRIDE:
        return 12;
    case MADT_X2APIC:
        return 16;
    case MADT_X2APIC_NMI:
        return 12;
    default:
        return 0;
    }
}

static void parse_entry(struct walk *w, unsigned type, size_t off, const uint8_t *e)
{
    struct madt_info *o = w->out;
    switch (type) {
    case MADT_LAPIC:
        add_cpu(w, off, e[3], e[2], acpi_rd32(e + 4), false);
        break;
    case MADT_IOAPIC:
        parse_ioapic(w, off, e);
        break;
    case MADT_INT_OVERRIDE:
        parse_override(w, e);
        break;
    case MADT_LAPIC_NMI:
        add_nmi(w, off, type, e[2] == 0xff ? MADT_UID_ALL_CPUS : e[2], acpi_rd16(e + 3), e[5]);
        break;
    case MADT_LAPIC_ADDR_OVERRIDE:
        if (o->lapic_overridden)
            EDIAG(w, type, off, "second local APIC address override, ignored");
        else {
            o->lapic_address = acpi_rd64(e + 4);
            o->lapic_overridden = true;
        }
        break;
    case MADT_X2APIC:
        add_cpu(w, off, acpi_rd32(e + 4), acpi_rd32(e + 12), acpi_rd32(e + 8), true);
        break;
    case MADT_X2APIC_NMI:
        add_nmi(w, off, type, acpi_rd32(e + 4), acpi_rd16(e + 2), e[8]);
        break;
    }
}

/* Limits of vtdsync, with the table's real counts: notes. */
static void report_dropped(struct walk *w)
{
    static const char *const what[] = {"CPUs", "IOAPICs", "interrupt source overrides",
                                       "local APIC NMI entries"};
    const struct madt_info *o = w->out;
    const unsigned kept[] = {o->ncpus, o->nioapics, o->noverrides, o->nnmis};
    for (unsigned i = 0; i < 4; i++) {
        if (w->dropped[i])
            acpi_notef(w->d, "MADT: %u of %u %s kept (vtdsync's limit); the others are not used",
                       kept[i], kept[i] + w->dropped[i], what[i]);
    }
}

/* Which array an entry of this type goes to, or -1.  CPU entries count
 * only when present (add_cpu() skips the others). */
static int entry_array(unsigned type, const uint8_t *e)
{
    switch (type) {
    case MADT_LAPIC:
        return acpi_rd32(e + 4) & (MADT_CPU_ENABLED | MADT_CPU_ONLINE_CAPABLE) ? DROP_CPU : -1;
    case MADT_X2APIC:
        return acpi_rd32(e + 8) & (MADT_CPU_ENABLED | MADT_CPU_ONLINE_CAPABLE) ? DROP_CPU : -1;
    case MADT_IOAPIC:
        return DROP_IOAPIC;
    case MADT_INT_OVERRIDE:
        return DROP_OVERRIDE;
    case MADT_LAPIC_NMI:
    case MADT_X2APIC_NMI:
        return DROP_NMI;
    default:
        return -1;
    }
}

/* The entries in order, until the framing breaks.  diag: parse them and
 * report problems; otherwise count them into n, silently (the first
 * pass, for the array sizes). */
static void walk_entries(struct walk *w, size_t len, unsigned n[4], bool diag)
{
    size_t off = MADT_HEADER_LEN;
    while (off < len) {
        const uint8_t *e = w->t + off;
        size_t room = len - off;
        if (room < 2) {
            if (diag)
                acpi_diagf(w->d, "MADT: 1 stray byte at offset 0x%zx after the last entry", off);
            break;
        }
        unsigned type = e[0], elen = e[1];
        if (elen < 2) {
            if (diag)
                EDIAG(w, type, off, "length 0x%x at offset 0x%zx < 2: walk stopped", elen, off + 1);
            break;
        }
        if (elen > room) {
            if (diag)
                EDIAG(w, type, off,
                      "length 0x%x at offset 0x%zx overruns the table (0x%zx bytes left): walk "
                      "stopped",
                      elen, off + 1, room);
            break;
        }
        unsigned min = entry_min_len(type);
        if (elen < min) {
            if (diag)
                EDIAG(w, type, off, "length 0x%x at offset 0x%zx < %u, skipped", elen, off + 1,
                      min);
        } else if (min && diag) {
            parse_entry(w, type, off, e);
        } else if (min && entry_array(type, e) >= 0) {
            n[entry_array(type, e)]++;
        }
        off += elen;
    }
}

static void carve_arrays(struct walk *w, struct acpi_carve *c)
{
    struct madt_info *o = w->out;
    o->cpus = acpi_carve(c, w->cap[DROP_CPU], sizeof(*o->cpus));
    o->ioapics = acpi_carve(c, w->cap[DROP_IOAPIC], sizeof(*o->ioapics));
    o->overrides = acpi_carve(c, w->cap[DROP_OVERRIDE], sizeof(*o->overrides));
    o->nmis = acpi_carve(c, w->cap[DROP_NMI], sizeof(*o->nmis));
}

/* Counts, caps and allocates the arrays; out of memory (reported) leaves
 * them empty, and the dropped counts say what the table held. */
static void alloc_arrays(struct walk *w, size_t len, const struct acpi_mem *mem)
{
    static const unsigned max[] = {MADT_MAX_CPUS, MADT_MAX_IOAPICS, MADT_MAX_OVERRIDES,
                                   MADT_MAX_NMIS};
    unsigned n[4] = {0};
    struct acpi_carve c = {0};
    char what[96];

    walk_entries(w, len, n, false);
    for (unsigned i = 0; i < 4; i++)
        w->cap[i] = n[i] < max[i] ? n[i] : max[i];
    carve_arrays(w, &c);
    ksnprintf(what, sizeof(what), "%u CPUs, %u IOAPICs, %u overrides and %u NMI entries", n[0],
              n[1], n[2], n[3]);
    if (!acpi_block_alloc(&w->out->block, &c, mem, "MADT", what, w->d))
        memset(w->cap, 0, sizeof(w->cap));
    carve_arrays(w, &c);
}

int madt_parse(const void *table, size_t len, const struct acpi_mem *mem, struct madt_info *out,
               struct acpi_diag *d)
{
    struct walk w = {.t = table, .out = out, .d = d};

    memset(out, 0, sizeof(*out));
    len = acpi_table_check(table, len, "APIC", MADT_HEADER_LEN, &out->hdr, &out->checksum_ok, d);
    if (!len)
        return -1;
    out->valid = true;
    out->lapic_address = acpi_rd32(w.t + 36);
    out->flags = acpi_rd32(w.t + 40);
    alloc_arrays(&w, len, mem);
    walk_entries(&w, len, NULL, true);
    report_dropped(&w);
    if (out->ncpus == 0)
        acpi_diagf(d, "MADT: no enabled or online-capable CPU");
    return 0;
}

void madt_release(struct madt_info *out)
{
    acpi_block_release(&out->block);
    memset(out, 0, sizeof(*out));
}
