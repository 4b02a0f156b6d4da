/* The test's own statement of which bits the IOMMU reads, written as field
 * tables independently of iommu/pasid_entry.c and iommu/context_entry.c,
 * so the host proof does not judge the library by the library's rules. */
#ifndef TESTS_HOST_MODEL_RULES_H
#define TESTS_HOST_MODEL_RULES_H

#include <stdint.h>

/* Scalable-mode PASID entry (8 qwords), as this project reads the spec. */
void model_pasid_used(const uint64_t *entry, uint64_t *used);
/* The same, with the Linux series' choices (FS without FPD/SRE/WPE/EAFE,
 * SS/PT without PGSNP, a non-present entry uses only P), for comparison
 * only. */
void model_pasid_used_series(const uint64_t *entry, uint64_t *used);
/* Scalable-mode context entry (4 qwords) and legacy context entry (2). */
void model_sm_context_used(const uint64_t *entry, uint64_t *used);
void model_legacy_context_used(const uint64_t *entry, uint64_t *used);

/* What the non-present window of a breaking update from start to target
 * must show, in the bits a non-present entry uses: FPD set when start or
 * target sets it (VT-d 9.3/9.4/9.6: FPD counts even when P is 0; why the
 * "or", see iommu/pasid_entry.c).  All three formats keep FPD in bit 1. */
void model_window_fpd_or(const uint64_t *start, const uint64_t *target, uint64_t *window);

/* A rule set the model IOMMU judges by. */
struct model_rules {
    void (*used)(const uint64_t *entry, uint64_t *used);
    /* NULL: the window must be all zeros in the bits it uses. */
    void (*window)(const uint64_t *start, const uint64_t *target, uint64_t *window);
};

extern const struct model_rules model_pasid_rules;        /* ours */
extern const struct model_rules model_pasid_series_rules; /* the series' */
extern const struct model_rules model_sm_context_rules;
extern const struct model_rules model_legacy_context_rules;

#endif
