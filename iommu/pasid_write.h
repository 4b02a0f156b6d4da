/* The single way to change a live translation entry: PASID entries in
 * scalable mode, context entries in legacy mode.
 *
 * Both go through the entry_sync library: the engine supplies the 16-byte
 * atomic chunk store (CMPXCHG16B) and the sync, i.e. the invalidations the
 * VT-d spec (6.5.3.3 / 6.5.3.1) asks for after a table entry changed,
 * using the domain id and translation type of the entry as it was cached:
 *
 *   PASID entry: PASID-cache (PASID-selective within the old DID), then
 *     PASID-based IOTLB (old PGTT first stage or pass-through) or
 *     domain-selective IOTLB (second stage, nested), device-TLB where the
 *     device has ATS on (PASID-based for a PASID other than RID_PASID;
 *     none while translation is off, spec 4.3), then an invalidation wait.  Not present -> present
 *     needs nothing unless CAP.CM (then PASID cache and IOTLB with the new
 *     DID), just a write-buffer flush where CAP.RWBF.  The entry's cache
 *     line is flushed first when ECAP.C = 0.
 *   legacy context entry: context-cache (device-selective, old DID), then
 *     domain-selective IOTLB of the old DID, device-TLB where the device
 *     has ATS on, then a wait.
 *
 * Quirk pt_ctx_flush (vtd_options.pt_ctx_flush): after an entry leaves
 * pass-through, also invalidate the device's context-cache entry; QEMU is
 * suspected of keeping an untranslated fast path otherwise. */
#ifndef IOMMU_PASID_WRITE_H
#define IOMMU_PASID_WRITE_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/context_entry.h"
#include "iommu/entry_sync.h"
#include "iommu/pasid_entry.h"
#include "iommu/qi.h"
#include "lib/why.h"

struct vtd_unit;

struct vtd_write_result {
    bool ok;           /* false: refused, or an invalidation failed */
    struct why why;    /* the reason when !ok, else "" */
    struct entry_sync_result es;
    unsigned syncs;       /* syncs performed (es.syncs) */
    unsigned descriptors; /* invalidation descriptors queued in all syncs */
    uint64_t cycles;      /* TSC cycles for the whole update */
};

/* Move the PASID entry of (sid, pasid) to target.  The device must have
 * been attached (vtd_attach_scalable). */
struct vtd_write_result vtd_pasid_write(struct vtd_unit *u, uint16_t sid, uint32_t pasid,
                                        const struct pasid_entry *target,
                                        enum entry_sync_strategy strategy);

/* Move the legacy context entry of sid to target (legacy mode), and the
 * entry of each DMA alias of sid (iommu/vtd_alias.h) after it: syncs,
 * descriptors and cycles are the sums; es is sid's own update. */
struct vtd_write_result vtd_context_write(struct vtd_unit *u, uint16_t sid,
                                          const struct legacy_context_entry *target,
                                          enum entry_sync_strategy strategy);

/* Mark t->sid as having ATS enabled or not: while it is, every sync of
 * its context or PASID entries also invalidates its device-TLB, addressed
 * as t says (PF SID, queue depth).  Call it before turning the device's
 * ATS on.  False (reason printed) when the list is full: ATS must then
 * stay off. */
bool vtd_set_ats(struct vtd_unit *u, const struct vtd_devtlb_target *t, bool enabled);

#endif
