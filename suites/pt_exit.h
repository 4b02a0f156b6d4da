/* The pt_exit probe, shared by the isolation and transitions suites.
 *
 * After a device's entry leaves pass-through for a translating domain, a
 * DMA write to an IOVA the domain does not map must fault.  A unit that
 * wrongly keeps the device in pass-through lets the write through
 * untranslated, to the physical address equal to the IOVA.  So the IOVA is
 * the physical address of a page vtdsync owns (the target), poisoned and
 * kept between two poisoned guard pages: a correct unit faults and the
 * target keeps its poison; a unit stuck in pass-through writes into the
 * target, which proves the finding, and nothing outside vtdsync's three
 * pages can be touched.  The poison depends on the page's address and a
 * seed, so device data cannot match it by chance. */
#ifndef SUITES_PT_EXIT_H
#define SUITES_PT_EXIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/why.h"

struct pgtable;

enum { PT_EXIT_GUARD_LO, PT_EXIT_TARGET, PT_EXIT_GUARD_HI, PT_EXIT_PAGES };

struct pt_exit_probe {
    uint8_t *va;    /* PT_EXIT_PAGES pages: guard, target, guard */
    uint64_t phys;  /* physical address of va */
    uint64_t seed;
};

/* What became of the probe's pages after the DMA. */
struct pt_exit_damage {
    unsigned target_bytes; /* bytes of the target that lost their poison */
    unsigned guard_bytes;  /* bytes of either guard that did */
};

/* The IOVA the probe DMA uses: the target's physical address. */
uint64_t pt_exit_iova(const struct pt_exit_probe *p);
/* Whether iova can serve the probe: page-aligned, below the unit's (and
 * the device's) limit, and unmapped in back, the domain the entry returns
 * to (back NULL: nothing to check); false with the reason in why. */
bool pt_exit_iova_usable(uint64_t iova, uint64_t limit, const struct pgtable *back,
                         struct why *why);
/* Fill all three pages with the address-dependent poison. */
void pt_exit_poison(const struct pt_exit_probe *p);
struct pt_exit_damage pt_exit_check(const struct pt_exit_probe *p);

/* Allocate and poison a probe below limit whose target back leaves
 * unmapped.  false with why filled when none could be had. */
bool pt_exit_probe_alloc(struct pt_exit_probe *p, uint64_t limit, const struct pgtable *back,
                         struct why *why);
void pt_exit_probe_free(struct pt_exit_probe *p);

/* Report the case `name` (each suite's own: KTAP and LAVA names must be
 * unique in a run).  dma: what was sent ("edu DMA write",
 * "NVMe read"), faults: faults the unit recorded for the device since the
 * DMA, dma_error: NULL or why the DMA failed, quirk_on: quirk=pt_ctx_flush
 * was in force. */
void pt_exit_report(const struct pt_exit_probe *p, const char *name, const char *dma,
                    unsigned faults, const char *dma_error, bool quirk_on);

/* The device side of one pt_exit check (pt_exit_run). */
struct pt_exit_dma {
    const char *name;           /* the case: each suite's own */
    const char *dma;            /* what is sent: "NVMe read", "edu DMA write" */
    uint16_t sid;               /* whose faults count */
    uint64_t limit;             /* what the unit and the device can address */
    const struct pgtable *back; /* the domain the entry returned to */
    /* Make the device write to iova.  0: it reported success; > 0: it
     * reported an error (as it may when its DMA faulted); < 0: the DMA
     * could not be made (why says why; the case fails). */
    int (*send)(void *ctx, uint64_t iova, struct why *why);
    void *ctx;
};

/* The check both suites run once the device's entry left pass-through for
 * d->back: a probe below d->limit, the device's DMA to its IOVA, the
 * faults the unit recorded for d->sid, and the case d->name reported.
 * A probe that cannot be had fails the case. */
void pt_exit_run(const struct pt_exit_dma *d);

#endif
