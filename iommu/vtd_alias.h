/* DMA aliases in the engine: source-ids that carry a device's DMA besides
 * its own (drivers/pci_alias.h says which and why).
 *
 * The caller registers them per unit once (vtd_alias_add); from then on the
 * engine gives every alias the translation the device gets:
 *
 *   - legacy mode: vtd_context_write writes the same context entry for each
 *     alias, each with its own entry_sync update and sync (the context cache
 *     is tagged by source-id);
 *   - scalable mode: vtd_attach_scalable gives each alias a context entry
 *     that points at the device's own PASID directory, so one PASID entry
 *     serves both source-ids and one vtd_pasid_write updates both.  Its
 *     syncs need nothing more: the PASID cache and the IOTLB are tagged by
 *     domain id and PASID, not by source-id (spec 6.2, 6.5.2),
 *     and a function behind a bridge that rewrites its requester ID issues
 *     no ATS requests, so there is no device-TLB under the alias.  Context-
 *     cache invalidations (vtd_detach_scalable, quirk pt_ctx_flush) are
 *     issued for each alias too.
 *
 * Several devices behind one PCIe-to-PCI bridge share its alias, and one
 * context entry cannot hold two translations: the alias follows the device
 * that wrote it last, its owner.  A fault recorded at an alias is the
 * owner's at the time (vtd_fault_scan notes it, vtd_faults_since uses it). */
#ifndef IOMMU_VTD_ALIAS_H
#define IOMMU_VTD_ALIAS_H

#include <stdbool.h>
#include <stdint.h>

struct vtd_unit;

/* Aliases one device may have (its own ID not counted). */
#define VTD_ALIAS_MAX_PER_SID 8

struct vtd_alias {
    uint16_t sid;   /* the device */
    uint16_t alias; /* another source-id its DMA may carry */
    bool owner;     /* alias's entry currently mirrors sid's */
};

/* Register alias for sid (idempotent; alias == sid is ignored).  Returns 0,
 * or -1 when memory ran out or sid has VTD_ALIAS_MAX_PER_SID already
 * (reason printed). */
int vtd_alias_add(struct vtd_unit *u, uint16_t sid, uint16_t alias);
/* The aliases of sid, up to max; returns how many were written. */
unsigned vtd_aliases_of(const struct vtd_unit *u, uint16_t sid, uint16_t *out, unsigned max);
/* The other devices (not sid) that have alias too, up to max. */
unsigned vtd_alias_sharers(const struct vtd_unit *u, uint16_t alias, uint16_t sid, uint16_t *out,
                           unsigned max);
/* Whether the DMA of a and b may arrive under one source-id (one is the
 * other's alias, or they share one): their entries cannot differ. */
bool vtd_alias_shared(const struct vtd_unit *u, uint16_t a, uint16_t b);
/* The device whose entry alias mirrors now, -1 when none. */
int vtd_alias_owner(const struct vtd_unit *u, uint16_t alias);
void vtd_alias_set_owner(struct vtd_unit *u, uint16_t sid, uint16_t alias);

#endif
