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
 * (scalable mode, ECAP.PT and a translating type, QEMU's edu as the DMA
 * engine) runs the probe: the edu's RID_PASID entry goes pass-through, a DMA
 * lands, the entry goes second stage (first stage without SLTS) with nothing
 * mapped, with the workaround held off, and a DMA write to the IOVA equal to
 * a physical page must fault and leave that page alone.  The result is one
 * case, pt_fastpath_after_pt_exit, in the suite that called it:
 *   - the write faulted: ok (the workaround stays as configured);
 *   - it landed, quirk=pt_ctx_flush not given: not ok, and the workaround
 *     (vtd_options.pt_ctx_flush) is switched on for the rest of the run;
 *   - it landed, quirk=pt_ctx_flush given (the deviation is known and
 *     acknowledged): ok # XFAIL, the workaround stays on.
 * Later calls do nothing.  Where it cannot be probed nothing is reported. */
#ifndef TESTS_PT_FASTPATH_H
#define TESTS_PT_FASTPATH_H

#define PT_FASTPATH_CASE "pt_fastpath_after_pt_exit"

void pt_fastpath_probe(void);

#endif
