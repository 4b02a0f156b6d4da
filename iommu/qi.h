/* Invalidation: the queued-invalidation interface (spec 6.5.2) with a
 * register-based fallback (spec 6.5.1) for units without ECAP.QI.
 *
 * Descriptors are 128 bits in legacy mode and 256 bits in scalable mode
 * (IQA.DW, spec 11.4.9.3); the upper half of a 256-bit descriptor is zero
 * for every type used here.  Every vtd_inv_* call queues one descriptor;
 * vtd_inv_wait queues an invalidation-wait with a status write and polls
 * the status with a deadline.  Errors the hardware reports (FSTS.IQE, ITE,
 * ICE) are decoded with the offending descriptor, cleared and recovered
 * from, so the queue stays usable and the run goes on.
 *
 * With register-based invalidation each call completes synchronously and
 * vtd_inv_wait only returns.  PASID-granular invalidations do not exist
 * there (scalable mode requires QI). */
#ifndef IOMMU_QI_H
#define IOMMU_QI_H

#include <stdbool.h>
#include <stdint.h>

struct vtd_unit;

/* Descriptor types (spec 6.5.2, bits 3:0 plus 11:9). */
enum vtd_desc_type {
    VTD_DESC_CC = 0x1,      /* context-cache invalidate */
    VTD_DESC_IOTLB = 0x2,   /* IOTLB invalidate */
    VTD_DESC_DEVTLB = 0x3,  /* device-TLB invalidate */
    VTD_DESC_IEC = 0x4,     /* interrupt entry cache invalidate */
    VTD_DESC_WAIT = 0x5,    /* invalidation wait */
    VTD_DESC_PIOTLB = 0x6,  /* PASID-based IOTLB invalidate */
    VTD_DESC_PC = 0x7,      /* PASID-cache invalidate */
    VTD_DESC_PDEVTLB = 0x8, /* PASID-based device-TLB invalidate */
};

/* Granularities, encoded as in the descriptors. */
enum vtd_cc_gran { VTD_CC_GLOBAL = 1, VTD_CC_DOMAIN = 2, VTD_CC_DEVICE = 3 };
enum vtd_iotlb_gran { VTD_IOTLB_GLOBAL = 1, VTD_IOTLB_DOMAIN = 2, VTD_IOTLB_PAGE = 3 };
enum vtd_pc_gran { VTD_PC_DOMAIN = 0, VTD_PC_PASID = 1, VTD_PC_GLOBAL = 3 };
enum vtd_piotlb_gran { VTD_PIOTLB_PASID = 2, VTD_PIOTLB_PAGE = 3 };

struct vtd_qi {
    bool enabled; /* queue in use; false: register-based invalidation */
    bool wide;    /* 256-bit descriptors */
    uint64_t *queue;
    uint64_t queue_phys;
    unsigned entries; /* descriptors in the queue */
    unsigned tail;    /* next free slot */
    volatile uint32_t *status;
    uint64_t status_phys;
    uint32_t next_token;
    uint64_t filler[2]; /* harmless descriptor that replaces a bad one */
    bool broken;        /* the unit refused even the filler: queue abandoned */
    /* Statistics and error history for suites. */
    uint32_t submitted, waits, errors, iqe, ite, ice, full_waits;
    uint64_t last_error_desc[4];
    unsigned last_error_index;
};

const char *vtd_desc_type_name(unsigned type);
/* "type=iotlb g=domain did=3 ..." for a diagnostic line. */
int vtd_desc_format(const uint64_t *desc, bool wide, char *buf, unsigned len);

/* Set up the queue (ECAP.QI) and enable it; otherwise note the fallback.
 * Returns 0 or -1 (reason printed). */
int vtd_qi_init(struct vtd_unit *u);
/* Wait until the hardware has fetched everything, then disable the queue. */
void vtd_qi_disable(struct vtd_unit *u);

/* Queue a raw descriptor (2 or 4 qwords as the mode says).  For tests that
 * need a deliberately bad one.  Returns 0 or -1. */
int vtd_qi_submit(struct vtd_unit *u, const uint64_t *desc);
/* Check FSTS for queue errors, report and recover.  Returns the FSTS
 * error bits it found (0 = none). */
uint32_t vtd_qi_check_errors(struct vtd_unit *u);

int vtd_inv_context(struct vtd_unit *u, enum vtd_cc_gran g, uint16_t did, uint16_t sid, uint8_t fm);
int vtd_inv_iotlb(struct vtd_unit *u, enum vtd_iotlb_gran g, uint16_t did, uint64_t addr,
                  uint8_t am, bool ih);
int vtd_inv_pasid_cache(struct vtd_unit *u, enum vtd_pc_gran g, uint16_t did, uint32_t pasid);
int vtd_inv_piotlb(struct vtd_unit *u, enum vtd_piotlb_gran g, uint16_t did, uint32_t pasid,
                   uint64_t addr, uint8_t am, bool ih);

/* The function whose device-TLB (ATS translation cache) is invalidated. */
struct vtd_devtlb_target {
    uint16_t sid;    /* its requester id */
    uint16_t pf_sid; /* its physical function: the PF's for an SR-IOV VF, else sid */
    uint8_t qdep;    /* ATS capability's Invalidate Queue Depth (5 bits, 0 = 32) */
};
/* size_order for the whole 64-bit address space: 2^(12 + 52) bytes. */
#define VTD_DEVTLB_ALL 52
/* Device-TLB invalidation of [addr, addr + 2^(12+size_order)), addr
 * aligned to that size.  vtd_inv_devtlb (6.5.2.5) reaches translations the
 * device fetched for requests without PASID: in legacy mode all of them,
 * in scalable mode those of the RID_PASID entry.  vtd_inv_pasid_devtlb
 * (6.5.2.6, scalable mode) reaches those fetched with `pasid`.  The PF's
 * SID goes into PFSID only where ECAP.DIT is set; elsewhere the field is
 * reserved and stays 0.  Returns 0, or -1 (no queue, no ECAP.DT, a range
 * the size encoding cannot express, or the unit refused it). */
int vtd_inv_devtlb(struct vtd_unit *u, const struct vtd_devtlb_target *t, uint64_t addr,
                   unsigned size_order);
int vtd_inv_pasid_devtlb(struct vtd_unit *u, const struct vtd_devtlb_target *t, uint32_t pasid,
                         uint64_t addr, unsigned size_order);
/* Invalidation wait with a status write, polled up to VTD_INV_TIMEOUT_US.
 * Returns 0, or -1 on timeout or a queue error (reported). */
int vtd_inv_wait(struct vtd_unit *u);

/* Everything: global context cache, global IOTLB (and with scalable mode
 * global PASID cache), then a wait. */
int vtd_inv_all(struct vtd_unit *u);

#endif
