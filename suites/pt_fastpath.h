/* The pass-through fast-path deviation: probed once per run, reported once.
 *
 * VT-d 6.5.3.3: after a PASID entry changes, PASID-cache and IOTLB
 * invalidations (with the old entry's domain id and type) are all the
 * software owes; a context-cache invalidation is not asked for.  QEMU 10.0.2
 * keeps sending a device's DMA untranslated after its RID_PASID entry leaves
 * pass-through until the device's context-cache entry is invalidated.  Left
 * alone, that one deviation fails every later case that leaves pass-through
 * (isolation, traffic, transitions, stale) and the fault cases after them.
 *
 * pt_fastpath_probe() is called at the start of each suite that leaves
 * pass-through.  The first call on a platform where it can be probed
 * (scalable mode, ECAP.PT and a translating type) runs the probe with QEMU's
 * edu as the DMA engine; without an edu, a suite can hand its own device
 * to pt_fastpath_probe_with (traffic does, with the NVMe).  The probe: the
 * device's entry goes pass-through and a DMA to a page lands; the entry
 * goes second stage (first stage without SLTS), where that page is not
 * mapped, with the workaround held off for that update; a DMA write to the
 * IOVA equal to the page's physical address must fault and leave it alone.
 * The result is one case, pt_fastpath_after_pt_exit, in the calling suite:
 *   - the write faulted: ok (the workaround stays as configured);
 *   - it landed, quirk=pt_ctx_flush not given: not ok, and the workaround
 *     (vtd_options.pt_ctx_flush) is switched on for the rest of the run;
 *   - it landed, quirk=pt_ctx_flush given (the deviation is known and
 *     acknowledged): ok # XFAIL, the workaround stays on.
 * After that, later calls do nothing.  Where it cannot be probed nothing
 * is reported. */
#ifndef SUITES_PT_FASTPATH_H
#define SUITES_PT_FASTPATH_H

#include <stdbool.h>
#include <stdint.h>

struct vtd_unit;

#define PT_FASTPATH_CASE "pt_fastpath_after_pt_exit"

/* A device the probe drives: its unit and source-id, and three steps. */
struct pt_fastpath_dev {
    const char *name;        /* "edu", "NVMe" */
    const char *translating; /* "SS" or "FS": what to_translating selects */
    struct vtd_unit *u;
    uint16_t sid;
    uint64_t dma_limit; /* the probe page lies below it */
    void *ctx;
    bool (*to_pt)(void *ctx);          /* entry -> pass-through */
    bool (*to_translating)(void *ctx); /* -> translating, probe page unmapped */
    /* The device writes one page to IOVA phys; false when the command did
     * not complete (a completion with an error status counts as done). */
    bool (*write)(void *ctx, uint64_t phys);
};

/* With the edu, if there is one. */
void pt_fastpath_probe(void);
/* With the caller's device (idle, its entry free to change; after a
 * deviation it is left in its translating entry with the fast path gone). */
void pt_fastpath_probe_with(const struct pt_fastpath_dev *d);
/* No probe has run yet. */
bool pt_fastpath_pending(void);
/* Forget the probe (host tests). */
void pt_fastpath_reset(void);
/* The probe needs scalable mode, ECAP.PT, a translating type and CX16. */
bool pt_fastpath_unit_can_probe(const struct vtd_unit *u);
/* The probe was due but its device could not be set up: the case skips. */
void pt_fastpath_cannot(const char *why);

#endif
