/* Helpers shared by the ACPI host tests: table images from files, a
 * builder for synthetic tables, captured diagnostics, fake physical
 * memory and a fake PCI bridge topology. */
#ifndef TESTS_HOST_ACPI_TESTLIB_H
#define TESTS_HOST_ACPI_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acpi/diag.h"

#define ACPI_DATA_DIR "tests/data/acpi"

/* A table image read from tests/data/acpi (malloc'd; exits on failure). */
struct image {
    uint8_t *data;
    size_t len;
};
struct image image_load(const char *name);
struct image image_load_path(const char *path); /* relative to the repository root */
void image_free(struct image *im);

/* Sets the header length to len and fixes the checksum. */
void table_seal(uint8_t *t, size_t len);

/* Builds a table in a fixed buffer.  Offsets are returned so that tests
 * can patch fields afterwards; tb_end_*() fill in the length fields. */
struct tbuf {
    uint8_t b[1 << 20]; /* room for tables beyond the parsers' sanity caps */
    size_t len;
};
void tb_header(struct tbuf *tb, const char *sig, uint8_t revision);
void tb_u8(struct tbuf *tb, uint8_t v);
void tb_u16(struct tbuf *tb, uint16_t v);
void tb_u32(struct tbuf *tb, uint32_t v);
void tb_u64(struct tbuf *tb, uint64_t v);
void tb_bytes(struct tbuf *tb, const void *p, size_t n);
size_t tb_begin16(struct tbuf *tb, uint16_t type); /* DMAR structure: u16 type, u16 length */
void tb_end16(struct tbuf *tb, size_t start);
/* A DMAR device scope with n path elements given as dev, fn, dev, fn... */
void tb_scope(struct tbuf *tb, uint8_t type, uint8_t enum_id, uint8_t bus, int n, ...);
void tb_seal(struct tbuf *tb);
/* DMAR header (host address width haw bits, flags 0) and a DRHD's fixed
 * part; close the DRHD with tb_end16(). */
void tb_dmar_header(struct tbuf *tb, uint8_t haw);
size_t tb_drhd(struct tbuf *tb, uint8_t flags, uint16_t seg, uint64_t base);

/* Diagnostics captured in memory (also echoed when ACPI_TEST_VERBOSE). */
struct diag_log {
    struct acpi_diag diag;
    unsigned n;
    unsigned defects; /* of the captured lines */
    char lines[128][240];
    enum acpi_severity sev[128];
};
void diag_init(struct diag_log *l);
bool diag_has(const struct diag_log *l, const char *substr);
/* The line containing substr has severity sev (false when none does). */
bool diag_has_sev(const struct diag_log *l, const char *substr, enum acpi_severity sev);
void diag_dump(const struct diag_log *l); /* as "    # ..." lines */

/* For tests that include check.h and keep their log in `log_`. */
#define EXPECT_DIAG(s)                                                                             \
    do {                                                                                           \
        CHECK(diag_has(&log_, s), "no diagnostic containing \"%s\"", s);                           \
        if (!diag_has(&log_, s))                                                                   \
            diag_dump(&log_);                                                                      \
    } while (0)

/* The diagnostic containing s exists and has severity sev. */
#define EXPECT_SEV(s, sev)                                                                         \
    do {                                                                                           \
        CHECK(diag_has_sev(&log_, s, sev), "no %s containing \"%s\"",                              \
              (sev) == ACPI_DEFECT ? "defect" : "note", s);                                        \
        if (!diag_has_sev(&log_, s, sev))                                                          \
            diag_dump(&log_);                                                                      \
    } while (0)
#define EXPECT_DEFECT(s) EXPECT_SEV(s, ACPI_DEFECT)
#define EXPECT_NOTE(s) EXPECT_SEV(s, ACPI_NOTE)

#define EXPECT_NO_DIAG()                                                                           \
    do {                                                                                           \
        CHECK(log_.n == 0, "%u unexpected diagnostic(s)", log_.n);                                 \
        diag_dump(&log_);                                                                          \
    } while (0)

/* Diagnostic sink for the fuzzers: every line must be a KTAP diagnostic. */
static inline void diag_check_sink(void *ctx, enum acpi_severity sev, const char *line)
{
    (void)ctx;
    if ((sev != ACPI_NOTE && sev != ACPI_DEFECT) || line[0] != '#' || line[1] != ' ')
        __builtin_trap();
}

/* Fake physical memory: regions of host bytes at chosen addresses. */
struct fake_mem {
    unsigned n;
    struct {
        uint64_t phys;
        const uint8_t *p;
        size_t len;
    } r[32];
};
void fake_add(struct fake_mem *m, uint64_t phys, const void *p, size_t len);
const void *fake_map(uint64_t phys, uint64_t len, void *ctx);

/* Fake PCI: a list of bridges with their bus numbers. */
struct fake_bridge {
    uint16_t seg;
    uint8_t bus, dev, fn;
    int sec, sub;
};
struct fake_pci {
    unsigned n;
    struct fake_bridge b[16];
};
int fake_secondary(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn);
int fake_subordinate(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn);

#endif
