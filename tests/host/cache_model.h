/* A non-coherent memory model for the fake IOMMU (tests/host/vtd_fake.c).
 *
 * Most real units (34 of the 42 in the hardware corpus) report ECAP.C = 0:
 * their walks of root, context, PASID and page tables do not snoop the CPU
 * caches, so they read memory, and memory holds what the CPU wrote only
 * for the cache lines the CPU wrote back (CLFLUSH).  The model keeps, for
 * every page the fake hands out, a second copy: memory as the device sees
 * it.  It starts stale (every byte CACHE_MODEL_STALE, never what the CPU
 * zeroed) and a 64-byte line of it is refreshed from the CPU's copy only
 * when the engine's flush (vtd_ops.flush) covers that line.
 *
 * Which walks go through the device's copy is the walker's business
 * (model_walk.c): in legacy mode everything when ECAP.C = 0; in scalable
 * mode root, context and PASID tables when ECAP.C = 0, paging structures
 * unless ECAP.SMPWC = 1 and the PASID entry has PWSNP = 1.  The
 * invalidation queue is not modelled: ECAP.C is about walks of the
 * remapping structures, Linux never flushes queue descriptors, and the fake
 * reads them from the CPU's copy (qi.c flushes them anyway, at no risk). */
#ifndef TESTS_HOST_CACHE_MODEL_H
#define TESTS_HOST_CACHE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CACHE_MODEL_LINE 64
/* Stale memory: every entry built from it is present with reserved bits
 * set or a pointer to nowhere, so a walk through it faults. */
#define CACHE_MODEL_STALE 0xff

struct cache_model_stats {
    unsigned regions;         /* pages (runs of pages) watched */
    unsigned flushes;         /* flush calls */
    unsigned lines;           /* lines written back */
    unsigned untracked_lines; /* lines flushed outside any watched page */
};

/* Watch the fake's allocations and flushes from now on (until
 * cache_model_detach); fake_bring_up's fake_free_all empties the model. */
void cache_model_attach(void);
void cache_model_detach(void);
/* Forget every watched page (fake_free_all does it). */
void cache_model_reset(void);
/* What the device reads at [phys, phys+len): the CPU's bytes when the walk
 * is coherent, else memory as flushed.  NULL when the range is not inside
 * one page the fake handed out (a walk to nowhere). */
const void *cache_model_view(uint64_t phys, size_t len, bool coherent);
/* Lines of [p, p+len) whose memory copy differs from the CPU's. */
unsigned cache_model_stale_lines(const void *p, size_t len);
struct cache_model_stats cache_model_stats(void);

#endif
