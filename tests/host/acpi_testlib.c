/* Helpers shared by the ACPI host tests (see acpi_testlib.h). */
#include "tests/host/acpi_testlib.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/table.h"

struct image image_load(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", ACPI_DATA_DIR, name);
    return image_load_path(path);
}

struct image image_load_path(const char *path)
{
    struct image im = {0};
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("# cannot open %s (run from the repository root)\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    im.len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    /* Exactly len bytes, so that ASan catches any read past the image. */
    im.data = malloc(im.len ? im.len : 1);
    if (!im.data || fread(im.data, 1, im.len, f) != im.len) {
        printf("# cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    return im;
}

void image_free(struct image *im)
{
    free(im->data);
    im->data = NULL;
}

void table_seal(uint8_t *t, size_t len)
{
    t[4] = (uint8_t)len;
    t[5] = (uint8_t)(len >> 8);
    t[6] = (uint8_t)(len >> 16);
    t[7] = (uint8_t)(len >> 24);
    t[9] = 0;
    t[9] = (uint8_t)(0x100 - acpi_sum(t, len));
}

void tb_bytes(struct tbuf *tb, const void *p, size_t n)
{
    if (tb->len + n > sizeof(tb->b)) {
        printf("# tbuf overflow\n");
        exit(2);
    }
    memcpy(tb->b + tb->len, p, n);
    tb->len += n;
}

void tb_u8(struct tbuf *tb, uint8_t v)
{
    tb_bytes(tb, &v, 1);
}

void tb_u16(struct tbuf *tb, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    tb_bytes(tb, b, 2);
}

void tb_u32(struct tbuf *tb, uint32_t v)
{
    tb_u16(tb, (uint16_t)v);
    tb_u16(tb, (uint16_t)(v >> 16));
}

void tb_u64(struct tbuf *tb, uint64_t v)
{
    tb_u32(tb, (uint32_t)v);
    tb_u32(tb, (uint32_t)(v >> 32));
}

void tb_header(struct tbuf *tb, const char *sig, uint8_t revision)
{
    tb->len = 0;
    tb_bytes(tb, sig, 4);
    tb_u32(tb, 0);
    tb_u8(tb, revision);
    tb_u8(tb, 0);
    tb_bytes(tb, "VTDSYN", 6);
    tb_bytes(tb, "SYNTHTIC", 8);
    tb_u32(tb, 1);
    tb_bytes(tb, "VTDS", 4);
    tb_u32(tb, 1);
}

size_t tb_begin16(struct tbuf *tb, uint16_t type)
{
    size_t start = tb->len;
    tb_u16(tb, type);
    tb_u16(tb, 0);
    return start;
}

void tb_end16(struct tbuf *tb, size_t start)
{
    size_t n = tb->len - start;
    tb->b[start + 2] = (uint8_t)n;
    tb->b[start + 3] = (uint8_t)(n >> 8);
}

void tb_scope(struct tbuf *tb, uint8_t type, uint8_t enum_id, uint8_t bus, int n, ...)
{
    va_list ap;

    tb_u8(tb, type);
    tb_u8(tb, (uint8_t)(6 + 2 * n));
    tb_u16(tb, 0);
    tb_u8(tb, enum_id);
    tb_u8(tb, bus);
    va_start(ap, n);
    for (int i = 0; i < 2 * n; i++)
        tb_u8(tb, (uint8_t)va_arg(ap, int));
    va_end(ap);
}

void tb_dmar_header(struct tbuf *tb, uint8_t haw)
{
    tb_header(tb, "DMAR", 1);
    tb_u8(tb, (uint8_t)(haw - 1));
    tb_u8(tb, 0);
    tb_u64(tb, 0);
    tb_u16(tb, 0);
}

size_t tb_drhd(struct tbuf *tb, uint8_t flags, uint16_t seg, uint64_t base)
{
    size_t s = tb_begin16(tb, 0);
    tb_u8(tb, flags);
    tb_u8(tb, 0);
    tb_u16(tb, seg);
    tb_u64(tb, base);
    return s;
}

void tb_seal(struct tbuf *tb)
{
    table_seal(tb->b, tb->len);
}

static void diag_capture(void *ctx, enum acpi_severity sev, const char *line)
{
    struct diag_log *l = ctx;
    if (getenv("ACPI_TEST_VERBOSE"))
        printf("    %s%s\n", line, sev == ACPI_DEFECT ? " [defect]" : " [note]");
    if (sev == ACPI_DEFECT)
        l->defects++;
    if (l->n < sizeof(l->lines) / sizeof(l->lines[0])) {
        l->sev[l->n] = sev;
        snprintf(l->lines[l->n++], sizeof(l->lines[0]), "%s", line);
    }
}

void diag_init(struct diag_log *l)
{
    memset(l, 0, sizeof(*l));
    l->diag.fn = diag_capture;
    l->diag.ctx = l;
}

bool diag_has(const struct diag_log *l, const char *substr)
{
    for (unsigned i = 0; i < l->n; i++) {
        if (strstr(l->lines[i], substr))
            return true;
    }
    return false;
}

bool diag_has_sev(const struct diag_log *l, const char *substr, enum acpi_severity sev)
{
    for (unsigned i = 0; i < l->n; i++) {
        if (strstr(l->lines[i], substr))
            return l->sev[i] == sev;
    }
    return false;
}

void diag_dump(const struct diag_log *l)
{
    for (unsigned i = 0; i < l->n; i++)
        printf("    %s%s\n", l->lines[i], l->sev[i] == ACPI_DEFECT ? " [defect]" : " [note]");
}

void fake_add(struct fake_mem *m, uint64_t phys, const void *p, size_t len)
{
    m->r[m->n].phys = phys;
    m->r[m->n].p = p;
    m->r[m->n].len = len;
    m->n++;
}

const void *fake_map(uint64_t phys, uint64_t len, void *ctx)
{
    const struct fake_mem *m = ctx;
    for (unsigned i = 0; i < m->n; i++) {
        if (phys >= m->r[i].phys && len <= m->r[i].len && phys - m->r[i].phys <= m->r[i].len - len)
            return m->r[i].p + (phys - m->r[i].phys);
    }
    return NULL;
}

static const struct fake_bridge *find_bridge(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev,
                                             uint8_t fn)
{
    const struct fake_pci *p = ctx;
    for (unsigned i = 0; i < p->n; i++) {
        const struct fake_bridge *b = &p->b[i];
        if (b->seg == seg && b->bus == bus && b->dev == dev && b->fn == fn)
            return b;
    }
    return NULL;
}

int fake_secondary(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
    const struct fake_bridge *b = find_bridge(ctx, seg, bus, dev, fn);
    return b ? b->sec : -1;
}

int fake_subordinate(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
    const struct fake_bridge *b = find_bridge(ctx, seg, bus, dev, fn);
    return b ? b->sub : -1;
}
