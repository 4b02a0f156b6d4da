// HOST-DEPS: lib/printf.c acpi/diag.c acpi/table.c acpi/dmar.c acpi/dmar_scope.c acpi/madt.c acpi/mcfg.c acpi/spcr.c acpi/fadt.c acpi/hpet.c tests/host/acpi_testlib.c tests/host/host_mem.c
/* Every table image in tests/data/acpi (our iasl-built ones and any real
 * dumps dropped in later, e.g. the firmware's serial dump of QEMU's
 * tables) and every real DMAR in tests/data/hw/dmar is parsed by the
 * parser its signature selects.  Each must parse
 * without a crash, give the same result twice, keep the parser's
 * invariants, and survive being cut short at every length. */
#include "acpi/dmar.h"
#include "acpi/fadt.h"
#include "acpi/hpet.h"
#include "acpi/madt.h"
#include "acpi/mcfg.h"
#include "acpi/spcr.h"
#include "tests/host/acpi_testlib.h"
#include "tests/host/check.h"
#include "tests/host/host_mem.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

CHECK_STATE_DEFINE;

static struct dmar_info dmar;
static struct madt_info madt;
static struct mcfg_info mcfg;
static struct spcr_info spcr;
static struct fadt_info fadt;
static struct hpet_info hpet;

/* Parses t by its signature; returns a one-line summary in buf. */
static void parse_any(const uint8_t *t, size_t len, struct diag_log *log, char *buf, size_t n)
{
    char sig[5] = "????";
    memcpy(sig, t, len < 4 ? len : 4);
    diag_init(log);
    if (!memcmp(sig, "DMAR", 4)) {
        dmar_release(&dmar);
        dmar_parse(t, len, NULL, &host_mem, &dmar, &log->diag);
        snprintf(buf, n, "DMAR haw %u flags %#x: %u units %u scopes %u RMRRs", dmar.haw, dmar.flags,
                 dmar.nunits, dmar.nscopes, dmar.nrmrrs);
        CHECK(dmar.nunits <= DMAR_MAX_UNITS && dmar.nscopes <= DMAR_MAX_SCOPES, "DMAR counts");
        for (unsigned i = 0; i < dmar.nscopes; i++) {
            const struct dmar_scope *sc = &dmar.scopes[i];
            if (!sc->resolved || sc->owner_type != DMAR_TYPE_DRHD ||
                (sc->type != DMAR_SCOPE_ENDPOINT && sc->type != DMAR_SCOPE_BRIDGE))
                continue;
            int u = dmar_unit_for_device(&dmar, sc->segment, sc->bus, sc->dev, sc->fn);
            CHECK(u >= 0 && (unsigned)u < dmar.nunits, "scope %u -> unit %d", i, u);
        }
    } else if (!memcmp(sig, "APIC", 4)) {
        madt_release(&madt);
        madt_parse(t, len, &host_mem, &madt, &log->diag);
        snprintf(buf, n, "MADT lapic %#llx: %u CPUs %u IOAPICs",
                 (unsigned long long)madt.lapic_address, madt.ncpus, madt.nioapics);
        CHECK(madt.ncpus <= MADT_MAX_CPUS && madt.nioapics <= MADT_MAX_IOAPICS, "MADT counts");
    } else if (!memcmp(sig, "MCFG", 4)) {
        mcfg_release(&mcfg);
        mcfg_parse(t, len, &host_mem, &mcfg, &log->diag);
        snprintf(buf, n, "MCFG: %u windows", mcfg.count);
        CHECK(mcfg.count <= MCFG_MAX_WINDOWS, "MCFG count");
    } else if (!memcmp(sig, "SPCR", 4)) {
        spcr_parse(t, len, &spcr, &log->diag);
        snprintf(buf, n, "SPCR %s %s %#llx baud %u", spcr_interface_name(spcr.interface_type),
                 spcr.mmio ? "mmio" : "io", (unsigned long long)spcr.base.address, spcr.baud);
    } else if (!memcmp(sig, "FACP", 4)) {
        fadt_parse(t, len, &fadt, &log->diag);
        snprintf(buf, n, "FADT pm timer %s %#llx%s", acpi_gas_space_name(fadt.pm_timer.space_id),
                 (unsigned long long)fadt.pm_timer.address, fadt.pm_timer_32bit ? " 32-bit" : "");
    } else if (!memcmp(sig, "HPET", 4)) {
        hpet_parse(t, len, &hpet, &log->diag);
        snprintf(buf, n, "HPET %#llx", (unsigned long long)hpet.base.address);
    } else {
        struct acpi_header h;
        bool ok;
        acpi_table_check(t, len, sig, ACPI_HEADER_LEN, &h, &ok, &log->diag);
        snprintf(buf, n, "%s: header only", sig);
    }
}

static bool is_image(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcmp(dot, ".dat") || !strcmp(dot, ".aml") || !strcmp(dot, ".bin"));
}

static void check_image(const char *dir, const char *name)
{
    static struct diag_log a, b;
    char sa[160], sb[160], path[600];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    struct image im = image_load_path(path);

    parse_any(im.data, im.len, &a, sa, sizeof(sa));
    parse_any(im.data, im.len, &b, sb, sizeof(sb));
    printf("# %s: %s, %u diagnostic(s)\n", name, sa, a.n);
    for (unsigned i = 0; i < a.n; i++)
        printf("#   %s\n", a.lines[i]);
    CHECK(strcmp(sa, sb) == 0 && a.n == b.n, "%s: two parses differ", name);
    for (unsigned i = 0; i < a.n && i < b.n; i++)
        CHECK(strcmp(a.lines[i], b.lines[i]) == 0, "%s: diagnostic %u differs", name, i);

    /* Cut short at every length (the header still claims the full one). */
    for (size_t len = 0; len < im.len; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, im.data, len);
        parse_any(copy, len, &b, sb, sizeof(sb));
        if (len >= 4)
            CHECK(b.n > 0, "%s cut to %zu bytes: no diagnostic", name, len);
        free(copy);
    }
    image_free(&im);
}

static void every_image_in(const char *dir, unsigned at_least)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL, "cannot open %s", dir);
    if (!d)
        return;
    static char names[1024][256];
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 1024) {
        if (is_image(e->d_name))
            snprintf(names[n++], sizeof(names[0]), "%s", e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), (int (*)(const void *, const void *))strcmp);
    CHECK(n >= at_least, "only %u images in %s", n, dir);
    for (unsigned i = 0; i < n; i++)
        check_image(dir, names[i]);
}

TEST(every_image_in_data_dir)
{
    every_image_in(ACPI_DATA_DIR, 11);
}

TEST(every_real_dmar)
{
    every_image_in("tests/data/hw/dmar", 22);
}

int main(void)
{
    RUN(every_image_in_data_dir);
    RUN(every_real_dmar);
    return check_finish();
}
