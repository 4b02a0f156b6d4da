// HOST-DEPS: lib/printf.c iommu/entry_sync.c iommu/pasid_entry.c iommu/context_entry.c tests/host/model_iommu.c tests/host/model_rules.c tests/host/entry_sync_harness.c
/* The host proof of entry_sync: every ordered pair of a catalogue of real
 * PASID (and context) entries is updated against the model IOMMU, which
 * judges every entry a reader could assemble; the same pairs with the
 * `clear` baseline; and injected defects that the model must catch. */
#include "iommu/context_entry.h"
#include "iommu/entry_sync.h"
#include "iommu/pasid_entry.h"
#include "lib/kstring.h"
#include "lib/printf.h"
#include "tests/host/check.h"
#include "tests/host/entry_sync_harness.h"
#include "tests/host/model_rules.h"

#include <stdio.h>
#include <string.h>

CHECK_STATE_DEFINE;

/* ---- the catalogue ------------------------------------------------------- */

#define SS_ROOT_A 0x0000000011111000ULL
#define SS_ROOT_B 0x0000000022222000ULL
#define FS_ROOT_C 0x0000000033333000ULL
#define FS_ROOT_D 0x0000000044444000ULL

struct cat_entry {
    const char *name;
    struct pasid_entry e;
};

#define MAX_CAT 40
static struct cat_entry cat[MAX_CAT];
static unsigned nr_cat;

typedef void (*pasid_builder)(struct pasid_entry *, const struct pasid_entry_cfg *);

static void add(const char *name, pasid_builder build, struct pasid_entry_cfg c)
{
    cat[nr_cat].name = name;
    build(&cat[nr_cat].e, &c);
    nr_cat++;
}

static void build_blocked(struct pasid_entry *e, const struct pasid_entry_cfg *c)
{
    (void)c;
    pasid_entry_build_blocked(e);
}

static void build_catalogue(void)
{
    const uint8_t aw = PASID_AW_48BIT;

    add("blocked", build_blocked, (struct pasid_entry_cfg){0});
    add("PT d1", pasid_entry_build_pt, (struct pasid_entry_cfg){.did = 1, .aw = aw});
    add("PT d2 pwsnp", pasid_entry_build_pt,
        (struct pasid_entry_cfg){.did = 2, .aw = aw, .pwsnp = true});
    add("SS d10 A", pasid_entry_build_ss,
        (struct pasid_entry_cfg){.did = 10, .aw = aw, .ss_root = SS_ROOT_A});
    add("SS d10 B", pasid_entry_build_ss,
        (struct pasid_entry_cfg){.did = 10, .aw = aw, .ss_root = SS_ROOT_B});
    add("SS d11 A", pasid_entry_build_ss,
        (struct pasid_entry_cfg){.did = 11, .aw = aw, .ss_root = SS_ROOT_A});
    add("SS d11 B", pasid_entry_build_ss,
        (struct pasid_entry_cfg){.did = 11, .aw = aw, .ss_root = SS_ROOT_B});
    add("SS d10 A fpd", pasid_entry_build_ss,
        (struct pasid_entry_cfg){.did = 10, .aw = aw, .ss_root = SS_ROOT_A, .fpd = true});
    add("SS d10 A ssade", pasid_entry_build_ss,
        (struct pasid_entry_cfg){.did = 10, .aw = aw, .ss_root = SS_ROOT_A, .ssade = true});
    add("SS d10 A aw57", pasid_entry_build_ss,
        (struct pasid_entry_cfg){.did = 10, .aw = PASID_AW_57BIT, .ss_root = SS_ROOT_A});
    add("SS d10 A pgsnp", pasid_entry_build_ss,
        (struct pasid_entry_cfg){.did = 10, .aw = aw, .ss_root = SS_ROOT_A, .pgsnp = true});
    add("FS d20 C", pasid_entry_build_fs,
        (struct pasid_entry_cfg){.did = 20, .aw = aw, .fs_root = FS_ROOT_C});
    add("FS d20 D", pasid_entry_build_fs,
        (struct pasid_entry_cfg){.did = 20, .aw = aw, .fs_root = FS_ROOT_D});
    add("FS5 d20 C", pasid_entry_build_fs,
        (struct pasid_entry_cfg){.did = 20, .aw = aw, .fs_root = FS_ROOT_C, .fs_5level = true});
    add("FS5 d20 D", pasid_entry_build_fs,
        (struct pasid_entry_cfg){.did = 20, .aw = aw, .fs_root = FS_ROOT_D, .fs_5level = true});
    add("FS d21 C", pasid_entry_build_fs,
        (struct pasid_entry_cfg){.did = 21, .aw = aw, .fs_root = FS_ROOT_C});
    add("FS d21 D", pasid_entry_build_fs,
        (struct pasid_entry_cfg){.did = 21, .aw = aw, .fs_root = FS_ROOT_D});
    add("FS d21 C wpe", pasid_entry_build_fs,
        (struct pasid_entry_cfg){.did = 21, .aw = aw, .fs_root = FS_ROOT_C, .wpe = true});
    add("FS d20 C sre eafe", pasid_entry_build_fs,
        (struct pasid_entry_cfg){
            .did = 20, .aw = aw, .fs_root = FS_ROOT_C, .sre = true, .eafe = true});
    add("FS d20 C fpd", pasid_entry_build_fs,
        (struct pasid_entry_cfg){.did = 20, .aw = aw, .fs_root = FS_ROOT_C, .fpd = true});
    add("nested d20 A C", pasid_entry_build_nested,
        (struct pasid_entry_cfg){.did = 20, .aw = aw, .ss_root = SS_ROOT_A, .fs_root = FS_ROOT_C});
    add("nested d30 A C", pasid_entry_build_nested,
        (struct pasid_entry_cfg){.did = 30, .aw = aw, .ss_root = SS_ROOT_A, .fs_root = FS_ROOT_C});
    add("nested d30 A D", pasid_entry_build_nested,
        (struct pasid_entry_cfg){.did = 30, .aw = aw, .ss_root = SS_ROOT_A, .fs_root = FS_ROOT_D});
    add("nested d30 B C", pasid_entry_build_nested,
        (struct pasid_entry_cfg){.did = 30, .aw = aw, .ss_root = SS_ROOT_B, .fs_root = FS_ROOT_C});
    add("nested d31 B D", pasid_entry_build_nested,
        (struct pasid_entry_cfg){.did = 31, .aw = aw, .ss_root = SS_ROOT_B, .fs_root = FS_ROOT_D});
    add("nested5 d30 A C sre", pasid_entry_build_nested,
        (struct pasid_entry_cfg){.did = 30,
                                 .aw = aw,
                                 .ss_root = SS_ROOT_A,
                                 .fs_root = FS_ROOT_C,
                                 .fs_5level = true,
                                 .sre = true});

    /* A pass-through entry left dirty by someone else: stale pointers in
     * fields PT ignores and junk in a reserved qword.  Exercises the bits
     * neither entry uses. */
    cat[nr_cat].name = "PT d1 dirty";
    pasid_entry_build_pt(&cat[nr_cat].e, &(struct pasid_entry_cfg){.did = 1, .aw = aw});
    pasid_entry_set(&cat[nr_cat].e, PASID_SSPTPTR, SS_ROOT_B);
    pasid_entry_set(&cat[nr_cat].e, PASID_FSPTPTR, FS_ROOT_D);
    cat[nr_cat].e.q[6] = 0x5a5a5a5a5a5a5a5aULL;
    nr_cat++;

    /* FPD variants (9.6: FPD counts even in a non-present entry).  The
     * second non-present one is what "clear Present only" leaves behind:
     * FPD still set, stale fields the IOMMU ignores without P. */
    cat[nr_cat].name = "blocked fpd";
    pasid_entry_build_blocked(&cat[nr_cat].e);
    pasid_entry_set(&cat[nr_cat].e, PASID_FPD, 1);
    nr_cat++;
    cat[nr_cat].name = "blocked fpd dirty";
    pasid_entry_build_ss(&cat[nr_cat].e,
                         &(struct pasid_entry_cfg){
                             .did = 11, .aw = aw, .ss_root = SS_ROOT_B, .fpd = true});
    pasid_entry_set(&cat[nr_cat].e, PASID_P, 0);
    nr_cat++;
    add("PT d1 fpd", pasid_entry_build_pt,
        (struct pasid_entry_cfg){.did = 1, .aw = aw, .fpd = true});
    add("SS d11 B fpd", pasid_entry_build_ss,
        (struct pasid_entry_cfg){.did = 11, .aw = aw, .ss_root = SS_ROOT_B, .fpd = true});
    add("FS d21 D fpd", pasid_entry_build_fs,
        (struct pasid_entry_cfg){.did = 21, .aw = aw, .fs_root = FS_ROOT_D, .fpd = true});
    add("nested d31 B D fpd", pasid_entry_build_nested,
        (struct pasid_entry_cfg){
            .did = 31, .aw = aw, .ss_root = SS_ROOT_B, .fs_root = FS_ROOT_D, .fpd = true});
}

static const struct pasid_entry *find(const char *name)
{
    for (unsigned i = 0; i < nr_cat; i++) {
        if (!strcmp(cat[i].name, name))
            return &cat[i].e;
    }
    printf("# no catalogue entry '%s'\n", name);
    abort();
}

/* ---- statistics over all pairs ---------------------------------------------- */

struct class_stats {
    unsigned pairs, syncs, min_syncs, max_syncs, stores, non_present;
};

struct sweep {
    unsigned pairs, failed;
    struct class_stats by_class[3];
    unsigned long combos;
    unsigned failures_union;
};

static void account(struct sweep *s, const struct pair_run *r)
{
    struct class_stats *c = &s->by_class[r->res.cls];

    if (!c->pairs || r->model.syncs < c->min_syncs)
        c->min_syncs = r->model.syncs;
    if (r->model.syncs > c->max_syncs)
        c->max_syncs = r->model.syncs;
    c->pairs++;
    c->syncs += r->model.syncs;
    c->stores += r->model.stores;
    c->non_present += r->model.non_present_seen != 0;
    s->pairs++;
    s->combos += r->model.combos;
    if (r->failures) {
        s->failed++;
        s->failures_union |= r->failures;
    }
}

static void print_sweep(const char *title, const struct sweep *s)
{
    printf("# %s: %u ordered pairs, %lu assembled entries judged, %u failed\n", title, s->pairs,
           s->combos, s->failed);
    printf("#   %-9s %6s %17s %12s %20s\n", "class", "pairs", "syncs min/avg/max", "stores avg",
           "non-present window");
    for (int k = 0; k < 3; k++) {
        const struct class_stats *c = &s->by_class[k];
        if (!c->pairs)
            continue;
        printf("#   %-9s %6u %7u/%4.2f/%-4u %12.2f %20u\n",
               entry_sync_class_name((enum entry_sync_class)k), c->pairs, c->min_syncs,
               (double)c->syncs / c->pairs, c->max_syncs, (double)c->stores / c->pairs,
               c->non_present);
    }
}

/* Every ordered pair of the PASID catalogue through one format/strategy;
 * every failure is a CHECK failure. */
static struct sweep sweep_pasid(const struct entry_format *fmt, enum entry_sync_strategy strategy)
{
    struct sweep s = {0};
    struct pair_run r;

    for (unsigned i = 0; i < nr_cat; i++) {
        for (unsigned j = 0; j < nr_cat; j++) {
            run_pair(fmt, &model_pasid_rules, cat[i].e.q, cat[j].e.q, strategy,
                     (struct model_opts){0}, &r);
            account(&s, &r);
            CHECK(!r.failures, "%s %s: %s -> %s: %s", fmt->name, entry_sync_strategy_name(strategy),
                  cat[i].name, cat[j].name, r.why);
        }
    }
    return s;
}

/* ---- tests ----------------------------------------------------------------- */

static void stdout_sink(const char *s, size_t len)
{
    fwrite(s, 1, len, stdout);
}

TEST(field_positions_match_the_spec)
{
    struct pasid_entry e = {0};

    /* Bit numbers of VT-d spec 9.6, set one field at a time. */
    pasid_entry_set(&e, PASID_P, 1);
    CHECK_EQ_U64(e.q[0], 1);
    pasid_entry_set(&e, PASID_FPD, 1);
    CHECK_EQ_U64(e.q[0], 0x3);
    pasid_entry_set(&e, PASID_AW, 7);
    CHECK_EQ_U64(e.q[0], 0x1f);
    pasid_entry_set(&e, PASID_PGTT, 7);
    CHECK_EQ_U64(e.q[0], 0x1df);
    pasid_entry_set(&e, PASID_SSADE, 1);
    CHECK_EQ_U64(e.q[0], 0x3df);
    pasid_entry_set(&e, PASID_SSPTPTR, ~0ULL);
    CHECK_EQ_U64(e.q[0], 0xfffffffffffff3dfULL);
    pasid_entry_set(&e, PASID_DID, 0xffff);
    CHECK_EQ_U64(e.q[1], 0xffff);
    pasid_entry_set(&e, PASID_PWSNP, 1);
    CHECK_EQ_U64(e.q[1], 0xffff | (1ULL << (87 - 64)));
    pasid_entry_set(&e, PASID_PGSNP, 1);
    CHECK_EQ_U64(e.q[1], 0xffff | (3ULL << (87 - 64)));
    pasid_entry_set(&e, PASID_SRE, 1);
    pasid_entry_set(&e, PASID_FSPM, 3);
    pasid_entry_set(&e, PASID_WPE, 1);
    pasid_entry_set(&e, PASID_EAFE, 1);
    CHECK_EQ_U64(e.q[2], (1ULL << 0) | (3ULL << 2) | (1ULL << 4) | (1ULL << 7));
    pasid_entry_set(&e, PASID_FSPTPTR, ~0ULL);
    CHECK_EQ_U64(e.q[2], 0xfffffffffffff09dULL);
    CHECK_EQ_U64(pasid_entry_get(&e, PASID_DID), 0xffff);
    CHECK_EQ_U64(pasid_entry_get(&e, PASID_FSPTPTR), 0xfffffffffffff000ULL);
    for (int q = 3; q < 8; q++)
        CHECK_EQ_U64(e.q[q], 0);
}

TEST(builders_and_used_rules)
{
    for (unsigned i = 0; i < nr_cat; i++) {
        struct pasid_entry used;
        uint64_t model[8];
        pasid_entry_used(&cat[i].e, &used);
        model_pasid_used(cat[i].e.q, model);
        CHECK(!memcmp(used.q, model, sizeof(model)), "%s: used() differs from the test's table",
              cat[i].name);
        /* Builders leave every bit their mode does not use at zero. */
        if (strstr(cat[i].name, "dirty"))
            continue;
        for (int q = 0; q < 8; q++)
            CHECK(!(cat[i].e.q[q] & ~used.q[q]), "%s: qword %d has unused bits %#llx", cat[i].name,
                  q, (unsigned long long)(cat[i].e.q[q] & ~used.q[q]));
        /* Chunks 2 and 3 are never used. */
        CHECK(!(used.q[4] | used.q[5] | used.q[6] | used.q[7]), "%s", cat[i].name);
        /* A non-present entry uses P and FPD, nothing else: entry_sync
         * needs those in the Present chunk, which stays put while a
         * breaking update rewrites the others. */
        if (!pasid_entry_present(&cat[i].e))
            CHECK(used.q[0] == 3 && !(used.q[1] | used.q[2] | used.q[3]),
                  "%s: a non-present entry uses %#llx:%#llx", cat[i].name,
                  (unsigned long long)used.q[0], (unsigned long long)used.q[1]);
    }
    CHECK(!strcmp(pasid_entry_mode_name(find("nested d30 A C")), "nested"), "mode name");
    CHECK(!strcmp(pasid_entry_mode_name(find("blocked")), "blocked"), "mode name");
}

TEST(all_pairs_entry_sync)
{
    struct sweep s = sweep_pasid(&pasid_entry_format, ENTRY_SYNC_STRATEGY_HITLESS);

    print_sweep("entry_sync, PASID entry as 4 x 128-bit chunks", &s);
    CHECK(s.by_class[ENTRY_SYNC_HITLESS].pairs > 0 && s.by_class[ENTRY_SYNC_BREAKING].pairs > 0,
          "the catalogue must exercise both paths");
}

TEST(all_pairs_clear)
{
    struct sweep s = sweep_pasid(&pasid_entry_format, ENTRY_SYNC_STRATEGY_CLEAR);

    print_sweep("clear (baseline), PASID entry as 4 x 128-bit chunks", &s);
    CHECK(s.by_class[ENTRY_SYNC_BREAKING].pairs == s.pairs, "clear is always breaking");
}

TEST(all_pairs_64bit_chunks)
{
    /* What a CPU without CMPXCHG16B could do: still correct, more breaking. */
    struct sweep s = sweep_pasid(&pasid_entry_format_64, ENTRY_SYNC_STRATEGY_HITLESS);
    struct entry_sync_result r64 =
        entry_sync_classify(&pasid_entry_format_64, find("SS d10 A")->q, find("SS d11 B")->q);
    struct entry_sync_result r128 =
        entry_sync_classify(&pasid_entry_format, find("SS d10 A")->q, find("SS d11 B")->q);

    print_sweep("entry_sync, PASID entry as 8 x 64-bit chunks", &s);
    CHECK(r64.cls == ENTRY_SYNC_BREAKING, "SS A -> SS B with 64-bit chunks must break");
    CHECK(r128.cls == ENTRY_SYNC_HITLESS, "SS A -> SS B with 128-bit chunks is hitless");
}

/* ---- the design note's table, derived from the code ---------------------- */

struct sample {
    const char *transition, *from, *to;
    const char *note; /* the design note's row: "yes 1", "no 3", ... or NULL */
};

static const struct sample samples[] = {
    {"SS A -> SS B (DID and SSPTPTR)", "SS d10 A", "SS d11 B", "yes 1"},
    {"PT -> SS", "PT d1", "SS d10 A", "yes 1"},
    {"SS -> PT", "SS d10 A", "PT d1", "yes 1"},
    {"SS -> FS", "SS d10 A", "FS d20 C", "yes 2"},
    {"SS -> nested", "SS d10 A", "nested d30 A C", "yes 2"},
    {"PT -> FS", "PT d1", "FS d20 C", "yes 2"},
    {"PT -> nested", "PT d1", "nested d30 A C", "yes 2"},
    {"FS -> SS", "FS d20 C", "SS d10 A", "yes 2"},
    {"FS -> PT", "FS d20 C", "PT d1", "yes 2"},
    {"nested -> SS", "nested d30 A C", "SS d10 A", "yes 2"},
    {"nested -> PT", "nested d30 A C", "PT d1", "yes 2"},
    {"FS -> FS, only DID", "FS d20 C", "FS d21 C", "yes 1"},
    {"FS -> FS, only FSPTPTR", "FS d20 C", "FS d20 D", "yes 1"},
    {"FS -> FS, only FSPM", "FS d20 C", "FS5 d20 C", "yes 1"},
    {"FS -> FS, DID and FSPTPTR", "FS d20 C", "FS d21 D", "no 3"},
    {"nested -> nested, DID and FS table", "nested d30 A C", "nested d31 B D", "no 3"},
    {"FS -> nested, chunk 1 changes", "FS d20 C", "nested d30 A D", "no 3"},
    {"nested -> FS, chunk 1 changes", "nested d30 A D", "FS d20 C", "no 3"},
    {"FS -> nested, chunk 1 unchanged", "FS d20 C", "nested d20 A C", "yes"},
    {"nested -> FS, chunk 1 unchanged", "nested d20 A C", "FS d20 C", "yes"},
    {"blocked -> PT", "blocked", "PT d1", "yes 1-2"},
    {"blocked -> SS", "blocked", "SS d10 A", "yes 1-2"},
    {"blocked -> FS", "blocked", "FS d20 C", "yes 1-2"},
    {"blocked -> nested", "blocked", "nested d30 A C", "yes 1-2"},
    /* Rows the note does not have. */
    {"SS -> blocked", "SS d10 A", "blocked", NULL},
    {"FS -> blocked", "FS d20 C", "blocked", NULL},
    {"SS -> SS, only FPD", "SS d10 A", "SS d10 A fpd", NULL},
    {"FS -> FS, DID and WPE", "FS d20 C", "FS d21 C wpe", NULL},
    {"FS -> FS, only FPD", "FS d20 C", "FS d20 C fpd", NULL},
    {"PT -> PT dirty (unused bits only)", "PT d1", "PT d1 dirty", NULL},
    {"PT dirty -> SS", "PT d1 dirty", "SS d10 A", NULL},
    {"SS -> SS, identical", "SS d10 A", "SS d10 A", NULL},
    {"blocked -> blocked, only FPD", "blocked", "blocked fpd", NULL},
    {"blocked fpd -> stale fields, FPD kept", "blocked fpd", "blocked fpd dirty", NULL},
    {"SS fpd -> blocked", "SS d11 B fpd", "blocked", NULL},
    {"SS -> blocked fpd", "SS d10 A", "blocked fpd", NULL},
    {"blocked fpd -> FS", "blocked fpd", "FS d20 C", NULL},
    {"FS fpd -> FS, DID and FSPTPTR", "FS d20 C fpd", "FS d21 D", NULL},
    {"FS -> FS fpd, DID and FSPTPTR", "FS d20 C", "FS d21 D fpd", NULL},
};

/* Does "yes 1-2" / "no 3" / "yes" agree with (hitless?, syncs)? */
static bool note_agrees(const char *note, bool hitless, unsigned syncs)
{
    unsigned lo = 0, hi = 99;
    bool note_hitless = !strncmp(note, "yes", 3);
    const char *num = strchr(note, ' ');

    if (num && sscanf(num, " %u-%u", &lo, &hi) < 2)
        hi = lo;
    return note_hitless == hitless && syncs >= lo && syncs <= hi;
}

TEST(design_note_table)
{
    printf("# %-38s | %-22s | %-14s | %-8s | %-18s\n", "transition", "entry_sync (syncs)",
           "clear (syncs)", "note", "series rules");
    for (size_t i = 0; i < ARRAY_SIZE(samples); i++) {
        const struct sample *s = &samples[i];
        const uint64_t *from = find(s->from)->q, *to = find(s->to)->q;
        struct pair_run es, cl;
        struct entry_sync_result series;
        struct entry_format series_fmt = pasid_entry_format;
        bool hitless;

        run_pair(&pasid_entry_format, &model_pasid_rules, from, to, ENTRY_SYNC_STRATEGY_HITLESS,
                 (struct model_opts){0}, &es);
        run_pair(&pasid_entry_format, &model_pasid_rules, from, to, ENTRY_SYNC_STRATEGY_CLEAR,
                 (struct model_opts){0}, &cl);
        series_fmt.used = model_pasid_used_series;
        series = entry_sync_classify(&series_fmt, from, to);
        hitless = es.res.cls != ENTRY_SYNC_BREAKING;
        printf("# %-38s | %-3s %-8s (%u)%*s | %-8s (%u)   | %-8s | %-8s %s\n", s->transition,
               hitless ? "yes" : "no", entry_sync_class_name(es.res.cls), es.model.syncs, 6, "",
               entry_sync_class_name(cl.res.cls), cl.model.syncs, s->note ? s->note : "-",
               entry_sync_class_name(series.cls), series.cls != es.res.cls ? "(differs)" : "");
        CHECK(!es.failures && !cl.failures, "%s: %s %s", s->transition, es.why, cl.why);
        if (s->note)
            CHECK(note_agrees(s->note, hitless, es.model.syncs),
                  "%s: code says %s/%u, note says %s", s->transition,
                  entry_sync_class_name(es.res.cls), es.model.syncs, s->note);
    }
}

/* ---- defect injection ------------------------------------------------------- */

struct defect_tally {
    unsigned affected; /* pairs where the defect changes what happens */
    unsigned caught;   /* pairs where the model or checks flagged it */
    unsigned by_reader, by_final, by_syncs;
    unsigned by_model; /* reader or final check, not merely counting */
};

static void tally(struct defect_tally *t, const struct pair_run *r)
{
    if (!r->failures)
        return;
    t->caught++;
    t->by_reader += !!(r->failures & FAIL_READER);
    t->by_final += !!(r->failures & FAIL_FINAL);
    t->by_syncs += !!(r->failures & (FAIL_SYNCS | FAIL_CLASS));
    t->by_model += !!(r->failures & (FAIL_READER | FAIL_FINAL));
}

static void report_defect(const char *name, const struct defect_tally *t)
{
    printf("# defect %-38s caught in %3u/%3u pairs it can affect (reader saw a bad entry: %u, "
           "final/unsynced: %u, sync count/class: %u)\n",
           name, t->caught, t->affected, t->by_reader, t->by_final, t->by_syncs);
}

/* Run every pair with a defect in place: a defective format (fmt), a
 * defective model (opts) or defective ops (wrap, NULL for none); the clean
 * run tells which pairs the defect can affect. */
static struct defect_tally sweep_defect(const struct entry_format *fmt, struct model_opts opts,
                                        ops_wrapper wrap,
                                        bool (*affects)(const struct pair_run *clean))
{
    struct defect_tally t = {0};
    struct pair_run clean, bad;

    for (unsigned i = 0; i < nr_cat; i++) {
        for (unsigned j = 0; j < nr_cat; j++) {
            run_pair(&pasid_entry_format, &model_pasid_rules, cat[i].e.q, cat[j].e.q,
                     ENTRY_SYNC_STRATEGY_HITLESS, (struct model_opts){0}, &clean);
            run_pair_wrapped(fmt, &model_pasid_rules, cat[i].e.q, cat[j].e.q,
                             ENTRY_SYNC_STRATEGY_HITLESS, opts, wrap, &bad);
            if (affects(&clean))
                t.affected++;
            tally(&t, &bad);
        }
    }
    return t;
}

/* ---- a reader that rereads the entry (QEMU 10.0.2) ------------------------- */

/* The library told nothing: the model still checks for the rereading
 * reader, the library writes as for a spec reader. */
static struct entry_sync_ops library_not_told(struct entry_sync_ops model_ops,
                                              const struct model_iommu *m)
{
    (void)m;
    model_ops.reader_rereads = false;
    return model_ops;
}

static bool named(unsigned i, const char *name)
{
    return !strcmp(cat[i].name, name);
}

/* Every ordered pair against the rereading reader.  Told, the library
 * keeps what only the old entry uses through the flip, at one more sync
 * at most, and the non-present window of a breaking or clear update keeps
 * the old entry but for Present and FPD: no pair fails.  Not told, SS ->
 * PT pairs the old type with a zero second-stage pointer (the walk from
 * address 0 that QEMU faulted on), and a zeroed window does the same: the
 * model must catch that. */
TEST(all_pairs_rereading_reader)
{
    struct pair_run told, spec, blind;
    unsigned extra_syncs = 0, caught = 0, ss_to_pt_caught = 0;

    for (unsigned i = 0; i < nr_cat; i++) {
        for (unsigned j = 0; j < nr_cat; j++) {
            run_pair(&pasid_entry_format, &model_pasid_rules, cat[i].e.q, cat[j].e.q,
                     ENTRY_SYNC_STRATEGY_HITLESS, (struct model_opts){0}, &spec);
            run_pair(&pasid_entry_format, &model_pasid_rules, cat[i].e.q, cat[j].e.q,
                     ENTRY_SYNC_STRATEGY_HITLESS, (struct model_opts){.rereads = true}, &told);
            CHECK(!(told.failures & ~FAIL_SYNCS), "%s -> %s: %s", cat[i].name, cat[j].name,
                  told.why);
            CHECK(told.model.syncs <= spec.model.syncs + 1 && told.res.cls == spec.res.cls,
                  "%s -> %s: %u syncs, %u for a spec reader", cat[i].name, cat[j].name,
                  told.model.syncs, spec.model.syncs);
            extra_syncs += told.model.syncs - spec.model.syncs;
            struct pair_run clear;
            run_pair(&pasid_entry_format, &model_pasid_rules, cat[i].e.q, cat[j].e.q,
                     ENTRY_SYNC_STRATEGY_CLEAR, (struct model_opts){.rereads = true}, &clear);
            CHECK(!clear.failures, "clear %s -> %s: %s", cat[i].name, cat[j].name, clear.why);
            run_pair_wrapped(&pasid_entry_format, &model_pasid_rules, cat[i].e.q, cat[j].e.q,
                             ENTRY_SYNC_STRATEGY_HITLESS, (struct model_opts){.rereads = true},
                             library_not_told, &blind);
            if (blind.model.reread_violations) {
                caught++;
                ss_to_pt_caught += named(i, "SS d10 A") && named(j, "PT d1");
            }
        }
    }
    printf("# rereading reader: %u pairs need a sync more when told; %u pairs break when not\n",
           extra_syncs, caught);
    CHECK(caught > 0 && ss_to_pt_caught == 1, "not told: %u pairs caught, SS -> PT %s", caught,
          ss_to_pt_caught ? "caught" : "missed");
}

/* ---- defective writers: the library's stores pass through these ---------- */

/* What a wrapper needs besides the model's ops: the model (start, target,
 * format) and whether a breaking update's window is up.  One run at a time:
 * each wrap call starts afresh. */
static struct store_defect {
    struct entry_sync_ops inner;
    const struct model_iommu *m;
    bool window_up;
} defect;

static unsigned present_chunk_index(const struct entry_format *fmt)
{
    return fmt->present_qword / fmt->chunk_qwords;
}

/* Whether a store of `value` into the Present chunk leaves Present set. */
static bool chunk_sets_present(const struct entry_format *fmt, const uint64_t *value)
{
    return (value[fmt->present_qword % fmt->chunk_qwords] & fmt->present_mask) != 0;
}

static void pass_sync(void *ctx, const struct entry_sync_point *p)
{
    struct store_defect *d = ctx;

    d->inner.sync(d->inner.ctx, p);
}

static struct entry_sync_ops wrap_stores(struct entry_sync_ops model_ops,
                                         const struct model_iommu *m,
                                         void (*write_chunk)(void *, volatile uint64_t *, unsigned,
                                                             const uint64_t *))
{
    defect = (struct store_defect){.inner = model_ops, .m = m};
    return (struct entry_sync_ops){.ctx = &defect, .write_chunk = write_chunk, .sync = pass_sync};
}

/* A writer that stores the target's Present chunk where the library asks
 * for the non-present window: the Present chunk goes first and the other
 * chunks follow while the entry is live.  Only a breaking update has such
 * a window, so only breaking pairs change. */
static void store_present_first(void *ctx, volatile uint64_t *entry, unsigned index,
                                const uint64_t *value)
{
    struct store_defect *d = ctx;
    const struct entry_format *fmt = d->m->fmt;
    unsigned p = present_chunk_index(fmt);

    if (index == p && !chunk_sets_present(fmt, value))
        value = d->m->target + (size_t)p * fmt->chunk_qwords;
    d->inner.write_chunk(d->inner.ctx, entry, index, value);
}

static struct entry_sync_ops present_chunk_first(struct entry_sync_ops model_ops,
                                                 const struct model_iommu *m)
{
    return wrap_stores(model_ops, m, store_present_first);
}

/* The highest chunk other than the Present one that differs between the
 * start and the target entry (nr_chunks if none). */
static unsigned last_changing_chunk(const struct model_iommu *m)
{
    const struct entry_format *fmt = m->fmt;
    size_t bytes = fmt->chunk_qwords * sizeof(uint64_t);

    for (unsigned i = fmt->nr_chunks; i-- > 0;) {
        size_t at = (size_t)i * fmt->chunk_qwords;
        if (i != present_chunk_index(fmt) && memcmp(m->start + at, m->target + at, bytes))
            return i;
    }
    return fmt->nr_chunks;
}

/* A store callback that loses the last chunk a breaking update rewrites
 * behind its window (a window: the Present chunk stored non-present on the
 * way to a present target, which no hitless update does). */
static void store_skip_last(void *ctx, volatile uint64_t *entry, unsigned index,
                            const uint64_t *value)
{
    struct store_defect *d = ctx;
    const struct entry_format *fmt = d->m->fmt;

    if (index == present_chunk_index(fmt))
        d->window_up = !chunk_sets_present(fmt, value) &&
                       entry_sync_is_present(fmt, d->m->target);
    else if (d->window_up && index == last_changing_chunk(d->m))
        return;
    d->inner.write_chunk(d->inner.ctx, entry, index, value);
}

static struct entry_sync_ops last_chunk_lost(struct entry_sync_ops model_ops,
                                             const struct model_iommu *m)
{
    return wrap_stores(model_ops, m, store_skip_last);
}

static bool is_breaking(const struct pair_run *clean)
{
    return clean->res.cls == ENTRY_SYNC_BREAKING;
}

static bool syncs_at_all(const struct pair_run *clean)
{
    return clean->model.syncs > 0;
}

/* For defects that may bite any pair: every pair counts. */
static bool any_pair(const struct pair_run *clean)
{
    (void)clean;
    return true;
}

static bool first_stage_pointer_moves(const struct pair_run *clean)
{
    return pasid_entry_get((const struct pasid_entry *)clean->model.start, PASID_FSPTPTR) !=
           pasid_entry_get((const struct pasid_entry *)clean->model.target, PASID_FSPTPTR);
}

/* used() that forgets the first-stage table pointer. */
static void used_without_fsptptr(const uint64_t *entry, uint64_t *used)
{
    pasid_entry_format.used(entry, used);
    used[PASID_FSPTPTR.qword] &= ~PASID_FSPTPTR.mask;
}

TEST(defects_are_caught)
{
    struct entry_format forgetful = pasid_entry_format;
    struct defect_tally t;

    t = sweep_defect(&pasid_entry_format, (struct model_opts){0}, present_chunk_first,
                     is_breaking);
    report_defect("Present chunk written first", &t);
    CHECK(t.caught == t.affected && t.by_reader == t.affected,
          "every breaking pair must show a mixed entry");

    t = sweep_defect(&pasid_entry_format, (struct model_opts){0}, last_chunk_lost, is_breaking);
    report_defect("last chunk skipped", &t);
    CHECK(t.caught == t.affected && t.by_final == t.affected, "every breaking pair must end wrong");

    t = sweep_defect(&pasid_entry_format, (struct model_opts){.torn_64 = true},
                     NULL, any_pair);
    report_defect("64-bit halves instead of CMPXCHG16B", &t);
    CHECK(t.by_reader > 0, "torn stores must be caught");
    {
        struct pair_run r;
        run_pair(&pasid_entry_format, &model_pasid_rules, find("SS d10 A")->q, find("SS d11 B")->q,
                 ENTRY_SYNC_STRATEGY_HITLESS, (struct model_opts){.torn_64 = true}, &r);
        CHECK(r.failures & FAIL_READER, "torn SS A -> SS B must show DID/root mixed");
        printf("#   e.g. torn SS A -> SS B: %s\n", r.why);
    }

    t = sweep_defect(&pasid_entry_format, (struct model_opts){.drop_sync = 1},
                     NULL, syncs_at_all);
    report_defect("first sync missing", &t);
    CHECK(t.caught == t.affected && t.by_model == t.affected,
          "the model itself must catch a missing sync wherever there is one");

    forgetful.used = used_without_fsptptr;
    t = sweep_defect(&forgetful, (struct model_opts){0}, NULL,
                     first_stage_pointer_moves);
    report_defect("used() without FSPTPTR", &t);
    CHECK(t.by_reader > 0, "a used() that drops a field must be caught");
}

static bool fpd_in_window(const struct pair_run *clean)
{
    return clean->res.cls == ENTRY_SYNC_BREAKING &&
           ((clean->model.start[0] | clean->model.target[0]) & PASID_FPD.mask);
}

static bool non_present_fpd_changes(const struct pair_run *clean)
{
    const uint64_t *a = clean->model.start, *b = clean->model.target;
    return !(a[0] & 1) && !(b[0] & 1) && ((a[0] ^ b[0]) & PASID_FPD.mask);
}

/* used() as the Linux series has it for a non-present entry: P only. */
static void used_without_np_fpd(const uint64_t *entry, uint64_t *used)
{
    pasid_entry_format.used(entry, used);
    if (!(entry[0] & 1))
        used[0] = 1;
}

/* The two halves of ignoring FPD without P, each on its own: the window
 * of a breaking update stored as zeros, and used() blind to FPD there. */
TEST(fpd_defects_are_caught)
{
    struct entry_format blind = pasid_entry_format, no_window = pasid_entry_format;
    struct defect_tally t;

    no_window.window = NULL; /* the library then stores an all-zero window */
    t = sweep_defect(&no_window, (struct model_opts){0}, NULL, fpd_in_window);
    report_defect("window stored as zeros (FPD dropped)", &t);
    CHECK(t.affected > 0 && t.caught == t.affected && t.by_reader == t.affected,
          "every breaking pair with FPD on either side must show a wrong window");

    blind.used = used_without_np_fpd;
    t = sweep_defect(&blind, (struct model_opts){0}, NULL,
                     non_present_fpd_changes);
    report_defect("used() without FPD when P=0", &t);
    CHECK(t.affected > 0 && t.caught == t.affected,
          "every non-present -> non-present FPD change must be caught");
}

/* The window of every breaking and clear update carries FPD = old | new:
 * the four combinations on a pair that must break (FS, DID and table
 * change), and on a legacy context entry with clear-then-update. */
TEST(breaking_window_keeps_fpd)
{
    static const char *const from[2] = {"FS d20 C", "FS d20 C fpd"};
    static const char *const to[2] = {"FS d21 D", "FS d21 D fpd"};
    struct legacy_context_entry ctx[2];

    for (unsigned k = 0; k < 2; k++)
        legacy_context_build(&ctx[k], &(struct legacy_context_cfg){
                                          .slptptr = 0x111000 << k,
                                          .did = (uint16_t)(1 + k),
                                          .aw = 2,
                                          .tt = LEGACY_TT_UNTRANSLATED,
                                          .fpd = k == 0});
    printf("# %-28s | %-10s | %-9s | %s\n", "pair", "strategy", "class", "window FPD");
    for (unsigned f = 0; f < 4; f++) {
        for (unsigned st = 0; st < 2; st++) {
            enum entry_sync_strategy strategy =
                st ? ENTRY_SYNC_STRATEGY_CLEAR : ENTRY_SYNC_STRATEGY_HITLESS;
            const char *a = from[f >> 1], *b = to[f & 1];
            struct pair_run r;
            run_pair(&pasid_entry_format, &model_pasid_rules, find(a)->q, find(b)->q, strategy,
                     (struct model_opts){0}, &r);
            unsigned fpd = (unsigned)((r.model.window_q0 & PASID_FPD.mask) >> 1);
            printf("# %-28s | %-10s | %-9s | %u (%u window store(s))\n",
                   f == 0 ? "FS -> FS" : f == 1 ? "FS -> FS fpd" : f == 2 ? "FS fpd -> FS"
                                                                        : "FS fpd -> FS fpd",
                   entry_sync_strategy_name(strategy), entry_sync_class_name(r.res.cls), fpd,
                   r.model.window_stores);
            CHECK(!r.failures, "%s -> %s %s: %s", a, b, entry_sync_strategy_name(strategy),
                  r.why);
            CHECK(r.res.cls == ENTRY_SYNC_BREAKING && r.model.window_stores == 1,
                  "%s -> %s: one window", a, b);
            CHECK(fpd == ((f >> 1) | (f & 1)), "%s -> %s: window FPD %u", a, b, fpd);
        }
    }
    /* Legacy context entry, one chunk: only clear-then-update has a window. */
    for (unsigned k = 0; k < 2; k++) {
        struct pair_run r;
        run_pair(&legacy_context_format, &model_legacy_context_rules, ctx[k].q, ctx[!k].q,
                 ENTRY_SYNC_STRATEGY_CLEAR, (struct model_opts){0}, &r);
        CHECK(!r.failures, "legacy ctx clear %u: %s", k, r.why);
        CHECK(r.model.window_stores == 1 && (r.model.window_q0 & LEGACY_CTX_FPD),
              "legacy ctx clear %s FPD: the window must keep FPD", k ? "into" : "out of");
    }
}

TEST(series_rules_judged_by_spec_rules)
{
    /* The Linux series' used() (no FPD/SRE/WPE/EAFE for FS, no PGSNP for
     * SS/PT) driving the library, judged by our reading of the spec. */
    struct entry_format series_fmt = pasid_entry_format;
    struct defect_tally t;

    series_fmt.used = model_pasid_used_series;
    t = sweep_defect(&series_fmt, (struct model_opts){0}, NULL, any_pair);
    printf("# series used() judged by spec rules: %u of %u pairs differ (mixed entries: %u, "
           "sync count/class: %u)\n",
           t.caught, t.affected, t.by_reader, t.by_syncs);
}

/* ---- context entries ---------------------------------------------------------- */

static void sweep_context(const char *title, const struct entry_format *fmt,
                          const struct model_rules *judge, enum entry_sync_strategy strategy,
                          const uint64_t (*entries)[4], unsigned n, struct sweep *s)
{
    struct pair_run r;

    for (unsigned i = 0; i < n; i++) {
        for (unsigned j = 0; j < n; j++) {
            run_pair(fmt, judge, entries[i], entries[j], strategy, (struct model_opts){0}, &r);
            account(s, &r);
            CHECK(!r.failures, "%s %u -> %u: %s", title, i, j, r.why);
        }
    }
    print_sweep(title, s);
}

TEST(context_entries)
{
    enum { N = 8 }; /* blocked, 6 built, blocked with FPD */
    uint64_t sm[N][4] = {{0}}, legacy[N][4] = {{0}};
    struct sm_context_entry e;
    struct legacy_context_entry l;
    struct sweep s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0};
    const struct sm_context_cfg smc[] = {
        {.pasid_dir = 0x100000, .pdts = 0, .paside = true},
        {.pasid_dir = 0x200000, .pdts = 0, .paside = true},
        {.pasid_dir = 0x200000, .pdts = 3, .paside = true, .rid_pasid = 5},
        {.pasid_dir = 0x100000, .pdts = 0, .paside = true, .dte = true, .pre = true},
        {.pasid_dir = 0x100000, .pdts = 0, .paside = true, .fpd = true, .rid_priv = true},
        {.pasid_dir = 0x300000, .pdts = 1},
    };
    const struct legacy_context_cfg lc[] = {
        {.slptptr = 0x111000, .did = 1, .aw = 2, .tt = LEGACY_TT_UNTRANSLATED},
        {.slptptr = 0x222000, .did = 2, .aw = 2, .tt = LEGACY_TT_UNTRANSLATED},
        {.slptptr = 0x222000, .did = 2, .aw = 3, .tt = LEGACY_TT_ALL},
        {.did = 3, .aw = 2, .tt = LEGACY_TT_PASS_THROUGH},
        {.slptptr = 0x111000, .did = 1, .aw = 2, .tt = LEGACY_TT_UNTRANSLATED, .fpd = true},
        {.slptptr = 0x333000, .did = 1, .aw = 2, .tt = LEGACY_TT_ALL},
    };

    sm_context_build_blocked(&e);
    memcpy(sm[0], e.q, sizeof(e.q));
    legacy_context_build_blocked(&l);
    memcpy(legacy[0], l.q, sizeof(l.q));
    for (unsigned i = 0; i < ARRAY_SIZE(smc); i++) {
        sm_context_build(&e, &smc[i]);
        memcpy(sm[i + 1], e.q, sizeof(e.q));
    }
    for (unsigned i = 0; i < ARRAY_SIZE(lc); i++) {
        legacy_context_build(&l, &lc[i]);
        memcpy(legacy[i + 1], l.q, sizeof(l.q));
    }
    sm[N - 1][0] = SM_CTX_FPD; /* non-present, faults not reported */
    legacy[N - 1][0] = LEGACY_CTX_FPD;
    for (unsigned i = 0; i < N; i++) {
        struct sm_context_entry used;
        struct legacy_context_entry lused;
        uint64_t model[4];
        memcpy(e.q, sm[i], sizeof(e.q));
        sm_context_used(&e, &used);
        model_sm_context_used(e.q, model);
        CHECK(!memcmp(used.q, model, sizeof(model)), "sm context %u used()", i);
        memcpy(l.q, legacy[i], sizeof(l.q));
        legacy_context_used(&l, &lused);
        model_legacy_context_used(l.q, model);
        CHECK(!memcmp(lused.q, model, sizeof(lused.q)), "legacy context %u used()", i);
    }
    CHECK_EQ_U64(legacy[2][1], 2 | (2ULL << 8)); /* AW 66:64, DID 87:72 */

    sweep_context("scalable-mode context entry (2 x 128-bit)", &sm_context_format,
                  &model_sm_context_rules, ENTRY_SYNC_STRATEGY_HITLESS,
                  (const uint64_t(*)[4])sm, N, &s1);
    sweep_context("legacy context entry (1 x 128-bit)", &legacy_context_format,
                  &model_legacy_context_rules, ENTRY_SYNC_STRATEGY_HITLESS,
                  (const uint64_t(*)[4])legacy, N, &s2);
    /* Clear-then-update passes every pair through a window, FPD and all. */
    sweep_context("scalable-mode context entry, clear", &sm_context_format,
                  &model_sm_context_rules, ENTRY_SYNC_STRATEGY_CLEAR,
                  (const uint64_t(*)[4])sm, N, &s3);
    sweep_context("legacy context entry, clear", &legacy_context_format,
                  &model_legacy_context_rules, ENTRY_SYNC_STRATEGY_CLEAR,
                  (const uint64_t(*)[4])legacy, N, &s4);
    CHECK(s1.by_class[ENTRY_SYNC_BREAKING].pairs == 0, "sm context: chunk 1 is reserved");
    CHECK(s2.by_class[ENTRY_SYNC_BREAKING].pairs == 0 &&
              s2.by_class[ENTRY_SYNC_HITLESS].max_syncs <= 1,
          "legacy context: one chunk, one sync");
}

/* ---- tracing -------------------------------------------------------------------- */

struct trace_log {
    unsigned lines, stores, syncs, bad_prefix;
    bool before, used, after;
};

static void collect_trace(void *ctx, const char *line)
{
    struct trace_log *log = *(struct trace_log **)ctx;

    log->lines++;
    log->bad_prefix += strncmp(line, "# ", 2) != 0;
    log->stores += strstr(line, " store chunk ") != NULL;
    log->syncs += strstr(line, " sync ") != NULL;
    log->before |= strstr(line, " before: ") != NULL;
    log->used |= strstr(line, " used  : ") != NULL;
    log->after |= strstr(line, " after : ") != NULL;
}

/* The trace callback shares ctx with the model; wrap both. */
struct traced {
    struct trace_log *log; /* first member: collect_trace reads it */
    struct model_iommu *model;
};

static void traced_write(void *ctx, volatile uint64_t *entry, unsigned index, const uint64_t *value)
{
    struct traced *t = ctx;
    struct entry_sync_ops inner = model_ops(t->model);

    inner.write_chunk(t->model, entry, index, value);
}

static void traced_sync(void *ctx, const struct entry_sync_point *p)
{
    struct traced *t = ctx;
    struct entry_sync_ops inner = model_ops(t->model);

    inner.sync(t->model, p);
}

TEST(trace_records)
{
    const uint64_t *from = find("SS d10 A")->q, *to = find("nested d30 A C")->q;
    struct trace_log log = {0};
    struct model_iommu m;
    struct traced t = {&log, &m};
    struct entry_sync_ops ops = {
        .ctx = &t,
        .write_chunk = traced_write,
        .sync = traced_sync,
        .trace = collect_trace,
        .tracing = true,
    };
    struct entry_sync_result r;

    model_init(&m, &pasid_entry_format, &model_pasid_rules, from, to, false,
               (struct model_opts){0});
    r = entry_sync_write(&pasid_entry_format, &ops, m.mem, to, ENTRY_SYNC_STRATEGY_HITLESS);
    model_finish(&m);
    CHECK(model_clean(&m), "%s", m.first_problem);
    CHECK(log.bad_prefix == 0, "every trace line starts with '# '");
    CHECK(log.stores == r.chunks_written && log.syncs == r.syncs, "%u/%u stores, %u/%u syncs",
          log.stores, r.chunks_written, log.syncs, r.syncs);
    CHECK(log.before && log.used && log.after, "before/used/after records");

    /* Without a callback the records go to kprintf, i.e. the console. */
    printf_set_sink(stdout_sink);
    model_init(&m, &pasid_entry_format, &model_pasid_rules, to, from, false,
               (struct model_opts){0});
    ops = model_ops(&m);
    ops.tracing = true;
    r = entry_sync_write(&pasid_entry_format, &ops, m.mem, from, ENTRY_SYNC_STRATEGY_HITLESS);
    model_finish(&m);
    CHECK(model_clean(&m) && r.syncs == 2, "%s", m.first_problem);
    printf_set_sink(NULL);
}

int main(void)
{
    build_catalogue();
    RUN(field_positions_match_the_spec);
    RUN(builders_and_used_rules);
    RUN(all_pairs_entry_sync);
    RUN(all_pairs_clear);
    RUN(all_pairs_64bit_chunks);
    RUN(all_pairs_rereading_reader);
    RUN(design_note_table);
    RUN(defects_are_caught);
    RUN(fpd_defects_are_caught);
    RUN(breaking_window_keeps_fpd);
    RUN(series_rules_judged_by_spec_rules);
    RUN(context_entries);
    RUN(trace_records);
    return check_finish();
}
