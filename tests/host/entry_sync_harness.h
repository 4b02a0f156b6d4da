/* Runs one entry update against the model IOMMU and compares it with what
 * the test derives on its own from the used-bit rules. */
#ifndef TESTS_HOST_ENTRY_SYNC_HARNESS_H
#define TESTS_HOST_ENTRY_SYNC_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/entry_sync.h"
#include "tests/host/model_iommu.h"

typedef void (*used_fn)(const uint64_t *entry, uint64_t *used);

/* What the update must do, derived independently of the library: a chunk
 * is critical iff some bit in it is used by both entries and changes. */
struct expectation {
    enum entry_sync_class cls;
    unsigned critical_mask;
    unsigned syncs;
};

struct expectation expect_update(const struct entry_format *fmt, used_fn used, const uint64_t *cur,
                                 const uint64_t *tgt, enum entry_sync_strategy strategy);

/* Ways a run can go wrong, as a bit set. */
enum {
    FAIL_READER = 1 << 0,   /* the model's reader saw a mixed/non-present entry */
    FAIL_FINAL = 1 << 1,    /* memory != target, or unsynced stores at the end */
    FAIL_SYNCS = 1 << 2,    /* sync count differs from the minimum */
    FAIL_CLASS = 1 << 3,    /* class or critical chunks differ */
    FAIL_CONTRACT = 1 << 4, /* result counters or sync points disagree with the model */
};

struct pair_run {
    struct expectation exp;
    struct entry_sync_result res;
    struct model_iommu model;
    unsigned failures;
    char why[400];
};

/* `judge` is the rule set the model judges by; `fmt->used` and
 * `fmt->window` are what the library believes (they differ only where a
 * test hands the library a defective format). */
void run_pair(const struct entry_format *fmt, const struct model_rules *judge,
              const uint64_t *start, const uint64_t *target, enum entry_sync_strategy strategy,
              struct model_opts opts, struct pair_run *r);

/* A defect on the caller's side of entry_sync: given the model's ops (and
 * the model, for the start and target entries), return the ops the library
 * is handed.  They stand between the library and the model, e.g. a
 * write_chunk that loses or reorders stores, and pass the rest on. */
typedef struct entry_sync_ops (*ops_wrapper)(struct entry_sync_ops model_ops,
                                             const struct model_iommu *m);

/* run_pair() with the library's ops wrapped by `wrap` (NULL: none). */
void run_pair_wrapped(const struct entry_format *fmt, const struct model_rules *judge,
                      const uint64_t *start, const uint64_t *target,
                      enum entry_sync_strategy strategy, struct model_opts opts, ops_wrapper wrap,
                      struct pair_run *r);

#endif
