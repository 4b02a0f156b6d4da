/* DMAR parsing: header, the remapping structure walk, device scopes.
 * Scope path resolution and the device -> unit lookup live in
 * dmar_scope.c. */
#include "acpi/dmar.h"

#include "acpi/bytes.h"
#include "lib/kstring.h"

#define DMAR_HEADER_LEN 48
#define SCOPE_HEADER_LEN 6

struct walk {
    const uint8_t *t;
    size_t len;
    struct dmar_info *out;
    struct acpi_diag *d;
    /* Room in the arrays (the counted sizes, capped), and how many
     * structures of each type and scopes did not fit (reported once at
     * the end). */
    unsigned cap[DMAR_TYPE_SIDP + 1], cap_scopes;
    unsigned dropped[DMAR_TYPE_SIDP + 1];
    unsigned scopes_seen, scopes_dropped;
};

const char *dmar_struct_name(unsigned type)
{
    static const char *const names[] = {"DRHD", "RMRR", "ATSR", "RHSA", "ANDD", "SATC", "SIDP"};
    return type < ARRAY_SIZE(names) ? names[type] : "unknown";
}

const char *dmar_scope_name(unsigned type)
{
    static const char *const names[] = {"reserved", "PCI endpoint", "PCI sub-hierarchy",
                                        "IOAPIC",   "HPET",         "ACPI namespace device"};
    return type < ARRAY_SIZE(names) ? names[type] : "reserved";
}

/* Every structure diagnostic starts the same way so logs can be grepped.
 * SDIAG reports a defect (the table is wrong), SNOTE a note (firmware that
 * real machines ship and Linux runs on, or a limit of vtdsync). */
#define SDIAG(w, type, off, fmt, ...)                                                              \
    acpi_diagf((w)->d, "DMAR: structure type %u (%s) at offset 0x%zx: " fmt, (unsigned)(type),     \
               dmar_struct_name(type), (size_t)(off), ##__VA_ARGS__)
#define SNOTE(w, type, off, fmt, ...)                                                              \
    acpi_notef((w)->d, "DMAR: structure type %u (%s) at offset 0x%zx: " fmt, (unsigned)(type),     \
               dmar_struct_name(type), (size_t)(off), ##__VA_ARGS__)

/* Parses one scope entry at off (inside the owner, `room` bytes left).
 * Returns the entry's length to skip, or 0 when the rest of the owner's
 * scope area cannot be walked.  *bad is set when the owner's device set
 * is no longer trustworthy. */
static size_t parse_scope(struct walk *w, unsigned otype, size_t ooff, size_t off, size_t room,
                          struct dmar_scope_list *list, uint16_t oindex, uint16_t seg, bool *bad)
{
    const uint8_t *s = w->t + off;
    if (room < 2) {
        SDIAG(w, otype, ooff, "%zu stray byte(s) at offset 0x%zx after the last device scope", room,
              off);
        *bad = true;
        return 0;
    }
    uint8_t stype = s[0], slen = s[1];
    if (slen < SCOPE_HEADER_LEN) {
        SDIAG(w, otype, ooff, "device scope at offset 0x%zx: length 0x%x at offset 0x%zx < %u", off,
              slen, off + 1, SCOPE_HEADER_LEN);
        *bad = true;
        return 0;
    }
    if (slen > room) {
        SDIAG(w, otype, ooff,
              "device scope at offset 0x%zx: length 0x%x at offset 0x%zx overruns the "
              "structure (0x%zx bytes left)",
              off, slen, off + 1, room);
        *bad = true;
        return 0;
    }
    if ((slen - SCOPE_HEADER_LEN) % 2) {
        SDIAG(w, otype, ooff,
              "device scope at offset 0x%zx: length 0x%x at offset 0x%zx leaves half a path "
              "element",
              off, slen, off + 1);
        *bad = true;
        return slen;
    }
    if (stype < DMAR_SCOPE_ENDPOINT || stype > DMAR_SCOPE_ACPI) {
        /* Reserved today; a later spec revision may define it. */
        SNOTE(w, otype, ooff, "device scope at offset 0x%zx: unknown type %u, skipped", off, stype);
        return slen;
    }
    unsigned npath = (slen - SCOPE_HEADER_LEN) / 2u;
    if (npath == 0) {
        SDIAG(w, otype, ooff, "device scope at offset 0x%zx: type %u (%s) has no path", off, stype,
              dmar_scope_name(stype));
        *bad = true;
        return slen;
    }
    if (npath > DMAR_MAX_PATH) {
        /* A limit of vtdsync, not a fault of the table. */
        SNOTE(w, otype, ooff,
              "device scope at offset 0x%zx: path of %u elements: vtdsync keeps paths of up to "
              "%u, so this structure's device set is incomplete and it is not used",
              off, npath, DMAR_MAX_PATH);
        *bad = true;
        return slen;
    }
    w->scopes_seen++;
    if (w->out->nscopes >= w->cap_scopes) {
        w->scopes_dropped++; /* reported once, with the totals, by walk_structs */
        *bad = true;
        return slen;
    }
    if (list->count == 0)
        list->first = (uint16_t)w->out->nscopes;
    struct dmar_scope *sc = &w->out->scopes[w->out->nscopes++];
    list->count++;
    memset(sc, 0, sizeof(*sc));
    sc->type = stype;
    sc->flags = s[2];
    sc->enum_id = s[4];
    sc->start_bus = s[5];
    sc->owner_type = (uint8_t)otype;
    sc->owner_index = oindex;
    sc->segment = seg;
    sc->offset = (uint32_t)off;
    sc->path_len = (uint8_t)npath;
    for (unsigned i = 0; i < npath; i++) {
        sc->path[i].dev = s[SCOPE_HEADER_LEN + 2 * i];
        sc->path[i].fn = s[SCOPE_HEADER_LEN + 2 * i + 1];
    }
    return slen;
}

/* Walks the scope area [off + fixed, off + slen) of one structure.
 * Returns false when the structure's scopes are corrupt. */
static bool parse_scopes(struct walk *w, unsigned otype, size_t off, size_t slen, size_t fixed,
                         struct dmar_scope_list *list, uint16_t oindex, uint16_t seg)
{
    bool bad = false;
    size_t pos = off + fixed, end = off + slen;

    list->first = (uint16_t)w->out->nscopes;
    list->count = 0;
    while (pos < end) {
        size_t n = parse_scope(w, otype, off, pos, end - pos, list, oindex, seg, &bad);
        if (n == 0)
            break;
        pos += n;
    }
    return !bad;
}

static bool reg_base_ok(uint64_t base)
{
    return base && !(base & 0xfff);
}

/* Two units whose register sets share a page would be one unit
 * programmed twice.  The size comes from DRHD byte 5 (VT-d 4.x; 0, one
 * page, in tables that predate it).  A bad base was reported already. */
static void check_unit_overlap(struct walk *w, struct dmar_unit *u)
{
    if (!reg_base_ok(u->reg_base))
        return;
    for (unsigned i = 0; i < w->out->nunits; i++) {
        const struct dmar_unit *p = &w->out->units[i];
        if (!reg_base_ok(p->reg_base) || p->reg_base >= u->reg_base + u->reg_size ||
            u->reg_base >= p->reg_base + p->reg_size)
            continue;
        SDIAG(w, DMAR_TYPE_DRHD, u->offset,
              "registers 0x%llx..0x%llx overlap those of the unit at offset 0x%x "
              "(0x%llx..0x%llx): unit unusable",
              (unsigned long long)u->reg_base, (unsigned long long)(u->reg_base + u->reg_size - 1),
              p->offset, (unsigned long long)p->reg_base,
              (unsigned long long)(p->reg_base + p->reg_size - 1));
        u->usable = false;
        return;
    }
}

static void parse_drhd(struct walk *w, size_t off, size_t slen)
{
    struct dmar_info *o = w->out;
    const uint8_t *s = w->t + off;

    if (o->nunits >= w->cap[DMAR_TYPE_DRHD]) {
        w->dropped[DMAR_TYPE_DRHD]++;
        return;
    }
    struct dmar_unit *u = &o->units[o->nunits];
    memset(u, 0, sizeof(*u));
    u->flags = s[4];
    u->size_field = s[5] & 0xf;
    u->reg_size = 4096ull << u->size_field;
    u->segment = acpi_rd16(s + 6);
    u->reg_base = acpi_rd64(s + 8);
    u->include_pci_all = u->flags & DMAR_DRHD_INCLUDE_PCI_ALL;
    u->offset = (uint32_t)off;
    u->proximity_domain = -1;
    u->usable = true;
    if (!reg_base_ok(u->reg_base)) {
        SDIAG(w, DMAR_TYPE_DRHD, off, "register base 0x%llx at offset 0x%zx not a 4 KiB page",
              (unsigned long long)u->reg_base, off + 8);
        u->usable = false;
    }
    if (!parse_scopes(w, DMAR_TYPE_DRHD, off, slen, 16, &u->scopes, (uint16_t)o->nunits,
                      u->segment))
        u->usable = false;

    /* The spec puts a segment's INCLUDE_PCI_ALL unit last among its DRHDs,
     * and allows one; a second one makes the device -> unit map ambiguous. */
    for (unsigned i = 0; i < o->nunits; i++) {
        const struct dmar_unit *p = &o->units[i];
        if (p->segment != u->segment || !p->include_pci_all)
            continue;
        if (u->include_pci_all) {
            SDIAG(w, DMAR_TYPE_DRHD, off,
                  "second INCLUDE_PCI_ALL unit on segment %u (first at offset 0x%x): "
                  "flags 0x%x at offset 0x%zx, unit unusable",
                  u->segment, p->offset, u->flags, off + 4);
            u->usable = false;
        } else {
            /* Order does not change which unit translates a device: the
             * scopes decide first, INCLUDE_PCI_ALL only catches the rest. */
            SNOTE(w, DMAR_TYPE_DRHD, off,
                  "unit on segment %u follows that segment's INCLUDE_PCI_ALL unit at offset "
                  "0x%x",
                  u->segment, p->offset);
            o->ordered = false;
        }
        break;
    }
    check_unit_overlap(w, u);
    o->nunits++;
}

/* The spec asks for a 4 KiB-aligned base and a limit that ends a 4 KiB
 * page, at or above the base.  A limit below the base is no range at all:
 * a defect.  Firmware does ship ranges that are not whole pages and ranges
 * in the first MiB (legacy USB); Linux warns and maps the pages that hold
 * them, so they are notes and the range is widened to those pages. */
static bool rmrr_range_ok(struct walk *w, size_t off, struct dmar_rmrr *r)
{
    if (r->base > r->limit) {
        SDIAG(w, DMAR_TYPE_RMRR, off,
              "range 0x%llx..0x%llx (offsets 0x%zx, 0x%zx): limit below base, RMRR unusable",
              (unsigned long long)r->base, (unsigned long long)r->limit, off + 8, off + 16);
        return false;
    }
    if ((r->base & 0xfff) || ((r->limit + 1) & 0xfff)) {
        uint64_t base = r->base & ~0xfffull, limit = r->limit | 0xfff;
        SNOTE(w, DMAR_TYPE_RMRR, off,
              "range 0x%llx..0x%llx (offsets 0x%zx, 0x%zx) not whole 4 KiB pages: "
              "using 0x%llx..0x%llx",
              (unsigned long long)r->base, (unsigned long long)r->limit, off + 8, off + 16,
              (unsigned long long)base, (unsigned long long)limit);
        r->base = base;
        r->limit = limit;
    }
    if (r->base < 0x100000)
        SNOTE(w, DMAR_TYPE_RMRR, off, "range 0x%llx..0x%llx lies below 1 MiB (legacy BIOS memory)",
              (unsigned long long)r->base, (unsigned long long)r->limit);
    return true;
}

static void parse_rmrr(struct walk *w, size_t off, size_t slen)
{
    struct dmar_info *o = w->out;
    const uint8_t *s = w->t + off;

    if (o->nrmrrs >= w->cap[DMAR_TYPE_RMRR]) {
        w->dropped[DMAR_TYPE_RMRR]++;
        return;
    }
    struct dmar_rmrr *r = &o->rmrrs[o->nrmrrs];
    memset(r, 0, sizeof(*r));
    r->segment = acpi_rd16(s + 6);
    r->base = acpi_rd64(s + 8);
    r->limit = acpi_rd64(s + 16);
    r->offset = (uint32_t)off;
    r->usable = rmrr_range_ok(w, off, r);
    if (!parse_scopes(w, DMAR_TYPE_RMRR, off, slen, 24, &r->scopes, (uint16_t)o->nrmrrs,
                      r->segment))
        r->usable = false;
    o->nrmrrs++;
}

/* ATSR, SATC and SIDP: byte 4 flags (reserved in SIDP), segment at 6,
 * scopes from 8. */
static void parse_report(struct walk *w, unsigned type, size_t off, size_t slen,
                         struct dmar_report *arr, unsigned *count)
{
    const uint8_t *s = w->t + off;

    if (*count >= w->cap[type]) {
        w->dropped[type]++;
        return;
    }
    struct dmar_report *r = &arr[*count];
    memset(r, 0, sizeof(*r));
    r->flags = type == DMAR_TYPE_SIDP ? 0 : s[4];
    r->segment = acpi_rd16(s + 6);
    r->offset = (uint32_t)off;
    r->usable = parse_scopes(w, type, off, slen, 8, &r->scopes, (uint16_t)*count, r->segment);
    (*count)++;
}

static void parse_rhsa(struct walk *w, size_t off)
{
    struct dmar_info *o = w->out;
    const uint8_t *s = w->t + off;

    if (o->nrhsas >= w->cap[DMAR_TYPE_RHSA]) {
        w->dropped[DMAR_TYPE_RHSA]++;
        return;
    }
    struct dmar_rhsa *r = &o->rhsas[o->nrhsas++];
    r->reg_base = acpi_rd64(s + 8);
    r->proximity_domain = acpi_rd32(s + 16);
    r->offset = (uint32_t)off;
    r->unit = -1;
    /* RHSAs follow the DRHDs, so the units are known by now. */
    for (unsigned i = 0; i < o->nunits; i++) {
        if (o->units[i].reg_base == r->reg_base) {
            r->unit = (int)i;
            o->units[i].proximity_domain = (int)(r->proximity_domain & 0x7fffffff);
            break;
        }
    }
    /* Firmware lists affinities for units it then hides; nothing uses
     * an RHSA that names no unit. */
    if (r->unit < 0)
        SNOTE(w, DMAR_TYPE_RHSA, off, "register base 0x%llx at offset 0x%zx matches no DRHD",
              (unsigned long long)r->reg_base, off + 8);
}

static void parse_andd(struct walk *w, size_t off, size_t slen)
{
    struct dmar_info *o = w->out;
    const uint8_t *s = w->t + off;

    if (o->nandds >= w->cap[DMAR_TYPE_ANDD]) {
        w->dropped[DMAR_TYPE_ANDD]++;
        return;
    }
    struct dmar_andd *a = &o->andds[o->nandds++];
    a->device_number = s[7];
    a->offset = (uint32_t)off;
    size_t n = 0, room = slen - 8;
    while (n < room && s[8 + n])
        n++;
    if (n == room)
        SDIAG(w, DMAR_TYPE_ANDD, off, "object name at offset 0x%zx not NUL-terminated", off + 8);
    if (n >= DMAR_ANDD_NAME_MAX) {
        SNOTE(w, DMAR_TYPE_ANDD, off, "object name: %u of %zu bytes kept (vtdsync's limit)",
              DMAR_ANDD_NAME_MAX - 1, n);
        n = DMAR_ANDD_NAME_MAX - 1;
    }
    acpi_copy_name(a->name, s + 8, n);
}

/* Smallest valid length of each known structure type. */
static const uint8_t min_len[] = {16, 24, 8, 20, 8, 8, 8};

static void parse_struct(struct walk *w, unsigned type, size_t off, size_t slen)
{
    struct dmar_info *o = w->out;

    switch (type) {
    case DMAR_TYPE_DRHD:
        parse_drhd(w, off, slen);
        break;
    case DMAR_TYPE_RMRR:
        parse_rmrr(w, off, slen);
        break;
    case DMAR_TYPE_ATSR:
        parse_report(w, type, off, slen, o->atsrs, &o->natsrs);
        break;
    case DMAR_TYPE_RHSA:
        parse_rhsa(w, off);
        break;
    case DMAR_TYPE_ANDD:
        parse_andd(w, off, slen);
        break;
    case DMAR_TYPE_SATC:
        parse_report(w, type, off, slen, o->satcs, &o->nsatcs);
        break;
    case DMAR_TYPE_SIDP:
        parse_report(w, type, off, slen, o->sidps, &o->nsidps);
        break;
    }
}

/* Limits of vtdsync's arrays, with the table's real counts.  A DRHD or a
 * scope that was not kept leaves devices without their unit, so what is
 * affected is not used (the parser marked it), and the note says so. */
static void report_dropped(struct walk *w)
{
    const struct dmar_info *o = w->out;
    const unsigned kept[] = {o->nunits, o->nrmrrs, o->natsrs, o->nrhsas,
                             o->nandds, o->nsatcs, o->nsidps};
    for (unsigned t = 0; t <= DMAR_TYPE_SIDP; t++) {
        if (w->dropped[t])
            acpi_notef(w->d,
                       "DMAR: %u of %u %s structures kept (vtdsync's limit); the others are "
                       "not used",
                       kept[t], kept[t] + w->dropped[t], dmar_struct_name(t));
    }
    if (w->scopes_dropped)
        acpi_notef(w->d,
                   "DMAR: %u of %u device scopes kept (vtdsync's limit); structures with "
                   "scopes not kept are not used",
                   w->scopes_seen - w->scopes_dropped, w->scopes_seen);
}

/* An ATSR reports ATS for the root ports of a segment that some unit
 * translates; one for a segment without a unit names nothing. */
static void check_atsr_segments(struct walk *w)
{
    struct dmar_info *o = w->out;
    for (unsigned i = 0; i < o->natsrs; i++) {
        bool found = false;
        for (unsigned j = 0; j < o->nunits && !found; j++)
            found = o->units[j].segment == o->atsrs[i].segment;
        if (!found)
            SNOTE(w, DMAR_TYPE_ATSR, o->atsrs[i].offset, "segment %u has no DRHD",
                  o->atsrs[i].segment);
    }
}

/* Each ACPI namespace device scope names an ANDD by its device number. */
static void check_andd_refs(struct walk *w)
{
    struct dmar_info *o = w->out;
    for (unsigned i = 0; i < o->nscopes; i++) {
        const struct dmar_scope *sc = &o->scopes[i];
        if (sc->type != DMAR_SCOPE_ACPI)
            continue;
        bool found = false;
        for (unsigned j = 0; j < o->nandds && !found; j++)
            found = o->andds[j].device_number == sc->enum_id;
        if (!found)
            acpi_notef(w->d,
                       "DMAR: device scope at offset 0x%x: ACPI device number %u (offset "
                       "0x%x) has no ANDD",
                       sc->offset, sc->enum_id, sc->offset + 4);
    }
}

static void walk_structs(struct walk *w)
{
    size_t off = DMAR_HEADER_LEN;
    unsigned last_type = 0;

    while (off < w->len) {
        size_t room = w->len - off;
        if (room < 4) {
            acpi_diagf(w->d, "DMAR: %zu stray byte(s) at offset 0x%zx after the last structure",
                       room, off);
            break;
        }
        unsigned type = acpi_rd16(w->t + off);
        size_t slen = acpi_rd16(w->t + off + 2);
        if (slen == 0) {
            SDIAG(w, type, off, "length 0 at offset 0x%zx: walk stopped", off + 2);
            break;
        }
        if (slen < 4) {
            SDIAG(w, type, off, "length 0x%zx at offset 0x%zx < 4: walk stopped", slen, off + 2);
            break;
        }
        if (slen > room) {
            SDIAG(w, type, off,
                  "length 0x%zx at offset 0x%zx overruns the table (0x%zx bytes left): walk "
                  "stopped",
                  slen, off + 2, room);
            break;
        }
        if (type < ARRAY_SIZE(min_len)) {
            if (type < last_type) {
                /* The spec lists types in order; real firmware does not
                 * always, and nothing here depends on it. */
                SNOTE(w, type, off, "follows a structure of type %u: not in type order", last_type);
                w->out->ordered = false;
            }
            last_type = type;
            if (slen < min_len[type])
                SDIAG(w, type, off, "length 0x%zx at offset 0x%zx < %u, skipped", slen, off + 2,
                      min_len[type]);
            else
                parse_struct(w, type, off, slen);
        } else {
            /* Reserved today; later spec revisions add types. */
            SNOTE(w, type, off, "unknown type, skipped by its length 0x%zx", slen);
        }
        off += slen;
    }
}

/* Where the device scopes of each known type start; 0: it has none. */
static const uint8_t scopes_at[] = {16, 24, 8, 0, 0, 8, 8};

/* Scope entries in [pos, end), by the framing parse_scope() checks first;
 * entries it then refuses are counted too (a little room to spare). */
static unsigned count_scopes(const uint8_t *t, size_t pos, size_t end)
{
    unsigned n = 0;
    while (pos < end) {
        size_t room = end - pos;
        if (room < SCOPE_HEADER_LEN || t[pos + 1] < SCOPE_HEADER_LEN || t[pos + 1] > room)
            break;
        n++;
        pos += t[pos + 1];
    }
    return n;
}

/* First pass: the structures of each type and the device scopes that
 * walk_structs() will find, by its framing rules (it stops where the walk
 * stops).  Silent: the walk reports. */
static void count_structs(const struct walk *w, unsigned n[DMAR_TYPE_SIDP + 1], unsigned *scopes)
{
    size_t off = DMAR_HEADER_LEN;
    while (off < w->len && w->len - off >= 4) {
        unsigned type = acpi_rd16(w->t + off);
        size_t slen = acpi_rd16(w->t + off + 2);
        if (slen < 4 || slen > w->len - off)
            break;
        if (type < ARRAY_SIZE(min_len) && slen >= min_len[type]) {
            n[type]++;
            if (scopes_at[type])
                *scopes += count_scopes(w->t, off + scopes_at[type], off + slen);
        }
        off += slen;
    }
}

static unsigned cap(unsigned n, unsigned max)
{
    return n < max ? n : max;
}

/* Lays out (c->base NULL: sizes) the arrays for the capacities in w. */
static void carve_arrays(struct walk *w, struct acpi_carve *c)
{
    struct dmar_info *o = w->out;
    o->units = acpi_carve(c, w->cap[DMAR_TYPE_DRHD], sizeof(*o->units));
    o->rmrrs = acpi_carve(c, w->cap[DMAR_TYPE_RMRR], sizeof(*o->rmrrs));
    o->atsrs = acpi_carve(c, w->cap[DMAR_TYPE_ATSR], sizeof(*o->atsrs));
    o->rhsas = acpi_carve(c, w->cap[DMAR_TYPE_RHSA], sizeof(*o->rhsas));
    o->andds = acpi_carve(c, w->cap[DMAR_TYPE_ANDD], sizeof(*o->andds));
    o->satcs = acpi_carve(c, w->cap[DMAR_TYPE_SATC], sizeof(*o->satcs));
    o->sidps = acpi_carve(c, w->cap[DMAR_TYPE_SIDP], sizeof(*o->sidps));
    o->scopes = acpi_carve(c, w->cap_scopes, sizeof(*o->scopes));
}

/* Counts, caps and allocates the arrays.  Out of memory (reported by
 * acpi_block_alloc) leaves every capacity 0: nothing is kept, and the
 * dropped counts say what the table held. */
static void alloc_arrays(struct walk *w, const struct acpi_mem *mem)
{
    static const unsigned max[] = {DMAR_MAX_UNITS, DMAR_MAX_RMRRS, DMAR_MAX_ATSRS, DMAR_MAX_RHSAS,
                                   DMAR_MAX_ANDDS, DMAR_MAX_SATCS, DMAR_MAX_SIDPS};
    unsigned n[DMAR_TYPE_SIDP + 1] = {0}, scopes = 0;
    struct acpi_carve c = {0};
    char what[96];

    count_structs(w, n, &scopes);
    for (unsigned t = 0; t <= DMAR_TYPE_SIDP; t++)
        w->cap[t] = cap(n[t], max[t]);
    w->cap_scopes = cap(scopes, DMAR_MAX_SCOPES);
    carve_arrays(w, &c);
    ksnprintf(what, sizeof(what), "%u structures and %u device scopes",
              n[0] + n[1] + n[2] + n[3] + n[4] + n[5] + n[6], scopes);
    if (!acpi_block_alloc(&w->out->block, &c, mem, "DMAR", what, w->d)) {
        memset(w->cap, 0, sizeof(w->cap));
        w->cap_scopes = 0;
    }
    carve_arrays(w, &c);
}

int dmar_parse(const void *table, size_t len, const struct dmar_pci_ops *pci,
               const struct acpi_mem *mem, struct dmar_info *out, struct acpi_diag *d)
{
    struct walk w = {.t = table, .out = out, .d = d};

    memset(out, 0, sizeof(*out));
    w.len = acpi_table_check(table, len, "DMAR", DMAR_HEADER_LEN, &out->hdr, &out->checksum_ok, d);
    if (!w.len)
        return -1;
    out->valid = true;
    out->ordered = true;
    out->haw = (uint8_t)(w.t[36] + 1);
    out->flags = w.t[37];
    alloc_arrays(&w, mem);
    walk_structs(&w);
    report_dropped(&w);
    check_andd_refs(&w);
    check_atsr_segments(&w);
    dmar_resolve_scopes(out, pci, d);
    return 0;
}

void dmar_release(struct dmar_info *out)
{
    acpi_block_release(&out->block);
    memset(out, 0, sizeof(*out));
}
