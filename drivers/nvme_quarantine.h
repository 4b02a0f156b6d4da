/* Quarantine for the memory of reset NVMe controllers.
 *
 * A reset controller's queues and buffers are poisoned and held before the
 * page allocator gets them back: until NVMEQ_GENERATIONS more controllers
 * have been retired AND NVMEQ_HOLD_US have passed.  Before a region is
 * handed back its poison is checked; a changed poison is DMA that arrived
 * after the controller was disabled, reported once (address, generation)
 * as a finding, and that region is then kept out of use for good.
 *
 * The quarantine is bounded (NVMEQ_SLOTS regions, NVMEQ_MAX_PAGES pages):
 * when full, its oldest regions go back early (still checked) and that is
 * said once.  One quarantine serves every controller of the run: the
 * generation is the number of pools retired so far. */
#ifndef DRIVERS_NVME_QUARANTINE_H
#define DRIVERS_NVME_QUARANTINE_H

#include <stdint.h>

#include "drivers/dma.h"

/* Why these figures: under QEMU 10.0.2 writes were seen in memory handed
 * back after 8 resets (README: writes after an NVMe reset); 64 is eight
 * times that, and 10 s is several times the longest time a stress or soak
 * run took for 8 resets.  Both must have passed. */
#define NVMEQ_GENERATIONS 64u
#define NVMEQ_HOLD_US 10000000ull
/* At most this much held (16 MiB, in regions of any size): about 180
 * QEMU resets of the transitions suite, well above 64 generations. */
#define NVMEQ_SLOTS 1024u
#define NVMEQ_MAX_PAGES 4096u

#define NVMEQ_POISON 0x6bu

struct nvmeq_stats {
    uint64_t held_pages;      /* poisoned, waiting */
    uint64_t max_held_pages;  /* the most ever held */
    uint64_t kept_pages;      /* written after a reset: never reused */
    uint64_t recycled_pages;  /* handed back after the checks */
    unsigned generation;      /* pools retired so far */
    unsigned late_regions;    /* regions found written (findings) */
    unsigned early_regions;   /* handed back early: the quarantine was full */
};

/* Poison every region of p and hold it (p is left empty).  When there is
 * no room, the oldest regions are handed back first, checked. */
void nvmeq_retire(struct dma_pool *p, uint64_t now_us);
/* Hand back, checked, every region held long enough (both rules). */
void nvmeq_recycle(uint64_t now_us);
/* Check the poison of everything held now; a written region is reported
 * and kept out.  Returns the number of regions found written. */
unsigned nvmeq_check_all(uint64_t now_us);
void nvmeq_get_stats(struct nvmeq_stats *s);
/* Forget everything (host tests): held memory is not freed. */
void nvmeq_forget(void);

#endif
