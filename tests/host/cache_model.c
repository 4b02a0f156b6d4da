/* The non-coherent memory model (see cache_model.h). */
#include "tests/host/cache_model.h"

#include <stdlib.h>
#include <string.h>

#include "tests/host/vtd_fake.h"

#define MAX_REGIONS 128

/* One allocation of the fake: the CPU's bytes and memory's. */
struct region {
    uint8_t *cpu;
    uint8_t *mem;
    size_t len;
};

static struct region regions[MAX_REGIONS];
static unsigned nregions;
static struct cache_model_stats stats;

static struct region *find(uintptr_t a, size_t len)
{
    for (unsigned i = 0; i < nregions; i++) {
        uintptr_t base = (uintptr_t)regions[i].cpu;
        if (a >= base && len <= regions[i].len && a - base <= regions[i].len - len)
            return &regions[i];
    }
    return NULL;
}

static void track(void *p, size_t len)
{
    if (nregions == MAX_REGIONS)
        abort(); /* a test that needs more must raise the limit */
    struct region *r = &regions[nregions++];
    r->cpu = p;
    r->len = len;
    r->mem = malloc(len);
    if (!r->mem)
        abort();
    memset(r->mem, CACHE_MODEL_STALE, len);
    stats.regions++;
}

static uintptr_t line_of(uintptr_t a)
{
    return a & ~(uintptr_t)(CACHE_MODEL_LINE - 1);
}

/* CLFLUSH writes back whole lines: every line [p, p+len) touches. */
static void flush(const void *p, size_t len)
{
    stats.flushes++;
    if (!len)
        return;
    uintptr_t a = (uintptr_t)p;
    for (uintptr_t l = line_of(a); l <= line_of(a + len - 1); l += CACHE_MODEL_LINE) {
        struct region *r = find(l, CACHE_MODEL_LINE);
        if (!r) {
            stats.untracked_lines++;
            continue;
        }
        size_t off = l - (uintptr_t)r->cpu;
        memcpy(r->mem + off, r->cpu + off, CACHE_MODEL_LINE);
        stats.lines++;
    }
}

void cache_model_reset(void)
{
    while (nregions)
        free(regions[--nregions].mem);
    memset(&stats, 0, sizeof(stats));
}

static const struct fake_mem_hooks hooks = {
    .alloc = track,
    .flush = flush,
    .free_all = cache_model_reset,
};

void cache_model_attach(void)
{
    fake_mem_hooks = &hooks;
}

void cache_model_detach(void)
{
    cache_model_reset();
    fake_mem_hooks = NULL;
}

const void *cache_model_view(uint64_t phys, size_t len, bool coherent)
{
    /* The fake's physical addresses are its pointers (vtd_fake.c). */
    struct region *r = find((uintptr_t)phys, len);
    if (!r)
        return NULL;
    size_t off = (uintptr_t)phys - (uintptr_t)r->cpu;
    return coherent ? r->cpu + off : r->mem + off;
}

unsigned cache_model_stale_lines(const void *p, size_t len)
{
    unsigned n = 0;
    if (!len)
        return 0;
    uintptr_t a = (uintptr_t)p;
    for (uintptr_t l = line_of(a); l <= line_of(a + len - 1); l += CACHE_MODEL_LINE) {
        struct region *r = find(l, CACHE_MODEL_LINE);
        size_t off = r ? l - (uintptr_t)r->cpu : 0;
        if (r && memcmp(r->mem + off, r->cpu + off, CACHE_MODEL_LINE))
            n++;
    }
    return n;
}

struct cache_model_stats cache_model_stats(void)
{
    return stats;
}
