// HOST-DEPS: lib/printf.c acpi/diag.c acpi/table.c acpi/dmar.c acpi/dmar_scope.c tests/host/acpi_testlib.c tests/host/host_mem.c
/* Real DMAR tables (tests/data/hw/dmar, see its SOURCES.txt) through the
 * parser and scope resolution, one case per table.
 *
 * Each table is parsed with four views of the PCI bus: none yet (no config
 * access), nothing there (every scope device absent), everything there
 * (every path element a bridge with fresh bus numbers) and a mix.  Real
 * firmware ships tables that Linux runs on: whatever the bus shows, they
 * must give 0 defects.  The few tables with a real defect are listed below
 * with the defect's text; they must give exactly those.
 *
 * No table may hit a limit of vtdsync's fixed arrays.
 *
 * The counts the parser finds (units, RMRRs, ATSRs, ..., INCLUDE_PCI_ALL
 * units, scopes of each type, the host address width) must match the
 * "features:" line of SOURCES.txt, which was counted from the bytes
 * independently of this parser. */
#include "acpi/dmar.h"
#include "tests/host/acpi_testlib.h"
#include "tests/host/check.h"
#include "tests/host/host_mem.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

CHECK_STATE_DEFINE;

#define HW_DMAR_DIR "tests/data/hw/dmar"

/* Tables with real defects, and the one diagnostic each must give. */
static const struct {
    const char *table, *defect;
} real_defects[] = {
    /* Tiger Lake laptop: the INCLUDE_PCI_ALL unit's register base is 0
     * (the bug Linux reports as "DMAR reported at address 0", capecap.tsv
     * C10: a Dell XPS 13 9310 with the same firmware family). */
    {"linuxhw_Lenovo_ThinkPad_E15_Gen2",
     "DMAR: structure type 0 (DRHD) at offset 0x60: register base 0x0 at offset 0x68 not a 4 KiB "
     "page"},
    /* Its only unit at address 0. */
    {"linuxhw_Lenovo_IdeaPadFlex_15_20309",
     "DMAR: structure type 0 (DRHD) at offset 0x30: register base 0x0 at offset 0x38 not a 4 KiB "
     "page"},
};

static struct dmar_info info;
static struct diag_log log_;
static char sources[1 << 20];
static const char *cur_name; /* the table of the running case */
static struct image cur;

/* --- fake PCI views ---------------------------------------------------- */

enum view { VIEW_NO_ACCESS, VIEW_ABSENT, VIEW_PRESENT, VIEW_MIXED };
static const char *const view_names[] = {"no config access", "all absent", "all present", "mixed"};

/* Functions that answered as bridges, with the secondary bus given. */
static struct {
    enum view view;
    unsigned n, next_bus;
    struct {
        uint16_t seg;
        uint8_t bus, dev, fn, sec;
    } b[4096];
} bus;

static bool present(uint8_t b, uint8_t dev, uint8_t fn)
{
    if (bus.view == VIEW_PRESENT)
        return true;
    return bus.view == VIEW_MIXED && (b + dev + fn) % 2 == 0;
}

/* Every present function is a bridge; its buses are handed out upwards
 * from above its own, as firmware numbers them. */
static int view_secondary(void *ctx, uint16_t seg, uint8_t b, uint8_t dev, uint8_t fn)
{
    (void)ctx;
    if (!present(b, dev, fn))
        return -1;
    for (unsigned i = 0; i < bus.n; i++) {
        if (bus.b[i].seg == seg && bus.b[i].bus == b && bus.b[i].dev == dev && bus.b[i].fn == fn)
            return bus.b[i].sec;
    }
    unsigned sec = bus.next_bus > b ? bus.next_bus : b + 1u;
    if (sec > 255 || bus.n == sizeof(bus.b) / sizeof(bus.b[0]))
        return -1;
    bus.next_bus = sec + 1;
    bus.b[bus.n].seg = seg;
    bus.b[bus.n].bus = b;
    bus.b[bus.n].dev = dev;
    bus.b[bus.n].fn = fn;
    bus.b[bus.n].sec = (uint8_t)sec;
    return (int)bus.b[bus.n++].sec;
}

static int parse_view(enum view v)
{
    struct dmar_pci_ops ops = {view_secondary, NULL, NULL}; /* subordinate = secondary */
    memset(&bus, 0, sizeof(bus));
    bus.view = v;
    bus.next_bus = 1;
    diag_init(&log_);
    dmar_release(&info);
    return dmar_parse(cur.data, cur.len, v == VIEW_NO_ACCESS ? NULL : &ops, &host_mem, &info,
                      &log_.diag);
}

/* --- SOURCES.txt ------------------------------------------------------- */

static void load_sources(void)
{
    FILE *f = fopen(HW_DMAR_DIR "/SOURCES.txt", "r");
    if (!f) {
        printf("# cannot open %s/SOURCES.txt (run from the repository root)\n", HW_DMAR_DIR);
        exit(2);
    }
    size_t n = fread(sources, 1, sizeof(sources) - 1, f);
    sources[n] = 0;
    fclose(f);
}

/* The block of one table: from its "== NAME" line to the next. */
static const char *source_block(const char *name, size_t *len)
{
    char head[300];
    snprintf(head, sizeof(head), "\n== %s\n", name);
    const char *b = strstr(sources, head);
    if (!b)
        return NULL;
    b++;
    const char *e = strstr(b + 3, "\n== ");
    *len = e ? (size_t)(e - b) : strlen(b);
    return b;
}

/* A line "  KEY: ..." of the block, copied into out. */
static bool source_line(const char *blk, size_t len, const char *key, char *out, size_t n)
{
    char k[64];
    snprintf(k, sizeof(k), "\n  %s: ", key);
    const char *p = strstr(blk, k);
    if (!p || p >= blk + len)
        return false;
    p += strlen(k);
    size_t m = strcspn(p, "\n");
    snprintf(out, n, "%.*s", (int)(m < n ? m : n - 1), p);
    return true;
}

/* The number after "TOKEN" (e.g. "DRHDx") in s, 0 when absent. */
static unsigned feature(const char *s, const char *token)
{
    const char *p = strstr(s, token);
    return p ? (unsigned)strtoul(p + strlen(token), NULL, 10) : 0;
}

/* --- checks ------------------------------------------------------------ */

static const char *expected_defect(const char *name)
{
    for (size_t i = 0; i < sizeof(real_defects) / sizeof(real_defects[0]); i++) {
        if (!strcmp(real_defects[i].table, name))
            return real_defects[i].defect;
    }
    return NULL;
}

static unsigned count_scopes(unsigned type)
{
    unsigned n = 0;
    for (unsigned i = 0; i < info.nscopes; i++)
        n += info.scopes[i].type == type;
    return n;
}

static void check_features(const char *feat)
{
    const char *sc = strstr(feat, "scopes=");
    CHECK(sc != NULL, "%s: features without scopes=", cur_name);
    if (!sc)
        return;
    unsigned all = 0;
    for (unsigned i = 0; i < info.nunits; i++)
        all += info.units[i].include_pci_all;
    CHECK(info.haw == feature(feat, "HAW="), "%s: HAW %u, SOURCES %u", cur_name, info.haw,
          feature(feat, "HAW="));
    CHECK(info.nunits == feature(feat, "DRHDx"), "%s: %u units, SOURCES %u", cur_name, info.nunits,
          feature(feat, "DRHDx"));
    CHECK(info.nrmrrs == feature(feat, "RMRRx"), "%s: %u RMRRs, SOURCES %u", cur_name, info.nrmrrs,
          feature(feat, "RMRRx"));
    CHECK(info.natsrs == feature(feat, "ATSRx") && info.nrhsas == feature(feat, "RHSAx") &&
              info.nandds == feature(feat, "ANDDx") && info.nsatcs == feature(feat, "SATCx") &&
              info.nsidps == feature(feat, "SIDPx"),
          "%s: ATSR/RHSA/ANDD/SATC/SIDP %u/%u/%u/%u/%u differ from SOURCES", cur_name, info.natsrs,
          info.nrhsas, info.nandds, info.nsatcs, info.nsidps);
    CHECK(all == feature(feat, "INCLUDE_PCI_ALL units="),
          "%s: %u INCLUDE_PCI_ALL units, SOURCES %u", cur_name, all,
          feature(feat, "INCLUDE_PCI_ALL units="));
    static const struct {
        unsigned type;
        const char *token;
    } kinds[] = {{DMAR_SCOPE_ENDPOINT, "EPx"},
                 {DMAR_SCOPE_BRIDGE, "BRx"},
                 {DMAR_SCOPE_IOAPIC, "IOAPICx"},
                 {DMAR_SCOPE_HPET, "HPETx"},
                 {DMAR_SCOPE_ACPI, "ACPIx"}};
    for (unsigned k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
        CHECK(count_scopes(kinds[k].type) == feature(sc, kinds[k].token),
              "%s: %u %s scopes, SOURCES %u", cur_name, count_scopes(kinds[k].type),
              dmar_scope_name(kinds[k].type), feature(sc, kinds[k].token));
}

/* The findings of one view: exactly the listed defect (or none), each
 * unit usable unless that defect is its own. */
static void check_findings(enum view v, const char *defect)
{
    unsigned want = defect ? 1 : 0;
    CHECK(log_.defects == want, "%s (%s): %u defects, expected %u", cur_name, view_names[v],
          log_.defects, want);
    if (defect)
        CHECK(diag_has_sev(&log_, defect, ACPI_DEFECT), "%s: no defect \"%s\"", cur_name, defect);
    if (log_.defects != want)
        diag_dump(&log_);
    unsigned unusable = 0;
    for (unsigned i = 0; i < info.nunits; i++)
        unusable += !info.units[i].usable;
    CHECK(unusable == want, "%s (%s): %u units unusable", cur_name, view_names[v], unusable);
    for (unsigned i = 0; i < info.nrmrrs; i++)
        CHECK(info.rmrrs[i].usable, "%s (%s): RMRR %u unusable", cur_name, view_names[v], i);
    /* No real table may hit one of vtdsync's fixed limits. */
    CHECK(!diag_has(&log_, "vtdsync's limit") && !diag_has(&log_, "vtdsync keeps"),
          "%s (%s): a limit of vtdsync was hit", cur_name, view_names[v]);
}

/* Scopes whose resolution needs the bus: more than one path element, or a
 * sub-hierarchy (its bus range is read from the bridge). */
static unsigned bus_dependent_scopes(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < info.nscopes; i++) {
        const struct dmar_scope *s = &info.scopes[i];
        bool pci = s->type == DMAR_SCOPE_ENDPOINT || s->type == DMAR_SCOPE_BRIDGE;
        n += pci && (s->path_len > 1 || s->type == DMAR_SCOPE_BRIDGE);
    }
    return n;
}

/* With every device there, each PCI scope of a unit resolves, and the
 * device it names is translated by a unit whose scopes name it. */
static void check_all_present(void)
{
    for (unsigned i = 0; i < info.nscopes; i++) {
        const struct dmar_scope *s = &info.scopes[i];
        if (s->type != DMAR_SCOPE_ENDPOINT && s->type != DMAR_SCOPE_BRIDGE)
            continue;
        CHECK(s->resolved && (s->type != DMAR_SCOPE_BRIDGE || s->range_known),
              "%s: scope at offset %#x not resolved with every device present", cur_name,
              s->offset);
        if (s->owner_type != DMAR_TYPE_DRHD || !s->resolved)
            continue;
        int u = dmar_unit_for_device(&info, s->segment, s->bus, s->dev, s->fn);
        CHECK(u >= 0 &&
                  dmar_scopes_cover(&info, info.units[u].scopes, s->segment, s->bus, s->dev, s->fn),
              "%s: %02x:%02x.%x named by unit %u's scope maps to unit %d", cur_name, s->bus, s->dev,
              s->fn, s->owner_index, u);
    }
}

/* A device no scope names goes to its segment's INCLUDE_PCI_ALL unit. */
static void check_catch_all(void)
{
    for (unsigned i = 0; i < info.nunits; i++) {
        if (!info.units[i].include_pci_all)
            continue;
        int u = dmar_unit_for_device(&info, info.units[i].segment, 0xfe, 31, 7);
        CHECK(u == (int)i, "%s: an unnamed device maps to unit %d, not the INCLUDE_PCI_ALL unit %u",
              cur_name, u, i);
    }
}

static void test_one_table(void)
{
    size_t blen;
    char feat[400], flags[200];
    const char *blk = source_block(cur_name, &blen);
    CHECK(blk && source_line(blk, blen, "features", feat, sizeof(feat)),
          "%s: no features line in SOURCES.txt", cur_name);
    const char *defect = expected_defect(cur_name);

    for (int v = VIEW_NO_ACCESS; v <= VIEW_MIXED; v++) {
        CHECK(parse_view((enum view)v) == 0 && info.valid && info.checksum_ok,
              "%s (%s): header or checksum", cur_name, view_names[v]);
        check_findings((enum view)v, defect);
        if (v == VIEW_ABSENT && bus_dependent_scopes())
            CHECK(log_.n > log_.defects, "%s: %u scopes depend on absent devices but no note",
                  cur_name, bus_dependent_scopes());
        if (v == VIEW_PRESENT) {
            check_all_present();
            check_catch_all();
        }
    }
    if (blk && source_line(blk, blen, "features", feat, sizeof(feat)))
        check_features(feat);
    /* Facts SOURCES.txt flags for the parser: they must come out as notes. */
    if (blk && source_line(blk, blen, "parser flags", flags, sizeof(flags)) &&
        strstr(flags, "RMRR below 1MiB"))
        CHECK(diag_has_sev(&log_, "lies below 1 MiB", ACPI_NOTE),
              "%s: no note for the RMRR "
              "below 1 MiB",
              cur_name);
}

static unsigned ntables, found_defects;

/* Every listed defect table is in the corpus, and the corpus has not
 * shrunk below the 22 tables of the shared data plus the 2 defect ones. */
static void test_corpus_complete(void)
{
    printf("# %u tables, %u with real defects\n", ntables, found_defects);
    CHECK(found_defects == sizeof(real_defects) / sizeof(real_defects[0]),
          "%u of the listed defect tables found", found_defects);
    CHECK(ntables >= 24, "only %u tables", ntables);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    load_sources();
    DIR *d = opendir(HW_DMAR_DIR);
    if (!d) {
        printf("# cannot open %s\n", HW_DMAR_DIR);
        return 2;
    }
    static char *names[1024];
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 1024) {
        size_t l = strlen(e->d_name);
        if (l > 4 && !strcmp(e->d_name + l - 4, ".dat"))
            names[n++] = strndup(e->d_name, l - 4);
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), by_name);

    for (unsigned i = 0; i < n; i++) {
        char path[300];
        snprintf(path, sizeof(path), "%s/%s.dat", HW_DMAR_DIR, names[i]);
        cur = image_load_path(path);
        cur_name = names[i];
        found_defects += expected_defect(cur_name) != NULL;
        check_run(names[i], test_one_table);
        image_free(&cur);
        free(names[i]);
    }
    ntables = n;
    check_run("corpus_complete", test_corpus_complete);
    return check_finish();
}
