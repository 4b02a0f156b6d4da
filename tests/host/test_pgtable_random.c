// HOST-DEPS: lib/printf.c iommu/pgtable.c iommu/pgtable_walk.c
/* Random map/unmap sequences against a reference model.
 *
 * The model is an array with one entry per 4 KiB page of a 4 GiB window:
 * the physical page, the flags, and the leaf size the builder must have
 * chosen (large pages are predictable: the biggest permitted size whose
 * aligned block lies inside the mapping with iova and phys aligned alike).
 * After every operation the touched pages, a random sample and the page
 * table accounting are checked; every few hundred operations and at the end,
 * every page of the window is walked.  Walks read the "memory" view, so
 * unflushed writes count as errors.  Some maps get an allocation failure. */
#include "iommu/pgtable.h"
#include "tests/host/check.h"
#include "tests/host/pgtable_testmem.h"

#include <stdio.h>
#include <string.h>

CHECK_STATE_DEFINE;

#define GIB (1ULL << 30)
#define PG PGTABLE_PAGE_SIZE
#define WINDOW_PAGES (4 * GIB / PG)
#define OPS 1500
#define FULL_CHECK_EVERY 500

static const struct tcfg cfgs[] = {
    {"ss3 4K only", PGTABLE_SECOND_STAGE, 3, 0, false, false, 508 * GIB},
    {"ss3 2M+1G", PGTABLE_SECOND_STAGE, 3, 3, false, false, 508 * GIB},
    {"ss4 2M ssade", PGTABLE_SECOND_STAGE, 4, 1, true, true, 510 * GIB},
    {"ss5 2M+1G", PGTABLE_SECOND_STAGE, 5, 3, true, false, (1ULL << 48) - 2 * GIB},
    {"fs4 2M+1G", PGTABLE_FIRST_STAGE, 4, 3, false, true, 510 * GIB},
    {"fs5 2M", PGTABLE_FIRST_STAGE, 5, 0, false, true, 510 * GIB},
};

struct page {
    uint64_t phys; /* 0: not mapped (phys 0 is never used by this test) */
    uint8_t flags; /* PGTABLE_R/W/X/SUPERVISOR */
    uint8_t shift; /* log2 of the leaf size */
};

static struct tmem mem;
static struct pgtable T;
static struct page *model;
static const struct tcfg *C;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static unsigned long walks, maps_ok, maps_exist, maps_nomem, unmaps_ok, unmaps_split;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t rnd_below(uint64_t n)
{
    return rnd() % n;
}

static bool fs(void)
{
    return C->format == PGTABLE_FIRST_STAGE;
}

static bool size_allowed(unsigned shift, unsigned flags)
{
    if (shift == 12)
        return true;
    if (flags & PGTABLE_4K_ONLY)
        return false;
    if (shift == 21)
        return fs() || (C->large & PGTABLE_LARGE_2M);
    return (C->large & PGTABLE_LARGE_1G) != 0;
}

/* The leaf size the builder must choose for the page at iova. */
static unsigned expected_shift(uint64_t iova, uint64_t start, uint64_t phys, uint64_t size,
                               unsigned flags)
{
    static const unsigned shifts[] = {30, 21};

    for (int i = 0; i < 2; i++) {
        uint64_t span = 1ULL << shifts[i], block = iova & ~(span - 1);

        if (!size_allowed(shifts[i], flags))
            continue;
        if (block >= start && block + span <= start + size &&
            !((phys + (block - start)) & (span - 1)))
            return shifts[i];
    }
    return 12;
}

static void check_page(uint64_t idx)
{
    const struct page *m = &model[idx];
    uint64_t off = rnd_below(PG), iova = C->base + idx * PG + off;
    unsigned acc = PGTABLE_ACC_READ;
    struct pgtable_xlate x;

    if (m->phys && !(m->flags & PGTABLE_R))
        acc = PGTABLE_ACC_WRITE;
    if (m->flags & PGTABLE_SUPERVISOR)
        acc |= PGTABLE_ACC_SUPERVISOR;
    tmem_walk(&mem, &T, iova, acc, &x);
    walks++;
    if (!m->phys) {
        CHECK(x.fault == PGTABLE_FAULT_NOT_PRESENT, "%s: iova %#llx unmapped but %s", C->name,
              (unsigned long long)iova, pgtable_fault_name(x.fault));
        return;
    }
    unsigned want_perms = m->flags & (PGTABLE_R | PGTABLE_W | PGTABLE_X | PGTABLE_SUPERVISOR);
    if (fs())
        want_perms |= PGTABLE_X; /* XD is never set */
    CHECK(x.fault == PGTABLE_XLATE_OK && x.phys == m->phys + off &&
              x.page_size == 1ULL << m->shift && x.perms == want_perms,
          "%s: iova %#llx: %s phys %#llx size %#llx perms %#x, want phys %#llx size %#llx "
          "perms %#x",
          C->name, (unsigned long long)iova, pgtable_fault_name(x.fault),
          (unsigned long long)x.phys, (unsigned long long)x.page_size, x.perms,
          (unsigned long long)(m->phys + off), 1ULL << m->shift, want_perms);
    if (!(m->flags & PGTABLE_W)) {
        tmem_walk(&mem, &T, iova, acc | PGTABLE_ACC_WRITE, &x);
        walks++;
        CHECK(x.fault == PGTABLE_FAULT_WRITE, "%s: iova %#llx read-only but %s", C->name,
              (unsigned long long)iova, pgtable_fault_name(x.fault));
    }
}

/* The pages of [first, first + n) plus a neighbour on each side; a sample
 * when there are many. */
static void check_around(uint64_t first, uint64_t n)
{
    uint64_t lo = first ? first - 1 : 0, hi = first + n < WINDOW_PAGES ? first + n + 1 : first + n;

    if (hi - lo <= 4096) {
        for (uint64_t i = lo; i < hi; i++)
            check_page(i);
        return;
    }
    for (int i = 0; i < 8; i++) {
        check_page(lo + (uint64_t)i);
        check_page(hi - 1 - (uint64_t)i);
    }
    for (int i = 0; i < 2048; i++)
        check_page(lo + rnd_below(hi - lo));
}

static unsigned random_flags(void)
{
    static const unsigned ss[] = {PGTABLE_R | PGTABLE_W, PGTABLE_R, PGTABLE_W,
                                  PGTABLE_R | PGTABLE_W | PGTABLE_X};
    static const unsigned fsf[] = {PGTABLE_R | PGTABLE_W, PGTABLE_R, PGTABLE_R | PGTABLE_SUPERVISOR,
                                   PGTABLE_R | PGTABLE_W | PGTABLE_SUPERVISOR};
    unsigned f = fs() ? fsf[rnd_below(4)] : ss[rnd_below(4)];

    if (rnd_below(10) == 0)
        f |= PGTABLE_4K_ONLY;
    return f;
}

/* A random range inside the window: small, 2 MiB-ish, or 1 GiB-ish, and a
 * physical address aligned alike most of the time. */
static void random_range(uint64_t *first, uint64_t *n, uint64_t *phys)
{
    unsigned kind = (unsigned)rnd_below(100);
    uint64_t align = 1, skew = 0;

    if (kind < 60) {
        *n = 1 + rnd_below(24);
    } else if (kind < 95) {
        align = 512;
        *n = 512 * (1 + rnd_below(4)) + (rnd_below(2) ? rnd_below(512) : 0);
    } else {
        align = 262144;
        *n = 262144 + (rnd_below(2) ? 512 * rnd_below(3) : 0);
    }
    *first = rnd_below(WINDOW_PAGES / align) * align;
    if (align > 1 && rnd_below(3) == 0)
        *first += rnd_below(align); /* off the boundary */
    if (*first + *n > WINDOW_PAGES)
        *n = WINDOW_PAGES - *first;
    if (align > 1 && rnd_below(4) == 0)
        skew = 1 + rnd_below(align - 1);
    /* phys: aligned like iova (plus the skew), somewhere below 2^40. */
    *phys =
        (1 + rnd_below((1ULL << 28) / 262144 - 8)) * 262144 * PG + ((*first + skew) % align) * PG;
}

static void op_map(void)
{
    uint64_t first, n, phys;
    unsigned flags = random_flags();
    bool busy = false;
    int err;

    random_range(&first, &n, &phys);
    for (uint64_t i = first; i < first + n && !busy; i++)
        busy = model[i].phys != 0;
    if (!busy && rnd_below(20) == 0)
        mem.fail_at = (long)(mem.allocs + rnd_below(3));
    uint64_t iova = C->base + first * PG;
    err = pgtable_map(&T, iova, phys, n * PG, flags);
    bool failed_alloc = mem.fail_at >= 0 && (long)mem.allocs > mem.fail_at;
    mem.fail_at = -1;
    if (busy) {
        CHECK(err == PGTABLE_ERR_EXISTS, "%s: map over a mapping: %s", C->name,
              pgtable_strerror(err));
        maps_exist++;
    } else if (failed_alloc) {
        CHECK(err == PGTABLE_ERR_NOMEM, "%s: map with failed alloc: %s", C->name,
              pgtable_strerror(err));
        maps_nomem++;
    } else {
        CHECK(err == PGTABLE_OK, "%s: map %#llx+%#llx: %s", C->name, (unsigned long long)iova,
              (unsigned long long)(n * PG), pgtable_strerror(err));
        for (uint64_t i = first; i < first + n; i++) {
            uint64_t a = C->base + i * PG;
            model[i].phys = phys + (i - first) * PG;
            model[i].flags = flags & ~PGTABLE_4K_ONLY;
            model[i].shift = expected_shift(a, iova, phys, n * PG, flags);
        }
        maps_ok++;
    }
    check_around(first, n);
}

/* Does the leaf holding page i stick out of [first, first + n)? */
static bool cut(uint64_t i, uint64_t first, uint64_t n)
{
    if (!model[i].phys)
        return false;
    uint64_t span = (1ULL << model[i].shift) / PG;
    uint64_t block = (C->base / PG + i) / span * span - C->base / PG;

    return block < first || block + span > first + n;
}

static void op_unmap(void)
{
    uint64_t first, n, phys, done = 0, want = 0;
    int err;

    random_range(&first, &n, &phys);
    bool split = cut(first, first, n) || cut(first + n - 1, first, n);
    for (uint64_t i = first; i < first + n; i++)
        want += model[i].phys ? PG : 0;
    err = pgtable_unmap(&T, C->base + first * PG, n * PG, &done);
    if (split) {
        CHECK(err == PGTABLE_ERR_SPLIT, "%s: unmap cutting a large page: %s", C->name,
              pgtable_strerror(err));
        unmaps_split++;
    } else {
        CHECK(err == PGTABLE_OK && done == want, "%s: unmap: %s, %#llx bytes, want %#llx", C->name,
              pgtable_strerror(err), (unsigned long long)done, (unsigned long long)want);
        memset(&model[first], 0, n * sizeof(*model));
        unmaps_ok++;
    }
    check_around(first, n);
}

static void check_accounting(void)
{
    CHECK(T.table_pages == mem.in_use && mem.errors == 0,
          "%s: table_pages %zu, allocator %zu, errors %u", C->name, T.table_pages, mem.in_use,
          mem.errors);
}

static void run_cfg(const struct tcfg *c)
{
    struct pgtable_params p = tcfg_params(c, 40);
    struct pgtable_mem_ops ops;
    int err;

    C = c;
    tmem_init(&mem, 16384);
    ops = tmem_ops(&mem);
    err = pgtable_init(&T, &p, &ops);
    CHECK(err == PGTABLE_OK, "%s: init: %s", c->name, pgtable_strerror(err));
    memset(model, 0, WINDOW_PAGES * sizeof(*model));
    for (int op = 1; op <= OPS && check_state.case_failures < 20; op++) {
        if (rnd_below(100) < 55)
            op_map();
        else
            op_unmap();
        if (rnd_below(4) == 0)
            pgtable_reclaim(&T);
        for (int i = 0; i < 64; i++)
            check_page(rnd_below(WINDOW_PAGES));
        check_accounting();
        if (op % FULL_CHECK_EVERY == 0) {
            for (uint64_t i = 0; i < WINDOW_PAGES; i++)
                check_page(i);
        }
    }
    /* Empty the window: only the root may remain. */
    err = pgtable_unmap(&T, c->base, WINDOW_PAGES * PG, NULL);
    CHECK(err == PGTABLE_OK, "%s: final unmap: %s", c->name, pgtable_strerror(err));
    pgtable_reclaim(&T);
    CHECK(T.table_pages == 1 && mem.in_use == 1, "%s: %zu pages left after unmap", c->name,
          mem.in_use);
    printf("    # %s: peak %zu table pages, %lu allocs\n", c->name, mem.peak, mem.allocs);
    pgtable_destroy(&T);
    CHECK(mem.in_use == 0 && mem.errors == 0, "%s: %zu pages leaked, %u errors", c->name,
          mem.in_use, mem.errors);
    tmem_fini(&mem);
}

#define CFG_TEST(i, name)                                                                          \
    TEST(name)                                                                                     \
    {                                                                                              \
        run_cfg(&cfgs[i]);                                                                         \
    }

CFG_TEST(0, random_ss3_4k)
CFG_TEST(1, random_ss3_large)
CFG_TEST(2, random_ss4_ssade)
CFG_TEST(3, random_ss5_large)
CFG_TEST(4, random_fs4_large)
CFG_TEST(5, random_fs5)

int main(void)
{
    model = calloc(WINDOW_PAGES, sizeof(*model));
    RUN(random_ss3_4k);
    RUN(random_ss3_large);
    RUN(random_ss4_ssade);
    RUN(random_ss5_large);
    RUN(random_fs4_large);
    RUN(random_fs5);
    printf("# %lu walks; maps: %lu ok, %lu overlapping, %lu out of memory; "
           "unmaps: %lu ok, %lu split\n",
           walks, maps_ok, maps_exist, maps_nomem, unmaps_ok, unmaps_split);
    free(model);
    return check_finish();
}
