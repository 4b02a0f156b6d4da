/* Test memory for the page-table host tests.
 *
 * Pages get fake physical addresses (TMEM_BASE + 4 KiB * index).  Each page
 * exists twice: "live", what the CPU (the builder) reads and writes, and
 * "shadow", what a non-coherent IOMMU would read from memory.  The shadow
 * only changes when the builder flushes, so a walk through the shadow
 * proves every entry write was flushed.  New pages start with junk in the
 * shadow (stale memory); freed pages are poisoned in both views.
 *
 * The allocator counts pages, catches double and foreign frees, and can be
 * told to fail the Nth allocation. */
#ifndef TESTS_HOST_PGTABLE_TESTMEM_H
#define TESTS_HOST_PGTABLE_TESTMEM_H

#include "iommu/pgtable.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TMEM_BASE 0x40000000ULL
#define TMEM_LINE 64
#define TMEM_STALE 0xa5
#define TMEM_POISON 0xdd

struct tmem {
    size_t cap;
    uint8_t *live, *shadow;
    bool *used;
    size_t *free_stack, nfree;
    size_t in_use, peak;
    unsigned long allocs, frees, flushes;
    long fail_at;       /* allocation number (0-based) that fails; -1 never */
    uint64_t bad_phys;  /* when nonzero, the failing allocation returns this */
    unsigned errors;    /* double frees, foreign frees, stray flushes */
    unsigned bad_frees; /* frees of bad_phys (expected: the builder rejects it) */
};

static inline void tmem_init(struct tmem *m, size_t cap)
{
    memset(m, 0, sizeof(*m));
    m->cap = cap;
    m->live = aligned_alloc(4096, cap * 4096);
    m->shadow = aligned_alloc(4096, cap * 4096);
    m->used = calloc(cap, sizeof(bool));
    m->free_stack = malloc(cap * sizeof(size_t));
    for (size_t i = 0; i < cap; i++)
        m->free_stack[i] = cap - 1 - i; /* low indexes first */
    m->nfree = cap;
    m->fail_at = -1;
}

static inline void tmem_fini(struct tmem *m)
{
    free(m->live);
    free(m->shadow);
    free(m->used);
    free(m->free_stack);
}

static inline uint64_t tmem_alloc(void *ctx)
{
    struct tmem *m = ctx;
    long n = (long)m->allocs++;

    if (n == m->fail_at)
        return m->bad_phys;
    if (!m->nfree)
        return 0;
    size_t i = m->free_stack[--m->nfree];
    m->used[i] = true;
    memset(m->live + i * 4096, 0, 4096);
    memset(m->shadow + i * 4096, TMEM_STALE, 4096);
    if (++m->in_use > m->peak)
        m->peak = m->in_use;
    return TMEM_BASE + i * 4096;
}

static inline bool tmem_index(const struct tmem *m, uint64_t phys, size_t *i)
{
    if (phys < TMEM_BASE || (phys & 4095) || (phys - TMEM_BASE) / 4096 >= m->cap)
        return false;
    *i = (phys - TMEM_BASE) / 4096;
    return true;
}

static inline void tmem_free(void *ctx, uint64_t phys)
{
    struct tmem *m = ctx;
    size_t i;

    m->frees++;
    if (m->bad_phys && phys == m->bad_phys) {
        m->bad_frees++;
        return;
    }
    if (!tmem_index(m, phys, &i) || !m->used[i]) {
        m->errors++;
        return;
    }
    m->used[i] = false;
    memset(m->live + i * 4096, TMEM_POISON, 4096);
    memset(m->shadow + i * 4096, TMEM_POISON, 4096);
    m->free_stack[m->nfree++] = i;
    m->in_use--;
}

/* The page at phys in one of the two views, or NULL if it is not ours. */
static inline void *tmem_view(const struct tmem *m, uint8_t *view, uint64_t phys)
{
    size_t i;

    return tmem_index(m, phys, &i) ? view + i * 4096 : NULL;
}

static inline void *tmem_live(void *ctx, uint64_t phys)
{
    return tmem_view(ctx, ((struct tmem *)ctx)->live, phys);
}

static inline void *tmem_shadow(void *ctx, uint64_t phys)
{
    return tmem_view(ctx, ((struct tmem *)ctx)->shadow, phys);
}

/* Copy the touched cache lines from the CPU's view to memory. */
static inline void tmem_flush(void *ctx, const void *p, size_t len)
{
    struct tmem *m = ctx;
    const uint8_t *b = p;

    m->flushes++;
    if (b < m->live || b + len > m->live + m->cap * 4096 || !len) {
        m->errors++;
        return;
    }
    size_t first = (size_t)(b - m->live) / TMEM_LINE;
    size_t last = (size_t)(b + len - 1 - m->live) / TMEM_LINE;
    memcpy(m->shadow + first * TMEM_LINE, m->live + first * TMEM_LINE,
           (last - first + 1) * TMEM_LINE);
}

/* A table configuration under test; base is where a test puts its window. */
struct tcfg {
    const char *name;
    enum pgtable_format format;
    unsigned levels;
    unsigned large;
    bool ssade, preset;
    uint64_t base;
};

static inline struct pgtable_params tcfg_params(const struct tcfg *c, unsigned phys_bits)
{
    return (struct pgtable_params){
        .format = c->format,
        .levels = c->levels,
        .phys_bits = phys_bits,
        .large_pages = c->large,
        .ssade = c->ssade,
        .preset_ad = c->preset,
    };
}

/* What the builder uses. */
static inline struct pgtable_mem_ops tmem_ops(struct tmem *m)
{
    return (struct pgtable_mem_ops){tmem_alloc, tmem_free, tmem_live, tmem_flush, m};
}

/* What the IOMMU sees: the shadow (walks only read). */
static inline struct pgtable_mem_ops tmem_iommu_ops(struct tmem *m)
{
    return (struct pgtable_mem_ops){tmem_alloc, tmem_free, tmem_shadow, NULL, m};
}

/* Walk the table as the non-coherent IOMMU would. */
static inline void tmem_walk(struct tmem *m, const struct pgtable *t, uint64_t iova,
                             unsigned access, struct pgtable_xlate *x)
{
    struct pgtable_mem_ops ops = tmem_iommu_ops(m);

    pgtable_walk(&t->params, &ops, t->root, iova, access, x);
}

#endif
