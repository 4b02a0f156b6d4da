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

/* Every structure diagnostic starts the same way so logs can be grepped. */
#define SDIAG(w, type, off, fmt, ...)                                                              \
    acpi_diagf((w)->d, "DMAR: structure type %u (%s) at offset 0x%zx: " fmt, (unsigned)(type),     \
               dmar_struct_name(type), (size_t)(off), ##__VA_ARGS__)

/* Parses one scope entry at off (inside the owner, `room` bytes left).
 * Returns the entry's length to skip, or 0 when the rest of the owner's
 * scope area cannot be walked.  *bad is set when the owner's device set
 * is no longer trustworthy. */
static size_t parse_scope(struct walk *w, unsigned otype, size_t ooff, size_t off, size_t room,
                          struct dmar_scope_list *list, uint8_t oindex, uint16_t seg, bool *bad)
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
        SDIAG(w, otype, ooff, "device scope at offset 0x%zx: unknown type %u, skipped", off, stype);
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
        SDIAG(w, otype, ooff,
              "device scope at offset 0x%zx: path of %u elements exceeds the limit of %u", off,
              npath, DMAR_MAX_PATH);
        *bad = true;
        return slen;
    }
    if (list->count >= DMAR_MAX_UNIT_SCOPES || w->out->nscopes >= DMAR_MAX_SCOPES) {
        SDIAG(w, otype, ooff,
              "device scope at offset 0x%zx: more than %u scopes in this structure or %u in "
              "total, ignored",
              off, DMAR_MAX_UNIT_SCOPES, DMAR_MAX_SCOPES);
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
    sc->offset = (uint16_t)off;
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
                         struct dmar_scope_list *list, uint8_t oindex, uint16_t seg)
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

static void parse_drhd(struct walk *w, size_t off, size_t slen)
{
    struct dmar_info *o = w->out;
    const uint8_t *s = w->t + off;

    if (o->nunits >= DMAR_MAX_UNITS) {
        SDIAG(w, DMAR_TYPE_DRHD, off, "more than %u units, ignored", DMAR_MAX_UNITS);
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
    u->offset = (uint16_t)off;
    u->proximity_domain = -1;
    u->usable = true;
    if (u->reg_base == 0 || (u->reg_base & 0xfff)) {
        SDIAG(w, DMAR_TYPE_DRHD, off, "register base 0x%llx at offset 0x%zx not a 4 KiB page",
              (unsigned long long)u->reg_base, off + 8);
        u->usable = false;
    }
    if (!parse_scopes(w, DMAR_TYPE_DRHD, off, slen, 16, &u->scopes, (uint8_t)o->nunits, u->segment))
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
            SDIAG(w, DMAR_TYPE_DRHD, off,
                  "unit on segment %u follows that segment's INCLUDE_PCI_ALL unit at offset "
                  "0x%x",
                  u->segment, p->offset);
            o->ordered = false;
        }
        break;
    }
    o->nunits++;
}

static bool rmrr_range_ok(struct walk *w, size_t off, uint64_t base, uint64_t limit)
{
    if ((base & 0xfff) || ((limit + 1) & 0xfff) || base > limit) {
        SDIAG(w, DMAR_TYPE_RMRR, off,
              "range 0x%llx..0x%llx (offsets 0x%zx, 0x%zx) not whole 4 KiB pages in order",
              (unsigned long long)base, (unsigned long long)limit, off + 8, off + 16);
        return false;
    }
    return true;
}

static void parse_rmrr(struct walk *w, size_t off, size_t slen)
{
    struct dmar_info *o = w->out;
    const uint8_t *s = w->t + off;

    if (o->nrmrrs >= DMAR_MAX_RMRRS) {
        SDIAG(w, DMAR_TYPE_RMRR, off, "more than %u RMRRs, ignored", DMAR_MAX_RMRRS);
        return;
    }
    struct dmar_rmrr *r = &o->rmrrs[o->nrmrrs];
    memset(r, 0, sizeof(*r));
    r->segment = acpi_rd16(s + 6);
    r->base = acpi_rd64(s + 8);
    r->limit = acpi_rd64(s + 16);
    r->offset = (uint16_t)off;
    r->usable = rmrr_range_ok(w, off, r->base, r->limit);
    if (!parse_scopes(w, DMAR_TYPE_RMRR, off, slen, 24, &r->scopes, (uint8_t)o->nrmrrs, r->segment))
        r->usable = false;
    o->nrmrrs++;
}

/* ATSR, SATC and SIDP: byte 4 flags (reserved in SIDP), segment at 6,
 * scopes from 8. */
static void parse_report(struct walk *w, unsigned type, size_t off, size_t slen,
                         struct dmar_report *arr, unsigned *count, unsigned max)
{
    const uint8_t *s = w->t + off;

    if (*count >= max) {
        SDIAG(w, type, off, "more than %u of this type, ignored", max);
        return;
    }
    struct dmar_report *r = &arr[*count];
    memset(r, 0, sizeof(*r));
    r->flags = type == DMAR_TYPE_SIDP ? 0 : s[4];
    r->segment = acpi_rd16(s + 6);
    r->offset = (uint16_t)off;
    r->usable = parse_scopes(w, type, off, slen, 8, &r->scopes, (uint8_t)*count, r->segment);
    (*count)++;
}

static void parse_rhsa(struct walk *w, size_t off)
{
    struct dmar_info *o = w->out;
    const uint8_t *s = w->t + off;

    if (o->nrhsas >= DMAR_MAX_RHSAS) {
        SDIAG(w, DMAR_TYPE_RHSA, off, "more than %u RHSAs, ignored", DMAR_MAX_RHSAS);
        return;
    }
    struct dmar_rhsa *r = &o->rhsas[o->nrhsas++];
    r->reg_base = acpi_rd64(s + 8);
    r->proximity_domain = acpi_rd32(s + 16);
    r->offset = (uint16_t)off;
    r->unit = -1;
    /* RHSAs follow the DRHDs, so the units are known by now. */
    for (unsigned i = 0; i < o->nunits; i++) {
        if (o->units[i].reg_base == r->reg_base) {
            r->unit = (int)i;
            o->units[i].proximity_domain = (int)(r->proximity_domain & 0x7fffffff);
            break;
        }
    }
    if (r->unit < 0)
        SDIAG(w, DMAR_TYPE_RHSA, off, "register base 0x%llx at offset 0x%zx matches no DRHD",
              (unsigned long long)r->reg_base, off + 8);
}

static void parse_andd(struct walk *w, size_t off, size_t slen)
{
    struct dmar_info *o = w->out;
    const uint8_t *s = w->t + off;

    if (o->nandds >= DMAR_MAX_ANDDS) {
        SDIAG(w, DMAR_TYPE_ANDD, off, "more than %u ANDDs, ignored", DMAR_MAX_ANDDS);
        return;
    }
    struct dmar_andd *a = &o->andds[o->nandds++];
    a->device_number = s[7];
    a->offset = (uint16_t)off;
    size_t n = 0, room = slen - 8;
    while (n < room && s[8 + n])
        n++;
    if (n == room)
        SDIAG(w, DMAR_TYPE_ANDD, off, "object name at offset 0x%zx not NUL-terminated", off + 8);
    if (n >= DMAR_ANDD_NAME_MAX) {
        SDIAG(w, DMAR_TYPE_ANDD, off, "object name of %zu bytes truncated to %u", n,
              DMAR_ANDD_NAME_MAX - 1);
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
        parse_report(w, type, off, slen, o->atsrs, &o->natsrs, DMAR_MAX_ATSRS);
        break;
    case DMAR_TYPE_RHSA:
        parse_rhsa(w, off);
        break;
    case DMAR_TYPE_ANDD:
        parse_andd(w, off, slen);
        break;
    case DMAR_TYPE_SATC:
        parse_report(w, type, off, slen, o->satcs, &o->nsatcs, DMAR_MAX_SATCS);
        break;
    case DMAR_TYPE_SIDP:
        parse_report(w, type, off, slen, o->sidps, &o->nsidps, DMAR_MAX_SIDPS);
        break;
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
            acpi_diagf(w->d,
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
                SDIAG(w, type, off, "follows a structure of type %u: not in type order", last_type);
                w->out->ordered = false;
            }
            last_type = type;
            if (slen < min_len[type])
                SDIAG(w, type, off, "length 0x%zx at offset 0x%zx < %u, skipped", slen, off + 2,
                      min_len[type]);
            else
                parse_struct(w, type, off, slen);
        } else {
            SDIAG(w, type, off, "unknown type, skipped by its length 0x%zx", slen);
        }
        off += slen;
    }
}

int dmar_parse(const void *table, size_t len, const struct dmar_pci_ops *pci, struct dmar_info *out,
               struct acpi_diag *d)
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
    walk_structs(&w);
    check_andd_refs(&w);
    dmar_resolve_scopes(out, pci, d);
    return 0;
}
