/* entry_sync: update an IOMMU table entry that hardware may read at any time.
 *
 * An entry is 1..8 chunks of 64 or 128 bits.  The hardware reads each chunk
 * atomically but may mix chunks of different ages, and it may keep a cached
 * copy of the entry until software syncs (invalidates).  entry_sync_write()
 * moves an entry from its current value to a target with the fewest syncs
 * for which every entry the hardware could assemble is, in the bits it uses,
 * either the old entry or the new one ("hitless").  When that is impossible
 * it falls back to a "breaking" update through a non-present entry.
 *
 * The library knows nothing about VT-d.  An entry format describes the
 * geometry and which bits a given entry makes the hardware use; the caller's
 * ops perform the chunk stores and the syncs.  See iommu/pasid_entry.h and
 * iommu/context_entry.h for the formats, docs in shared/design/entry-sync.md
 * for the algorithm.
 *
 * Not thread-safe: the caller serialises updates of one entry. */
#ifndef IOMMU_ENTRY_SYNC_H
#define IOMMU_ENTRY_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#define ENTRY_SYNC_MAX_CHUNKS 8
#define ENTRY_SYNC_MAX_QWORDS (2 * ENTRY_SYNC_MAX_CHUNKS)

/* What the hardware may interpret in a given entry.  Pure functions of the
 * entries passed in: no side effects, no hidden state. */
struct entry_format {
    const char *name;      /* for trace lines, e.g. "pasid" */
    uint8_t nr_chunks;     /* 1..ENTRY_SYNC_MAX_CHUNKS */
    uint8_t chunk_qwords;  /* 1 (64-bit chunks) or 2 (128-bit chunks) */
    uint8_t present_qword; /* qword holding the Present bit */
    uint64_t present_mask; /* the Present bit(s) inside that qword */
    /* Fill used[0..nr_chunks*chunk_qwords) with the bits the hardware reads
     * for this entry.  A non-present entry reports Present and whatever the
     * hardware still reads without it (VT-d: FPD); all of those must lie in
     * the Present chunk, as a breaking update rewrites the other chunks
     * while its non-present entry is up. */
    void (*used)(const uint64_t *entry, uint64_t *used);
    /* Optional (NULL = none): bits that may take their target value early,
     * before the critical chunk flips, even though the current entry uses
     * them (SMMUv3's "update safe" idea).  Extension point. */
    void (*update_safe)(const uint64_t *cur, const uint64_t *tgt, uint64_t *safe);
    /* Optional (NULL = all zeros): the non-present entry a breaking update
     * passes through on its way from cur to tgt, written into `out`, which
     * arrives all zeros; only its Present chunk is stored, and its Present
     * bit is forced clear.  A format whose
     * non-present entries still mean something decides here what the
     * window shows (VT-d: whether its faults are reported). */
    void (*window)(const uint64_t *cur, const uint64_t *tgt, uint64_t *out);
};

enum entry_sync_class {
    ENTRY_SYNC_NONE,     /* no used bit changes meaning: 0 or 1 sync */
    ENTRY_SYNC_HITLESS,  /* one critical chunk flipped atomically: 1..3 syncs */
    ENTRY_SYNC_BREAKING, /* through a non-present entry: 3 syncs */
};

enum entry_sync_strategy {
    ENTRY_SYNC_STRATEGY_HITLESS, /* the entry_sync algorithm */
    ENTRY_SYNC_STRATEGY_CLEAR,   /* baseline: clear Present, write, set Present */
};

/* Handed to ops->sync: what the hardware may have cached and what is in
 * memory now.  `cached` is the entry as it stood at the previous sync (or
 * at the start of the update): every translation the IOMMU holds for this
 * entry was derived from it, so invalidation uses ITS domain id and ITS
 * translation type.  Both arrays have nr_chunks * chunk_qwords qwords and
 * are valid only during the call. */
struct entry_sync_point {
    const uint64_t *cached;
    const uint64_t *now;
    bool cached_present;
    bool now_present;
    uint8_t sync_index; /* 1 for the first sync of this update, ... */
    enum entry_sync_class cls;
};

/* The caller's side.
 *
 * write_chunk: store chunk `index` (chunk_qwords qwords at `value`) into the
 *   entry in ONE atomic store as seen by the IOMMU: a plain aligned 64-bit
 *   store for 64-bit chunks, LOCK CMPXCHG16B on the 16-byte aligned address
 *   for 128-bit chunks (arch/x86/atomic128.h).  Host tests record instead.
 *
 * sync: make the IOMMU forget every cached copy of the entry and of what it
 *   pointed to, and wait until it has.  For a VT-d PASID entry the engine:
 *   - if !p->cached_present: nothing was cached (unless CAP.CM, caching
 *     mode, is set: then do the PASID-cache and IOTLB steps below with the
 *     domain id of p->now; without CM flush the write buffer if CAP.RWBF);
 *   - else, with DID and PGTT read from p->cached:
 *     1. PASID-cache invalidation, PASID-selective within that DID;
 *     2. IOTLB: PASID-based IOTLB invalidation for first-stage and
 *        pass-through, domain-selective IOTLB invalidation for second-stage
 *        and nested;
 *     3. device-TLB invalidation if the device has ATS enabled;
 *   - then an invalidation-wait descriptor with a status write, polled
 *     with a TSC deadline; a timeout is reported, never a hang.
 *   When ECAP.C is 0 (page walks not coherent) CLFLUSH the entry's cache
 *   line(s) before queueing the descriptors.
 *
 * trace: where trace lines go when `tracing` is set; NULL means kprintf.
 *   Every line starts with "# " so it is a KTAP diagnostic on target. */
struct entry_sync_ops {
    void *ctx;
    void (*write_chunk)(void *ctx, volatile uint64_t *entry, unsigned index, const uint64_t *value);
    void (*sync)(void *ctx, const struct entry_sync_point *p);
    void (*trace)(void *ctx, const char *line);
    bool tracing;
    /* The IOMMU may read the entry again for each field of one translation
     * (QEMU 10.0.2 does: README "What vtdsync found in QEMU 10.0.2"), so it
     * can decide the translation type from the old entry and take a table
     * pointer from the new one.  A hitless update then keeps every bit the
     * old entry uses and the target does not (e.g. the second-stage pointer
     * of SS -> PT) at its old value in the critical store, and clears it in
     * a last store after the next sync: one more sync where such bits
     * change.  The non-present window of a breaking update likewise keeps
     * the old entry in every bit it does not use itself, so a reader that
     * took Present from the old entry never walks a zeroed pointer.  The
     * VT-d spec reads each 128-bit chunk once and atomically; this is a
     * platform workaround, off by default. */
    bool reader_rereads;
};

struct entry_sync_result {
    enum entry_sync_class cls;
    uint8_t syncs;          /* ops->sync calls */
    uint8_t chunks_written; /* ops->write_chunk calls */
    uint8_t critical;       /* number of critical chunks */
    uint8_t critical_mask;  /* bit i set: chunk i is critical */
};

/* Move *entry to target.  `entry` is the live table entry (read here with
 * plain loads: only this CPU writes it), `target` has
 * nr_chunks * chunk_qwords qwords.  On return the entry equals target
 * exactly and the last store has been followed by a sync. */
struct entry_sync_result entry_sync_write(const struct entry_format *fmt,
                                          const struct entry_sync_ops *ops,
                                          volatile uint64_t *entry, const uint64_t *target,
                                          enum entry_sync_strategy strategy);

/* Classify without writing anything (same rules as entry_sync_write). */
struct entry_sync_result entry_sync_classify(const struct entry_format *fmt, const uint64_t *cur,
                                             const uint64_t *tgt);

bool entry_sync_is_present(const struct entry_format *fmt, const uint64_t *entry);
const char *entry_sync_class_name(enum entry_sync_class cls);
const char *entry_sync_strategy_name(enum entry_sync_strategy s);

#endif
