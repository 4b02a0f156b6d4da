/* The fake unit's DMA remapping walk: what the "hardware" of
 * tests/host/vtd_fake.c reads when a device does DMA.  From RTADDR (legacy
 * or scalable by its TTM field) through the root entry, the context entry,
 * in scalable mode the PASID directory and PASID entry, to the page tables
 * (iommu/pgtable_walk.c, fed with the device's view of memory).
 *
 * Every read goes through the cache model (cache_model.h), coherent or not
 * as the spec says for that structure: root, context and PASID tables
 * follow ECAP.C; page tables follow ECAP.C in legacy mode, and in scalable
 * mode ECAP.SMPWC together with the PASID entry's PWSNP.  So a table the
 * engine wrote but did not flush is walked as stale memory and the DMA
 * faults, the way it would on most real units.
 *
 * The walk also rejects what a unit would: reserved translation types, a
 * PWSNP the unit cannot honour (ECAP.SMPWC = 0), a PGSNP without ECAP.SC,
 * an address width SAGAW does not offer, types ECAP does not offer. */
#ifndef TESTS_HOST_MODEL_WALK_H
#define TESTS_HOST_MODEL_WALK_H

#include <stdbool.h>
#include <stdint.h>

struct model_dma {
    bool ok;
    uint64_t phys;  /* the translated address when ok */
    char why[200];  /* the fault otherwise: which structure and what */
};

/* A request from sid at iova (PGTABLE_ACC_* access), without a PASID
 * (scalable mode: the context entry's RID_PASID) or with `pasid`
 * (pasid >= 0).  The unit is the fake's: fk.rtaddr, fk.cap, fk.ecap. */
struct model_dma model_dma(uint16_t sid, int32_t pasid, uint64_t iova, unsigned access);

#endif
