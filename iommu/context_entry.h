/* VT-d context entries, updated through entry_sync for domain switches.
 *
 * - Scalable-mode context entry (256 bits, VT-d spec 9.4): two 128-bit
 *   chunks; only chunk 0 (bits 127:0) holds fields, bits 255:128 are
 *   reserved, so an update never has more than one critical chunk.
 * - Legacy context entry (128 bits, spec 9.3): a single 128-bit chunk, so
 *   every update is hitless: one CMPXCHG16B, one sync.
 *
 * A sync for a context entry (engine side): context-cache invalidation,
 * device-selective, with the domain id of entry_sync_point.cached (legacy;
 * scalable mode uses DID 0 there), then for legacy mode a domain-selective
 * IOTLB invalidation of that DID, for scalable mode PASID-cache and IOTLB
 * invalidation of the PASIDs the device used; device-TLB where ATS is on;
 * then an invalidation wait.  As for PASID entries, a not-present ->
 * present change needs nothing unless CAP.CM is set. */
#ifndef IOMMU_CONTEXT_ENTRY_H
#define IOMMU_CONTEXT_ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/entry_sync.h"

/* ---- scalable mode --------------------------------------------------------- */

struct sm_context_entry {
    uint64_t q[4];
} __attribute__((aligned(32)));

#define SM_CTX_P (1ULL << 0)      /* 0 */
#define SM_CTX_FPD (1ULL << 1)    /* 1 */
#define SM_CTX_DTE (1ULL << 2)    /* 2: device-TLB (ATS) enable */
#define SM_CTX_PASIDE (1ULL << 3) /* 3: PASID-tagged requests enable */
#define SM_CTX_PRE (1ULL << 4)    /* 4: page request enable */
#define SM_CTX_PDTS_SHIFT 9       /* 11:9: PASID dir size 2^(x+7) */
#define SM_CTX_PDTS_MASK (7ULL << 9)
#define SM_CTX_PASIDDIRPTR 0xfffffffffffff000ULL /* 63:12 */
#define SM_CTX_RID_PASID_MASK 0xfffffULL         /* 83:64 (qword 1) */
#define SM_CTX_RID_PRIV (1ULL << 20)             /* 84 (qword 1) */

struct sm_context_cfg {
    uint64_t pasid_dir; /* PASID directory, 4 KiB aligned */
    uint8_t pdts;       /* directory holds 2^(pdts+7) entries */
    uint32_t rid_pasid; /* PASID for requests without one */
    bool fpd, dte, paside, pre, rid_priv;
};

void sm_context_build_blocked(struct sm_context_entry *e);
void sm_context_build(struct sm_context_entry *e, const struct sm_context_cfg *c);
void sm_context_used(const struct sm_context_entry *e, struct sm_context_entry *used);
extern const struct entry_format sm_context_format;

/* ---- legacy mode ------------------------------------------------------------ */

struct legacy_context_entry {
    uint64_t q[2];
} __attribute__((aligned(16)));

#define LEGACY_CTX_P (1ULL << 0)   /* 0 */
#define LEGACY_CTX_FPD (1ULL << 1) /* 1 */
#define LEGACY_CTX_TT_SHIFT 2      /* 3:2: translation type */
#define LEGACY_CTX_TT_MASK (3ULL << 2)
#define LEGACY_CTX_SLPTPTR 0xfffffffffffff000ULL /* 63:12 */
#define LEGACY_CTX_AW_MASK 7ULL                  /* 66:64 (qword 1) */
#define LEGACY_CTX_DID_SHIFT 8                   /* 87:72 (qword 1) */
#define LEGACY_CTX_DID_MASK (0xffffULL << 8)

enum legacy_context_tt {
    LEGACY_TT_UNTRANSLATED = 0, /* untranslated requests only */
    LEGACY_TT_ALL = 1,          /* untranslated, translated, translation requests */
    LEGACY_TT_PASS_THROUGH = 2,
};

struct legacy_context_cfg {
    uint64_t slptptr; /* second-level root, 4 KiB aligned (ignored for PT) */
    uint16_t did;
    uint8_t aw; /* 1 = 39-bit, 2 = 48-bit, 3 = 57-bit */
    enum legacy_context_tt tt;
    bool fpd;
};

void legacy_context_build_blocked(struct legacy_context_entry *e);
void legacy_context_build(struct legacy_context_entry *e, const struct legacy_context_cfg *c);
void legacy_context_used(const struct legacy_context_entry *e, struct legacy_context_entry *used);
extern const struct entry_format legacy_context_format;

#endif
