// HOST-DEPS: lib/printf.c iommu/pgtable.c iommu/pgtable_walk.c
/* Structured tests of the VT-d page-table builders and walker: entry
 * formats, large-page selection, permissions, address widths, error paths,
 * allocation failures and memory accounting.  Every translation is checked
 * through the "memory" view of tests/host/pgtable_testmem.h, so a missing
 * flush shows up as a wrong walk. */
#include "iommu/pgtable.h"
#include "tests/host/check.h"
#include "tests/host/pgtable_testmem.h"

#include <stdio.h>
#include <string.h>

CHECK_STATE_DEFINE;

#define GIB (1ULL << 30)
#define MIB2 PGTABLE_SIZE_2M
#define PG PGTABLE_PAGE_SIZE
#define RW (PGTABLE_R | PGTABLE_W)
#define ACC_R PGTABLE_ACC_READ
#define ACC_W PGTABLE_ACC_WRITE

static const struct tcfg all_cfgs[] = {
    {"ss3", PGTABLE_SECOND_STAGE, 3, PGTABLE_LARGE_2M | PGTABLE_LARGE_1G, false, false, 0},
    {"ss4", PGTABLE_SECOND_STAGE, 4, PGTABLE_LARGE_2M | PGTABLE_LARGE_1G, true, true, 0},
    {"ss5", PGTABLE_SECOND_STAGE, 5, PGTABLE_LARGE_2M, false, true, 0},
    {"fs4", PGTABLE_FIRST_STAGE, 4, PGTABLE_LARGE_1G, false, true, 0},
    {"fs5", PGTABLE_FIRST_STAGE, 5, 0, false, false, 0},
};

static struct tmem mem;
static struct pgtable T;

static int setup_full(const struct tcfg *c, unsigned phys_bits, size_t pages)
{
    struct pgtable_params p = tcfg_params(c, phys_bits);
    struct pgtable_mem_ops ops;

    tmem_init(&mem, pages);
    ops = tmem_ops(&mem);
    return pgtable_init(&T, &p, &ops);
}

static void setup(const struct tcfg *c)
{
    int err = setup_full(c, 46, 2048);

    CHECK(err == PGTABLE_OK, "%s: init: %s", c->name, pgtable_strerror(err));
}

/* Free everything and check nothing leaked or was freed twice. */
static void teardown(const char *name)
{
    pgtable_destroy(&T);
    CHECK(mem.in_use == 0, "%s: %zu pages leaked", name, mem.in_use);
    CHECK(T.table_pages == 0, "%s: table_pages %zu after destroy", name, T.table_pages);
    CHECK(mem.errors == 0, "%s: %u allocator errors", name, mem.errors);
    tmem_fini(&mem);
}

static struct pgtable_xlate walk(uint64_t iova, unsigned access)
{
    struct pgtable_xlate x;

    tmem_walk(&mem, &T, iova, access, &x);
    return x;
}

static void expect_ok_at(int line, uint64_t iova, unsigned access, uint64_t phys, uint64_t size)
{
    struct pgtable_xlate x = walk(iova, access);

    CHECK(x.fault == PGTABLE_XLATE_OK && x.phys == phys && x.page_size == size,
          "line %d: iova %#llx: %s phys %#llx size %#llx, want phys %#llx size %#llx", line,
          (unsigned long long)iova, pgtable_fault_name(x.fault), (unsigned long long)x.phys,
          (unsigned long long)x.page_size, (unsigned long long)phys, (unsigned long long)size);
}
#define EXPECT_OK(iova, acc, phys, size) expect_ok_at(__LINE__, iova, acc, phys, size)

static void expect_fault_at(int line, uint64_t iova, unsigned access, enum pgtable_fault f,
                            unsigned level)
{
    struct pgtable_xlate x = walk(iova, access);

    CHECK(x.fault == f && (!level || x.level == level),
          "line %d: iova %#llx: %s at level %u, want %s at level %u", line,
          (unsigned long long)iova, pgtable_fault_name(x.fault), x.level, pgtable_fault_name(f),
          level);
}
#define EXPECT_FAULT(iova, acc, f, level) expect_fault_at(__LINE__, iova, acc, f, level)

#define EXPECT_ERR(call, want)                                                                     \
    do {                                                                                           \
        int err_ = (call);                                                                         \
        CHECK(err_ == (want), "%s = %d (%s), want %s", #call, err_, pgtable_strerror(err_),        \
              pgtable_strerror(want));                                                             \
    } while (0)

/* The live entry for iova at a level (the tables above must exist). */
static uint64_t *entry_at(uint64_t iova, unsigned level)
{
    uint64_t table = T.root;

    for (unsigned l = T.params.levels;; l--) {
        uint64_t *tbl = tmem_live(&mem, table);
        uint64_t *e = &tbl[(iova >> (12 + 9 * (l - 1))) & 511];

        if (l == level)
            return e;
        table = *e & PGTABLE_ADDR_MASK;
    }
}

/* Change an entry as the CPU would, and flush it. */
static void poke(uint64_t iova, unsigned level, uint64_t v)
{
    uint64_t *e = entry_at(iova, level);

    *e = v;
    tmem_flush(&mem, e, 8);
}

TEST(params_and_names)
{
    static const struct pgtable_params bad[] = {
        {.format = PGTABLE_SECOND_STAGE, .levels = 2},
        {.format = PGTABLE_SECOND_STAGE, .levels = 6},
        {.format = PGTABLE_FIRST_STAGE, .levels = 3},
        {.format = PGTABLE_SECOND_STAGE, .levels = 4, .phys_bits = 20},
        {.format = PGTABLE_SECOND_STAGE, .levels = 4, .phys_bits = 53},
        {.format = PGTABLE_SECOND_STAGE, .levels = 4, .large_pages = 4},
        {.format = (enum pgtable_format)7, .levels = 4},
    };
    struct pgtable_mem_ops ops;

    tmem_init(&mem, 16);
    ops = tmem_ops(&mem);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        EXPECT_ERR(pgtable_init(&T, &bad[i], &ops), PGTABLE_ERR_PARAMS);
    ops.alloc_page = NULL;
    EXPECT_ERR(pgtable_init(&T, &(struct pgtable_params){.levels = 4}, &ops), PGTABLE_ERR_PARAMS);
    /* A failed init leaves nothing to destroy, and an unset table refuses work. */
    EXPECT_ERR(pgtable_map(&T, 0, 0, PG, RW), PGTABLE_ERR_PARAMS);
    pgtable_destroy(&T);
    CHECK(mem.in_use == 0 && mem.allocs == 0, "init failures allocated pages");
    tmem_fini(&mem);

    /* Every code has its own name. */
    for (int a = PGTABLE_ERR_BAD_PAGE; a <= PGTABLE_OK; a++) {
        CHECK(strcmp(pgtable_strerror(a), "unknown error") != 0, "no name for %d", a);
        for (int b = a + 1; b <= PGTABLE_OK; b++)
            CHECK(strcmp(pgtable_strerror(a), pgtable_strerror(b)) != 0, "%d and %d", a, b);
    }
    CHECK(strcmp(pgtable_strerror(-100), "unknown error") == 0, "unknown code");
    for (int f = PGTABLE_XLATE_OK; f <= PGTABLE_FAULT_PRIVILEGE; f++)
        CHECK(strcmp(pgtable_fault_name(f), "unknown") != 0, "no name for fault %d", f);
}

/* One 4 KiB page in every format and level count: translation, neighbours,
 * the tables it took, and that unmap + reclaim gives them all back. */
TEST(one_page_all_levels)
{
    for (size_t i = 0; i < sizeof(all_cfgs) / sizeof(all_cfgs[0]); i++) {
        const struct tcfg *c = &all_cfgs[i];
        uint64_t iova = 0x7654321000ULL, phys = 0x12345000ULL, done = 0;

        setup(c);
        CHECK(T.table_pages == 1 && mem.in_use == 1, "%s: root only", c->name);
        CHECK(pgtable_root(&T) == T.root && T.root != 0, "%s: root", c->name);
        CHECK(pgtable_width(&T.params) == 12 + 9 * c->levels, "%s: width", c->name);
        EXPECT_ERR(pgtable_map(&T, iova, phys, PG, RW), PGTABLE_OK);
        CHECK(T.table_pages == c->levels && mem.in_use == c->levels, "%s: %zu tables", c->name,
              T.table_pages);
        EXPECT_OK(iova, ACC_R | ACC_W, phys, PG);
        EXPECT_OK(iova + 0xabc, ACC_R, phys + 0xabc, PG);
        EXPECT_FAULT(iova - PG, ACC_R, PGTABLE_FAULT_NOT_PRESENT, 1);
        EXPECT_FAULT(iova + PG, ACC_R, PGTABLE_FAULT_NOT_PRESENT, 1);
        EXPECT_FAULT(iova ^ MIB2, ACC_R, PGTABLE_FAULT_NOT_PRESENT, 2);
        EXPECT_FAULT(iova ^ GIB, ACC_R, PGTABLE_FAULT_NOT_PRESENT, 3);
        EXPECT_FAULT(iova ^ (1ULL << (3 + 9 * c->levels)), ACC_R, PGTABLE_FAULT_NOT_PRESENT,
                     c->levels);

        EXPECT_ERR(pgtable_unmap(&T, iova, PG, &done), PGTABLE_OK);
        CHECK(done == PG, "%s: unmapped %#llx", c->name, (unsigned long long)done);
        EXPECT_FAULT(iova, ACC_R, PGTABLE_FAULT_NOT_PRESENT, c->levels);
        /* Emptied tables wait for the caller's invalidation. */
        CHECK(mem.in_use == c->levels, "%s: freed before reclaim", c->name);
        pgtable_reclaim(&T);
        CHECK(T.table_pages == 1 && mem.in_use == 1, "%s: %zu pages after reclaim", c->name,
              mem.in_use);
        teardown(c->name);
    }
}

/* Exact bits of table and leaf entries (9.7, 9.8). */
TEST(entry_encoding)
{
    const uint64_t iova = 0x40000000ULL, phys = 0x80000000ULL;
    struct tcfg ss = {"ss", PGTABLE_SECOND_STAGE, 4, PGTABLE_LARGE_2M, true, true, 0};
    struct tcfg fs = {"fs", PGTABLE_FIRST_STAGE, 4, 0, false, true, 0};

    /* Second stage with SSADE and presets: A everywhere, D in leaves. */
    setup(&ss);
    pgtable_map(&T, iova, phys, PG, RW);
    pgtable_map(&T, iova + MIB2, phys + MIB2, MIB2, PGTABLE_R);
    pgtable_map(&T, iova + 2 * MIB2, phys, PG, PGTABLE_R | PGTABLE_X);
    CHECK_EQ_U64(*entry_at(iova, 1), phys | 0x3 | 0x300);
    CHECK_EQ_U64(*entry_at(iova + MIB2, 2), (phys + MIB2) | 0x1 | 0x80 | 0x300);
    CHECK_EQ_U64(*entry_at(iova + 2 * MIB2, 1), phys | 0x5 | 0x300);
    /* The X path: the L2 entry above an X leaf gets X, the other does not. */
    CHECK_EQ_U64(*entry_at(iova, 2) & 0xfff, 0x3 | 0x100);
    CHECK_EQ_U64(*entry_at(iova + 2 * MIB2, 2) & 0xfff, 0x7 | 0x100);
    CHECK_EQ_U64(*entry_at(iova, 4) & 0xfff, 0x7 | 0x100);
    teardown(ss.name);

    /* Without SSADE bits 8/9 stay clear even when presets are asked for. */
    ss.ssade = false;
    setup(&ss);
    pgtable_map(&T, iova, phys, PG, PGTABLE_W);
    CHECK_EQ_U64(*entry_at(iova, 1), phys | 0x2);
    CHECK_EQ_U64(*entry_at(iova, 3) & ~PGTABLE_ADDR_MASK, 0x3);
    teardown(ss.name);

    /* First stage: P|RW|US|A|D leaves, P|RW|US|A tables, XD never. */
    setup(&fs);
    pgtable_map(&T, iova, phys, PG, RW);
    pgtable_map(&T, iova + PG, phys, PG, PGTABLE_R | PGTABLE_SUPERVISOR);
    pgtable_map(&T, iova + MIB2, phys + MIB2, MIB2, RW | PGTABLE_X);
    CHECK_EQ_U64(*entry_at(iova, 1), phys | 0x67);
    CHECK_EQ_U64(*entry_at(iova + PG, 1), phys | 0x61);
    CHECK_EQ_U64(*entry_at(iova + MIB2, 2), (phys + MIB2) | 0x67 | 0x80);
    for (unsigned l = 2; l <= 4; l++)
        CHECK_EQ_U64(*entry_at(iova, l) & ~PGTABLE_ADDR_MASK, 0x27);
    teardown(fs.name);

    /* First stage without presets: A/D left to the IOMMU. */
    fs.preset = false;
    setup(&fs);
    pgtable_map(&T, iova, phys, PG, RW);
    CHECK_EQ_U64(*entry_at(iova, 1), phys | 0x7);
    CHECK_EQ_U64(*entry_at(iova, 4) & ~PGTABLE_ADDR_MASK, 0x7);
    teardown(fs.name);
}

/* Map 1 GiB + 2 MiB + 4 KiB and see which leaves come out. */
static void check_selection(const struct tcfg *c, uint64_t phys_skew, unsigned flags)
{
    const uint64_t iova = 3 * GIB, phys = 5 * GIB + phys_skew, size = GIB + MIB2 + PG;
    bool fs = c->format == PGTABLE_FIRST_STAGE;
    bool can2m = !(flags & PGTABLE_4K_ONLY) && (fs || (c->large & PGTABLE_LARGE_2M));
    bool can1g = !(flags & PGTABLE_4K_ONLY) && (c->large & PGTABLE_LARGE_1G);
    uint64_t big = PG, mid = PG;

    if (can2m && !(phys_skew % MIB2))
        big = mid = MIB2;
    if (can1g && !(phys_skew % GIB))
        big = GIB;
    setup(c);
    EXPECT_ERR(pgtable_map(&T, iova, phys, size, RW | flags), PGTABLE_OK);
    EXPECT_OK(iova, ACC_W, phys, big);
    EXPECT_OK(iova + GIB - PG, ACC_R, phys + GIB - PG, big);
    EXPECT_OK(iova + 0x12345678, ACC_R, phys + 0x12345678, big);
    EXPECT_OK(iova + GIB, ACC_R, phys + GIB, mid);
    EXPECT_OK(iova + GIB + MIB2 - 8, ACC_R, phys + GIB + MIB2 - 8, mid);
    EXPECT_OK(iova + GIB + MIB2, ACC_R, phys + GIB + MIB2, PG);
    EXPECT_FAULT(iova + size, ACC_R, PGTABLE_FAULT_NOT_PRESENT, 1);
    EXPECT_FAULT(iova - PG, ACC_R, PGTABLE_FAULT_NOT_PRESENT, 3);
    /* The tables: one per level above the PDPEs, a PD for each gigabyte
     * unless it is one leaf, and page tables for every 4 KiB run. */
    size_t want = c->levels - 2 + (big != GIB) + 1 + (big == PG ? 512 : 0) + (mid == PG) + 1;
    CHECK(T.table_pages == want, "%s skew %#llx: %zu tables, want %zu", c->name,
          (unsigned long long)phys_skew, T.table_pages, want);
    teardown(c->name);
}

TEST(large_page_selection)
{
    static const unsigned larges[] = {0, PGTABLE_LARGE_2M, PGTABLE_LARGE_2M | PGTABLE_LARGE_1G,
                                      PGTABLE_LARGE_1G};

    for (unsigned f = 0; f < 2; f++) {
        for (size_t i = 0; i < sizeof(larges) / sizeof(larges[0]); i++) {
            struct tcfg c = {
                .name = f ? "fs4" : "ss4",
                .format = f ? PGTABLE_FIRST_STAGE : PGTABLE_SECOND_STAGE,
                .levels = 4,
                .large = larges[i],
            };

            check_selection(&c, 0, 0);
            check_selection(&c, MIB2, 0);
            check_selection(&c, PG, 0);
            check_selection(&c, 0, PGTABLE_4K_ONLY);
        }
    }
}

/* A range that starts and ends off 2 MiB boundaries: 4 KiB head and tail,
 * 2 MiB middle; and a 1 GiB page only where the range covers it. */
TEST(large_page_unaligned_range)
{
    const struct tcfg c = {
        "ss3", PGTABLE_SECOND_STAGE, 3, PGTABLE_LARGE_2M | PGTABLE_LARGE_1G, false, false, 0};
    const uint64_t iova = GIB - 3 * PG, phys = 7 * GIB - 3 * PG;
    const uint64_t size = 3 * PG + GIB + 5 * MIB2 + 7 * PG;

    setup(&c);
    EXPECT_ERR(pgtable_map(&T, iova, phys, size, PGTABLE_R), PGTABLE_OK);
    EXPECT_OK(iova, ACC_R, phys, PG);
    EXPECT_OK(GIB - PG, ACC_R, 7 * GIB - PG, PG);
    EXPECT_OK(GIB, ACC_R, 7 * GIB, GIB);
    EXPECT_OK(2 * GIB + 4 * MIB2, ACC_R, 8 * GIB + 4 * MIB2, MIB2);
    EXPECT_OK(2 * GIB + 5 * MIB2, ACC_R, 8 * GIB + 5 * MIB2, PG);
    EXPECT_OK(2 * GIB + 5 * MIB2 + 6 * PG, ACC_R, 8 * GIB + 5 * MIB2 + 6 * PG, PG);
    EXPECT_FAULT(2 * GIB + 5 * MIB2 + 7 * PG, ACC_R, PGTABLE_FAULT_NOT_PRESENT, 1);
    EXPECT_FAULT(iova - PG, ACC_R, PGTABLE_FAULT_NOT_PRESENT, 1);
    teardown(c.name);
}

TEST(permissions)
{
    const struct tcfg ss = {"ss4", PGTABLE_SECOND_STAGE, 4, PGTABLE_LARGE_2M, false, false, 0};
    const struct tcfg fs = {"fs4", PGTABLE_FIRST_STAGE, 4, 0, false, false, 0};
    struct pgtable_xlate x;

    setup(&ss);
    pgtable_map(&T, 0x1000, 0x5000, PG, PGTABLE_R);
    pgtable_map(&T, 0x2000, 0x6000, PG, PGTABLE_W);
    pgtable_map(&T, 0x3000, 0x7000, PG, PGTABLE_R | PGTABLE_X);
    pgtable_map(&T, MIB2, 0, MIB2, PGTABLE_R);
    EXPECT_OK(0x1000, ACC_R, 0x5000, PG);
    EXPECT_FAULT(0x1000, ACC_W, PGTABLE_FAULT_WRITE, 1);
    EXPECT_FAULT(0x1000, ACC_R | ACC_W, PGTABLE_FAULT_WRITE, 1);
    EXPECT_FAULT(0x1000, PGTABLE_ACC_EXEC, PGTABLE_FAULT_EXEC, 1);
    EXPECT_OK(0x2000, ACC_W, 0x6000, PG);
    EXPECT_FAULT(0x2000, ACC_R, PGTABLE_FAULT_READ, 1);
    EXPECT_OK(0x3000, ACC_R | PGTABLE_ACC_EXEC, 0x7000, PG);
    EXPECT_FAULT(MIB2 + 0x1234, ACC_W, PGTABLE_FAULT_WRITE, 2);
    x = walk(0x1000, ACC_W);
    CHECK(x.perms == PGTABLE_R && x.phys == 0x5000, "perms %#x", x.perms);
    teardown(ss.name);

    setup(&fs);
    pgtable_map(&T, 0x1000, 0x5000, PG, PGTABLE_R);
    pgtable_map(&T, 0x2000, 0x6000, PG, RW | PGTABLE_SUPERVISOR);
    EXPECT_OK(0x1000, ACC_R | PGTABLE_ACC_EXEC, 0x5000, PG);
    EXPECT_FAULT(0x1000, ACC_W, PGTABLE_FAULT_WRITE, 1);
    EXPECT_FAULT(0x1000, ACC_W | PGTABLE_ACC_SUPERVISOR, PGTABLE_FAULT_WRITE, 1);
    EXPECT_FAULT(0x2000, ACC_R, PGTABLE_FAULT_PRIVILEGE, 1);
    EXPECT_OK(0x2000, ACC_W | PGTABLE_ACC_SUPERVISOR, 0x6000, PG);
    x = walk(0x2000, ACC_R);
    CHECK(x.perms == (RW | PGTABLE_X | PGTABLE_SUPERVISOR), "perms %#x", x.perms);
    teardown(fs.name);
}

/* The ends of every address space; the first stage's canonical halves. */
TEST(address_width)
{
    for (size_t i = 0; i < sizeof(all_cfgs) / sizeof(all_cfgs[0]); i++) {
        const struct tcfg *c = &all_cfgs[i];
        unsigned w = 12 + 9 * c->levels;
        bool fs = c->format == PGTABLE_FIRST_STAGE;
        uint64_t top = fs ? 1ULL << (w - 1) : 1ULL << w; /* end of the lower range */

        setup(c);
        EXPECT_ERR(pgtable_map(&T, top - PG, 0x9000, PG, RW), PGTABLE_OK);
        EXPECT_OK(top - 1, ACC_R, 0x9fff, PG);
        EXPECT_ERR(pgtable_map(&T, top, 0x9000, PG, RW), PGTABLE_ERR_RANGE);
        EXPECT_ERR(pgtable_map(&T, top - PG, 0x9000, 2 * PG, RW), PGTABLE_ERR_RANGE);
        EXPECT_ERR(pgtable_map(&T, ~0ULL - PG + 1, 0, 2 * PG, RW), PGTABLE_ERR_RANGE);
        EXPECT_ERR(pgtable_unmap(&T, top, PG, NULL), PGTABLE_ERR_RANGE);
        EXPECT_FAULT(top, ACC_R, PGTABLE_FAULT_ADDR_WIDTH, 0);
        EXPECT_FAULT(1ULL << 63, ACC_R, PGTABLE_FAULT_ADDR_WIDTH, 0);
        EXPECT_ERR(pgtable_map(&T, 0, 0xa000, PG, RW), PGTABLE_OK);
        EXPECT_OK(0, ACC_W, 0xa000, PG);
        if (fs) {
            /* The upper half: sign-extended addresses translate too. */
            uint64_t hi = 0 - top;
            EXPECT_ERR(pgtable_map(&T, hi - PG, 0, PG, RW), PGTABLE_ERR_RANGE);
            EXPECT_ERR(pgtable_map(&T, hi, 0xb000, PG, RW), PGTABLE_OK);
            EXPECT_ERR(pgtable_map(&T, 0 - PG, 0xc000, PG, RW), PGTABLE_OK);
            EXPECT_OK(hi + 5, ACC_R, 0xb005, PG);
            EXPECT_OK(~0ULL, ACC_R, 0xcfff, PG);
            EXPECT_FAULT(hi - 1, ACC_R, PGTABLE_FAULT_ADDR_WIDTH, 0);
            EXPECT_FAULT(hi + PG, ACC_R, PGTABLE_FAULT_NOT_PRESENT, 1);
            /* The two halves do not alias each other. */
            EXPECT_FAULT(top - 2 * PG, ACC_R, PGTABLE_FAULT_NOT_PRESENT, 1);
            EXPECT_ERR(pgtable_unmap(&T, hi, top, NULL), PGTABLE_OK);
            EXPECT_FAULT(~0ULL, ACC_R, PGTABLE_FAULT_NOT_PRESENT, c->levels);
        }
        teardown(c->name);
    }
}

TEST(map_errors)
{
    const struct tcfg ss = {"ss4", PGTABLE_SECOND_STAGE, 4, PGTABLE_LARGE_2M, false, false, 0};
    const struct tcfg fs = {"fs4", PGTABLE_FIRST_STAGE, 4, 0, false, false, 0};
    const uint64_t base = 0x200000000ULL;
    size_t tables;

    setup(&ss);
    EXPECT_ERR(pgtable_map(&T, base + 1, 0, PG, RW), PGTABLE_ERR_ALIGN);
    EXPECT_ERR(pgtable_map(&T, base, 0x800, PG, RW), PGTABLE_ERR_ALIGN);
    EXPECT_ERR(pgtable_map(&T, base, 0, PG + 1, RW), PGTABLE_ERR_ALIGN);
    EXPECT_ERR(pgtable_map(&T, base, 0, 0, RW), PGTABLE_ERR_ALIGN);
    EXPECT_ERR(pgtable_map(&T, base, 1ULL << 46, PG, RW), PGTABLE_ERR_PHYS);
    EXPECT_ERR(pgtable_map(&T, base, (1ULL << 46) - PG, 2 * PG, RW), PGTABLE_ERR_PHYS);
    EXPECT_ERR(pgtable_map(&T, base, 0, PG, 0), PGTABLE_ERR_PERM);
    EXPECT_ERR(pgtable_map(&T, base, 0, PG, PGTABLE_X), PGTABLE_ERR_PERM);
    EXPECT_ERR(pgtable_map(&T, base, 0, PG, RW | PGTABLE_SUPERVISOR), PGTABLE_ERR_PERM);
    EXPECT_ERR(pgtable_map(&T, base, 0, PG, RW | 0x100), PGTABLE_ERR_PARAMS);
    CHECK(T.table_pages == 1 && mem.allocs == 1, "rejected maps allocated tables");

    /* Overlaps: a 2 MiB page at base, 4 KiB pages just above it. */
    EXPECT_ERR(pgtable_map(&T, base, 0x40000000, MIB2, RW), PGTABLE_OK);
    EXPECT_ERR(pgtable_map(&T, base + MIB2, 0x50000000, 4 * PG, PGTABLE_R), PGTABLE_OK);
    tables = T.table_pages;
    EXPECT_ERR(pgtable_map(&T, base, 0x60000000, MIB2, RW), PGTABLE_ERR_EXISTS);
    EXPECT_ERR(pgtable_map(&T, base + 5 * PG, 0x60000000, PG, RW), PGTABLE_ERR_EXISTS);
    EXPECT_ERR(pgtable_map(&T, base - PG, 0x60000000, 2 * PG, RW), PGTABLE_ERR_EXISTS);
    EXPECT_ERR(pgtable_map(&T, base + MIB2 + 3 * PG, 0x60000000, 2 * PG, RW), PGTABLE_ERR_EXISTS);
    EXPECT_ERR(pgtable_map(&T, base + MIB2, 0x60000000, MIB2, RW), PGTABLE_ERR_EXISTS);
    EXPECT_ERR(pgtable_map(&T, base - GIB, 0x60000000, 4 * GIB, RW), PGTABLE_ERR_EXISTS);
    CHECK(T.table_pages == tables, "failed maps changed the tables");
    EXPECT_OK(base + 5, ACC_W, 0x40000005, MIB2);
    EXPECT_OK(base + MIB2 + 3 * PG, ACC_R, 0x50003000, PG);
    EXPECT_FAULT(base + MIB2 + 4 * PG, ACC_R, PGTABLE_FAULT_NOT_PRESENT, 1);
    EXPECT_FAULT(base - PG, ACC_R, PGTABLE_FAULT_NOT_PRESENT, 3);
    /* The gap right after the 4 KiB pages is still free. */
    EXPECT_ERR(pgtable_map(&T, base + MIB2 + 4 * PG, 0x60000000, PG, RW), PGTABLE_OK);
    teardown(ss.name);

    setup(&fs);
    EXPECT_ERR(pgtable_map(&T, base, 0, PG, PGTABLE_W), PGTABLE_ERR_PERM);
    EXPECT_ERR(pgtable_map(&T, base, 0, PG, 0), PGTABLE_ERR_PERM);
    EXPECT_ERR(pgtable_map(&T, base, 0, PG, PGTABLE_R | PGTABLE_SUPERVISOR), PGTABLE_OK);
    teardown(fs.name);
}

TEST(unmap_split_and_holes)
{
    const struct tcfg c = {
        "ss4", PGTABLE_SECOND_STAGE, 4, PGTABLE_LARGE_2M | PGTABLE_LARGE_1G, false, false, 0};
    const uint64_t base = 4 * GIB;
    uint64_t done = 1;

    setup(&c);
    EXPECT_ERR(pgtable_unmap(&T, base, GIB, &done), PGTABLE_OK);
    CHECK(done == 0, "empty unmap reported %#llx", (unsigned long long)done);
    EXPECT_ERR(pgtable_map(&T, base, 8 * GIB, GIB + MIB2 + PG, RW), PGTABLE_OK);
    EXPECT_ERR(pgtable_unmap(&T, base, PG, &done), PGTABLE_ERR_SPLIT);
    CHECK(done == 0, "failed unmap reported %#llx", (unsigned long long)done);
    EXPECT_ERR(pgtable_unmap(&T, base + GIB + PG, MIB2, NULL), PGTABLE_ERR_SPLIT);
    EXPECT_ERR(pgtable_unmap(&T, base + GIB - PG, 2 * PG, NULL), PGTABLE_ERR_SPLIT);
    EXPECT_OK(base, ACC_W, 8 * GIB, GIB);
    EXPECT_OK(base + GIB, ACC_W, 9 * GIB, MIB2);
    EXPECT_ERR(pgtable_unmap(&T, base + 1, PG, NULL), PGTABLE_ERR_ALIGN);
    EXPECT_ERR(pgtable_unmap(&T, base, 0, NULL), PGTABLE_ERR_ALIGN);
    /* Whole leaves go, holes around them are fine. */
    EXPECT_ERR(pgtable_unmap(&T, base + GIB - MIB2, 2 * MIB2, &done), PGTABLE_ERR_SPLIT);
    EXPECT_ERR(pgtable_unmap(&T, base + GIB, MIB2, &done), PGTABLE_OK);
    CHECK(done == MIB2, "unmapped %#llx", (unsigned long long)done);
    EXPECT_OK(base + GIB + MIB2, ACC_R, 9 * GIB + MIB2, PG);
    EXPECT_ERR(pgtable_unmap(&T, base - GIB, 4 * GIB, &done), PGTABLE_OK);
    CHECK(done == GIB + PG, "unmapped %#llx", (unsigned long long)done);
    EXPECT_FAULT(base, ACC_R, PGTABLE_FAULT_NOT_PRESENT, 4);
    pgtable_reclaim(&T);
    CHECK(T.table_pages == 1 && mem.in_use == 1, "%zu pages left", mem.in_use);
    teardown(c.name);
}

/* Fail the k-th allocation of a map that needs several tables, for every k:
 * the map fails whole, the old mapping stays, nothing leaks. */
TEST(allocation_failure)
{
    for (size_t i = 0; i < sizeof(all_cfgs) / sizeof(all_cfgs[0]); i++) {
        const struct tcfg *c = &all_cfgs[i];
        /* Across the last PML4E boundary below the top (a PDPE one for ss3). */
        const uint64_t edge = c->levels == 3 ? 256 * GIB : 512 * GIB;
        const uint64_t iova = edge - 2 * MIB2 - 2 * PG, size = 5 * MIB2;
        bool mapped = false;
        int failures = 0;

        setup(c);
        EXPECT_ERR(pgtable_map(&T, iova - PG, 0x1000, PG, RW), PGTABLE_OK);
        for (long k = 0; !mapped && k < 64; k++) {
            size_t before = T.table_pages;
            int err;

            mem.fail_at = (long)mem.allocs + k;
            err = pgtable_map(&T, iova, 0x40000000, size, RW | PGTABLE_4K_ONLY);
            mem.fail_at = -1;
            if (err == PGTABLE_OK) {
                mapped = true;
                break;
            }
            CHECK(err == PGTABLE_ERR_NOMEM, "%s k=%ld: %s", c->name, k, pgtable_strerror(err));
            failures++;
            for (uint64_t a = iova; a < iova + size; a += PG)
                EXPECT_FAULT(a, ACC_R, PGTABLE_FAULT_NOT_PRESENT, 0);
            EXPECT_OK(iova - PG, ACC_R, 0x1000, PG);
            pgtable_reclaim(&T);
            CHECK(T.table_pages == before && mem.in_use == before,
                  "%s k=%ld: %zu tables, %zu before", c->name, k, T.table_pages, before);
        }
        /* New tables right of the edge: a PD (and a PDPT unless ss3), and
         * five page tables: one allocation fails per k until the last. */
        int want = 5 + (c->levels == 3 ? 1 : 2);
        CHECK(mapped && failures == want, "%s: mapped %d after %d failures, want %d", c->name,
              mapped, failures, want);
        EXPECT_OK(iova + size - 1, ACC_W, 0x40000000 + size - 1, PG);

        /* An allocator that hands out a page the IOMMU cannot reach. */
        mem.fail_at = (long)mem.allocs;
        mem.bad_phys = 1ULL << 50;
        EXPECT_ERR(pgtable_map(&T, 0, 0, PG, RW), PGTABLE_ERR_BAD_PAGE);
        CHECK(mem.bad_frees == 1, "%s: bad page not given back", c->name);
        mem.fail_at = -1;
        mem.bad_phys = 0;
        teardown(c->name);
    }
}

/* Tables retired by unmap still read as empty until reclaim: an IOMMU with
 * a stale cached pointer finds nothing present there. */
TEST(retired_tables_read_empty)
{
    const struct tcfg c = {"ss4", PGTABLE_SECOND_STAGE, 4, 0, false, false, 0};
    uint64_t l1[3];

    setup(&c);
    for (int i = 0; i < 3; i++) {
        pgtable_map(&T, (uint64_t)i * GIB, 0x100000, 3 * PG, RW);
        l1[i] = *entry_at((uint64_t)i * GIB, 2) & PGTABLE_ADDR_MASK;
    }
    EXPECT_ERR(pgtable_unmap(&T, 0, 3 * GIB, NULL), PGTABLE_OK);
    CHECK(T.table_pages == 8 && mem.in_use == 8, "%zu pages held", T.table_pages);
    for (int i = 0; i < 3; i++) {
        const uint64_t *live = tmem_live(&mem, l1[i]), *shadow = tmem_shadow(&mem, l1[i]);
        for (int j = 0; j < 512; j++)
            CHECK(!(live[j] & 3) && !(shadow[j] & 3), "retired table %d entry %d", i, j);
    }
    pgtable_reclaim(&T);
    CHECK(T.table_pages == 1 && mem.in_use == 1, "%zu pages after reclaim", mem.in_use);
    pgtable_reclaim(&T);
    teardown(c.name);
}

/* Destroy with live mappings and pending tables frees everything. */
TEST(destroy_frees_all)
{
    for (size_t i = 0; i < sizeof(all_cfgs) / sizeof(all_cfgs[0]); i++) {
        const struct tcfg *c = &all_cfgs[i];

        setup(c);
        for (uint64_t a = 0; a < 64; a++)
            EXPECT_ERR(pgtable_map(&T, a * 7 * GIB + a * MIB2, a * MIB2, MIB2 + PG, RW),
                       PGTABLE_OK);
        pgtable_unmap(&T, 7 * GIB + MIB2, MIB2 + PG, NULL);
        CHECK(T.table_pages == mem.in_use, "%s: table_pages %zu, allocator %zu", c->name,
              T.table_pages, mem.in_use);
        teardown(c->name);
    }
}

TEST(map_ranges)
{
    const struct tcfg c = {"fs4", PGTABLE_FIRST_STAGE, 4, 0, false, true, 0};
    const struct pgtable_range r[] = {
        {0x100000, 0x3000},
        {0x400000, MIB2},
        {0x7000000, PG},
        {0x101000, PG},
    };

    setup(&c);
    EXPECT_ERR(pgtable_map_ranges(&T, r, 3, 0, RW), PGTABLE_OK);
    EXPECT_OK(0x102fff, ACC_W, 0x102fff, PG);
    EXPECT_OK(0x400000, ACC_W, 0x400000, MIB2);
    EXPECT_OK(0x7000000, ACC_R, 0x7000000, PG);
    /* An offset list: iova = phys - 0x100000 (a "negative" offset). */
    EXPECT_ERR(pgtable_map_ranges(&T, r, 1, 0 - 0x100000ULL, PGTABLE_R), PGTABLE_OK);
    EXPECT_OK(0x1000, ACC_R, 0x101000, PG);
    EXPECT_FAULT(0x2000, ACC_W, PGTABLE_FAULT_WRITE, 1);
    EXPECT_FAULT(0x3000, ACC_R, PGTABLE_FAULT_NOT_PRESENT, 1);
    /* All or nothing: range 3 overlaps range 0, ranges 0-2 are undone. */
    EXPECT_ERR(pgtable_map_ranges(&T, r, 4, 16 * GIB, RW), PGTABLE_ERR_EXISTS);
    for (size_t i = 0; i < 3; i++)
        EXPECT_FAULT(16 * GIB + r[i].phys, ACC_R, PGTABLE_FAULT_NOT_PRESENT, 0);
    pgtable_unmap(&T, 0, 64 * GIB, NULL);
    pgtable_reclaim(&T);
    CHECK(mem.in_use == 1, "%zu pages after undo", mem.in_use);
    teardown(c.name);
}

/* Entries changed by hand: the walker reports what the IOMMU would. */
TEST(walker_faults)
{
    const struct tcfg ss = {"ss4", PGTABLE_SECOND_STAGE, 4, PGTABLE_LARGE_2M, false, false, 0};
    const struct tcfg fs = {"fs4", PGTABLE_FIRST_STAGE, 4, 0, false, false, 0};
    const uint64_t a = 0x8040201000ULL, b = 0x8040400000ULL; /* 4 KiB and 2 MiB */
    uint64_t e;

    setup(&ss);
    pgtable_map(&T, a, 0x3000, PG, RW);
    pgtable_map(&T, b, 0x600000, MIB2, RW);
    EXPECT_OK(a, ACC_W, 0x3000, PG);
    EXPECT_OK(b, ACC_W, 0x600000, MIB2);
    static const struct {
        unsigned level;
        uint64_t bits;
        enum pgtable_fault f;
    } pokes[] = {
        {4, 1ULL << 7, PGTABLE_FAULT_RESERVED},  /* PS in a PML4E */
        {3, 1ULL << 7, PGTABLE_FAULT_RESERVED},  /* 1 GiB page without SLLPS bit 1 */
        {1, 1ULL << 62, PGTABLE_FAULT_RESERVED}, /* TM */
        {1, 1ULL << 11, PGTABLE_FAULT_RESERVED}, /* SNP */
        {2, 1ULL << 46, PGTABLE_FAULT_RESERVED}, /* beyond phys_bits (46) */
        {4, 1ULL << 51, PGTABLE_FAULT_RESERVED},
        {1, 1ULL << 7, PGTABLE_XLATE_OK},  /* bit 7 of an SS-PTE: ignored */
        {1, 3ULL << 8, PGTABLE_XLATE_OK},  /* A/D without SSADE: ignored */
        {3, 3ULL << 52, PGTABLE_XLATE_OK}, /* ignored bits 61:52 */
        {1, 1ULL << 63, PGTABLE_XLATE_OK}, /* ignored bit 63 */
    };
    for (size_t i = 0; i < sizeof(pokes) / sizeof(pokes[0]); i++) {
        e = *entry_at(a, pokes[i].level);
        poke(a, pokes[i].level, e | pokes[i].bits);
        EXPECT_FAULT(a + 8, ACC_R, pokes[i].f, pokes[i].f ? pokes[i].level : 1);
        poke(a, pokes[i].level, e);
    }
    /* 2 MiB leaf: address bits 20:12 are reserved. */
    e = *entry_at(b, 2);
    poke(b, 2, e | PG);
    EXPECT_FAULT(b, ACC_R, PGTABLE_FAULT_RESERVED, 2);
    poke(b, 2, e);
    /* Not present part way down, and a table pointer nobody can follow. */
    e = *entry_at(a, 3);
    poke(a, 3, 0);
    EXPECT_FAULT(a, ACC_R, PGTABLE_FAULT_NOT_PRESENT, 3);
    poke(a, 3, 0x1000 | 3);
    EXPECT_FAULT(a, ACC_R, PGTABLE_FAULT_TABLE_ADDR, 2);
    poke(a, 3, e);
    /* An unflushed write is invisible to a non-coherent IOMMU. */
    *entry_at(a, 1) = 0;
    EXPECT_OK(a, ACC_R, 0x3000, PG);
    tmem_flush(&mem, entry_at(a, 1), 8);
    EXPECT_FAULT(a, ACC_R, PGTABLE_FAULT_NOT_PRESENT, 1);
    teardown(ss.name);

    setup(&fs);
    pgtable_map(&T, b, 0x600000, MIB2, RW);
    e = *entry_at(b, 2);
    poke(b, 2, e | PG); /* bit 12 is PAT in a 2 MiB first-stage leaf */
    EXPECT_OK(b + 5, ACC_R, 0x600005, MIB2);
    poke(b, 2, e | 2 * PG);
    EXPECT_FAULT(b, ACC_R, PGTABLE_FAULT_RESERVED, 2);
    poke(b, 2, e | PGTABLE_FS_XD);
    EXPECT_OK(b, ACC_R, 0x600000, MIB2);
    EXPECT_FAULT(b, PGTABLE_ACC_EXEC, PGTABLE_FAULT_EXEC, 2);
    poke(b, 2, e & ~PGTABLE_FS_US);
    EXPECT_FAULT(b, ACC_R, PGTABLE_FAULT_PRIVILEGE, 2);
    poke(b, 2, e);
    e = *entry_at(b, 3);
    poke(b, 3, e | PGTABLE_FS_PS); /* 1 GiB page without FS1GP */
    EXPECT_FAULT(b, ACC_R, PGTABLE_FAULT_RESERVED, 3);
    poke(b, 3, e & ~PGTABLE_FS_RW); /* read-only higher up wins */
    EXPECT_FAULT(b, ACC_W, PGTABLE_FAULT_WRITE, 2);
    poke(b, 3, e);
    EXPECT_FAULT(0x0000800000000000ULL, ACC_R, PGTABLE_FAULT_ADDR_WIDTH, 0);
    teardown(fs.name);
}

/* The harness itself: a builder that forgot to flush would be caught. */
TEST(missing_flush_is_caught)
{
    const struct tcfg c = {"ss4", PGTABLE_SECOND_STAGE, 4, 0, false, false, 0};
    struct pgtable_params p = {.format = c.format, .levels = c.levels};
    struct pgtable_mem_ops ops;
    struct pgtable_xlate x;

    tmem_init(&mem, 64);
    ops = tmem_ops(&mem);
    ops.flush = NULL; /* a coherent walker: no flush calls at all */
    EXPECT_ERR(pgtable_init(&T, &p, &ops), PGTABLE_OK);
    EXPECT_ERR(pgtable_map(&T, 0x5000, 0x9000, PG, RW), PGTABLE_OK);
    x = walk(0x5000, ACC_R);
    CHECK(x.fault != PGTABLE_XLATE_OK, "stale memory went unnoticed");
    pgtable_translate(&T, 0x5000, ACC_R, &x); /* the CPU's view is right */
    CHECK(x.fault == PGTABLE_XLATE_OK && x.phys == 0x9000, "coherent walk: %s",
          pgtable_fault_name(x.fault));
    CHECK(mem.flushes == 0, "flushed %lu times", mem.flushes);
    teardown(c.name);
}

TEST(xlate_format)
{
    const struct tcfg c = {"ss4", PGTABLE_SECOND_STAGE, 4, PGTABLE_LARGE_2M, false, false, 0};
    struct pgtable_xlate x;
    char buf[256], small[16];
    int n;

    setup(&c);
    pgtable_map(&T, MIB2, 0x40000000, MIB2, PGTABLE_R);
    x = walk(MIB2 + 0x10, ACC_R);
    n = pgtable_xlate_format(&x, MIB2 + 0x10, buf, sizeof(buf));
    CHECK(n == (int)strlen(buf), "length %d for '%s'", n, buf);
    CHECK(strstr(buf, "iova=0x200010 ok level=2 phys=0x40000010 size=2M") && strstr(buf, " L4=") &&
              strstr(buf, " L2=0x40000081") && !strstr(buf, " L1="),
          "'%s'", buf);
    x = walk(MIB2, ACC_W);
    pgtable_xlate_format(&x, MIB2, buf, sizeof(buf));
    CHECK(strstr(buf, " write level=2 "), "'%s'", buf);
    x = walk(GIB, ACC_R);
    pgtable_xlate_format(&x, GIB, buf, sizeof(buf));
    CHECK(strstr(buf, "not-present level=3") && strstr(buf, " L3=0") && !strstr(buf, "phys="),
          "'%s'", buf);
    x = walk(1ULL << 50, ACC_R);
    pgtable_xlate_format(&x, 1ULL << 50, buf, sizeof(buf));
    CHECK(strstr(buf, "addr-width") && !strstr(buf, " L4="), "'%s'", buf);
    n = pgtable_xlate_format(&x, 1ULL << 50, small, sizeof(small));
    CHECK(n > (int)sizeof(small) && strlen(small) == sizeof(small) - 1, "truncated: %d '%s'", n,
          small);
    teardown(c.name);
}

int main(void)
{
    RUN(params_and_names);
    RUN(one_page_all_levels);
    RUN(entry_encoding);
    RUN(large_page_selection);
    RUN(large_page_unaligned_range);
    RUN(permissions);
    RUN(address_width);
    RUN(map_errors);
    RUN(unmap_split_and_holes);
    RUN(allocation_failure);
    RUN(retired_tables_read_empty);
    RUN(destroy_frees_all);
    RUN(map_ranges);
    RUN(walker_faults);
    RUN(missing_flush_is_caught);
    RUN(xlate_format);
    return check_finish();
}
