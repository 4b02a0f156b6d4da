/* Shared state of the faults suite: the storm and recovery checks
 * (faults.c) and the invalidation-error checks (faults_qi.c). */
#ifndef SUITES_FAULTS_H
#define SUITES_FAULTS_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/edu.h"
#include "drivers/nvme.h"
#include "iommu/domain.h"
#include "app/identity_map.h"

struct vtd_unit;

struct fx {
    struct vtd_unit *u;
    struct vtd_domain dom; /* identity-mapped DMA pools; never the sacrifice */
    struct identity_map dma_map; /* the DMA space over dom */
    bool dom_ok, enabled_here;
    struct pci_dev *nvme_pci, *edu_pci;
    struct nvme_ctrl nvme;
    struct edu edu;
    bool nvme_ok, edu_ok;
    uint16_t nvme_sid, edu_sid;
    /* The unmapped IOVA of every storm is this page's physical address:
     * if translation were bypassed the DMA would land here, so a canary in
     * it proves nothing got through (and a watchdog that turns translation
     * off mid-storm leaves the devices writing to our own page). */
    uint8_t *sacrifice;
    uint64_t sacrifice_phys;
    uint8_t *buf; /* two mapped pages for the clean round trip */
    uint64_t buf_phys;
};

/* The invalidation-error cases: IQE, ITE, queue full (faults_qi.c). */
void faults_qi_cases(struct fx *f);

#endif
