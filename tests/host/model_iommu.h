/* A model IOMMU for the host proof of entry_sync.
 *
 * It plugs in as entry_sync_ops: it records every chunk store and every
 * sync.  Its reader fetches each chunk atomically but independently, and
 * may use, for every chunk, any value that chunk held since the last
 * completed sync (a cached or early-fetched copy).  At every sync and when
 * the update returns it assembles every entry such a reader could see and
 * judges each, in the bits that entry uses (by the test's own rules), as
 * the start entry, the target entry, or (only where allowed) the
 * non-present window the rules ask for: a non-present entry still has a
 * meaning (VT-d: FPD), so not any non-present entry will do.
 *
 * Fault models: `torn_64` stores a 128-bit chunk as two 64-bit halves, each
 * visible on its own; `drop_sync` makes the Nth sync do nothing.
 *
 * Reader model `rereads` (QEMU 10.0.2): one translation reads the whole
 * entry again for each field, so it may take the type from one entry in
 * memory and a later field from a later one.  Between two syncs of a
 * hitless update, a bit an earlier entry uses must then keep its value in
 * every later entry that does not use it, or the reader pairs the old type
 * with a field the new entry left meaningless (SS -> PT: the second-stage
 * pointer).  The library is told (entry_sync_ops.reader_rereads). */
#ifndef TESTS_HOST_MODEL_IOMMU_H
#define TESTS_HOST_MODEL_IOMMU_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/entry_sync.h"
#include "tests/host/model_rules.h"

#define MODEL_MAX_VERSIONS 16
#define MODEL_MAX_SNAPS 16

struct model_opts {
    bool torn_64;
    unsigned drop_sync; /* 1-based index of the sync to lose; 0: none */
    bool rereads;       /* check for a reader that rereads (see above) */
};

struct model_iommu {
    const struct entry_format *fmt;
    const struct model_rules *rules;
    struct model_opts opts;
    const uint64_t *start, *target;
    uint64_t window[ENTRY_SYNC_MAX_QWORDS]; /* what a breaking window must show */
    bool allow_non_present;

    uint64_t mem[ENTRY_SYNC_MAX_QWORDS] __attribute__((aligned(64)));
    uint64_t at_sync[ENTRY_SYNC_MAX_QWORDS];
    uint64_t versions[ENTRY_SYNC_MAX_CHUNKS][MODEL_MAX_VERSIONS][2];
    unsigned nr_versions[ENTRY_SYNC_MAX_CHUNKS];
    /* The whole entry after each store since the last sync, in order. */
    uint64_t snaps[MODEL_MAX_SNAPS][ENTRY_SYNC_MAX_QWORDS];
    unsigned nr_snaps;
    unsigned reread_violations; /* counted in violations too */

    unsigned stores, syncs, sync_calls;
    unsigned long combos; /* assembled entries judged */
    unsigned violations;  /* assembled entries neither start nor target */
    unsigned non_present_seen;
    unsigned wrong_window; /* non-present entries that were not the window */
    unsigned window_stores; /* Present-chunk stores that left P clear */
    uint64_t window_q0;     /* the Present qword after the last of them */
    unsigned bad_sync_points; /* sync told a wrong cached/now entry */
    unsigned wrong_address;   /* store aimed outside the entry */
    bool unsynced_at_end;     /* a store not followed by a sync */
    bool final_mismatch;      /* memory != target at the end */
    char first_problem[320];
};

void model_init(struct model_iommu *m, const struct entry_format *fmt,
                const struct model_rules *rules, const uint64_t *start, const uint64_t *target,
                bool allow_non_present, struct model_opts opts);
struct entry_sync_ops model_ops(struct model_iommu *m);
/* Judge what is still pending once entry_sync_write() has returned. */
void model_finish(struct model_iommu *m);
bool model_clean(const struct model_iommu *m);

#endif
