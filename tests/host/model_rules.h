/* The test's own statement of which bits the IOMMU reads, written as field
 * tables independently of iommu/pasid_entry.c and iommu/context_entry.c,
 * so the host proof does not judge the library by the library's rules. */
#ifndef TESTS_HOST_MODEL_RULES_H
#define TESTS_HOST_MODEL_RULES_H

#include <stdint.h>

/* Scalable-mode PASID entry (8 qwords), as this project reads the spec. */
void model_pasid_used(const uint64_t *entry, uint64_t *used);
/* The same, with the Linux series' choices (FS without FPD/SRE/WPE/EAFE,
 * SS/PT without PGSNP), for comparison only. */
void model_pasid_used_series(const uint64_t *entry, uint64_t *used);
/* Scalable-mode context entry (4 qwords) and legacy context entry (2). */
void model_sm_context_used(const uint64_t *entry, uint64_t *used);
void model_legacy_context_used(const uint64_t *entry, uint64_t *used);

#endif
