/* SMBIOS entry points and the structures vtdsync reports (types 0, 1, 2). */
#include "acpi/smbios.h"

#include "acpi/bytes.h"
#include "lib/kstring.h"

#define MAX_TABLE (1u << 20)

/* The n-th (1-based) string of a structure's string set, or "" when the
 * index is 0 or the set ends first. */
static void copy_string(const uint8_t *set, const uint8_t *end, uint8_t n, char *out)
{
    out[0] = '\0';
    if (!n)
        return;
    const uint8_t *p = set;
    for (uint8_t i = 1; i < n && p < end; i++) {
        while (p < end && *p)
            p++;
        if (p + 1 >= end || p[1] == 0)
            return; /* the set ended before string n */
        p++;
    }
    size_t k = 0;
    while (p < end && *p && k + 1 < SMBIOS_STR) {
        out[k++] = (*p >= 0x20 && *p < 0x7f) ? (char)*p : '?';
        p++;
    }
    out[k] = '\0';
    /* Trim the padding some firmware leaves. */
    while (k && out[k - 1] == ' ')
        out[--k] = '\0';
}

static uint8_t field(const uint8_t *s, uint8_t len, uint8_t off)
{
    return off < len ? s[off] : 0;
}

int smbios_parse_table(const uint8_t *t, size_t len, struct smbios_info *out,
                       struct acpi_diag *d)
{
    size_t off = 0;
    while (off + 4 <= len) {
        const uint8_t *s = t + off;
        uint8_t type = s[0], slen = s[1];
        if (slen < 4 || off + slen > len) {
            acpi_diagf(d, "SMBIOS: structure type %u at offset %#zx: length %u overruns the table",
                       type, off, slen);
            return -1;
        }
        /* The string set runs to a double NUL. */
        size_t e = off + slen;
        while (e + 1 < len && !(t[e] == 0 && t[e + 1] == 0))
            e++;
        if (e + 1 >= len) {
            acpi_diagf(d, "SMBIOS: structure type %u at offset %#zx: strings not terminated",
                       type, off);
            return -1;
        }
        const uint8_t *set = t + off + slen, *set_end = t + e + 1;
        out->structures++;
        if (type == 0) {
            copy_string(set, set_end, field(s, slen, 4), out->bios_vendor);
            copy_string(set, set_end, field(s, slen, 5), out->bios_version);
            copy_string(set, set_end, field(s, slen, 8), out->bios_date);
        } else if (type == 1) {
            copy_string(set, set_end, field(s, slen, 4), out->sys_vendor);
            copy_string(set, set_end, field(s, slen, 5), out->sys_product);
            copy_string(set, set_end, field(s, slen, 6), out->sys_version);
        } else if (type == 2) {
            copy_string(set, set_end, field(s, slen, 4), out->board_vendor);
            copy_string(set, set_end, field(s, slen, 5), out->board_product);
        } else if (type == 38 && slen >= 0x10 && !out->ipmi.present) {
            out->ipmi.present = true;
            out->ipmi.interface = s[4];
            out->ipmi.spec_rev = s[5];
            out->ipmi.i2c_addr = s[6];
            memcpy(&out->ipmi.base, s + 8, 8);
            out->ipmi.modifier = field(s, slen, 0x10);
        } else if (type == 127) {
            break; /* end-of-table */
        }
        off = e + 2;
    }
    out->valid = true;
    return 0;
}

static bool sum_ok(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s == 0;
}

int smbios_parse(uint64_t ep3, uint64_t ep2, acpi_map_fn map, void *ctx, struct smbios_info *out,
                 struct acpi_diag *d)
{
    memset(out, 0, sizeof(*out));
    uint64_t table = 0;
    uint32_t len = 0;
    const uint8_t *e;
    if (ep3 && (e = map(ep3, 24, ctx)) && !memcmp(e, "_SM3_", 5)) {
        if (e[6] < 24 || !sum_ok(e, e[6] < 24 ? 24 : e[6]))
            acpi_diagf(d, "SMBIOS: 3.x entry point checksum or length bad");
        out->major = e[7];
        out->minor = e[8];
        len = acpi_rd32(e + 12); /* maximum size */
        table = acpi_rd64(e + 16);
    } else if (ep2 && (e = map(ep2, 31, ctx)) && !memcmp(e, "_SM_", 4)) {
        if (!sum_ok(e + 16, 15))
            acpi_diagf(d, "SMBIOS: 2.x intermediate checksum bad");
        out->major = e[6];
        out->minor = e[7];
        len = acpi_rd16(e + 22);
        table = acpi_rd32(e + 24);
    } else {
        return -1;
    }
    if (!table || !len || len > MAX_TABLE) {
        acpi_diagf(d, "SMBIOS: structure table at %#llx length %u unusable",
                   (unsigned long long)table, len);
        return -1;
    }
    const uint8_t *t = map(table, len, ctx);
    if (!t)
        return -1;
    return smbios_parse_table(t, len, out, d);
}
