/* The Intel VT-d scalable-mode PASID table entry (512 bits, VT-d spec
 * section 9.6): field layout, builders for each translation type, and the
 * used() rules that let entry_sync update it hitlessly.
 *
 * The entry is handled as four 128-bit chunks (chunk 0 = qwords 0-1 holds
 * Present); chunks 2 and 3 are reserved and never used.  An entry in a
 * table must be 64-byte aligned, so every chunk is 16-byte aligned as
 * CMPXCHG16B requires. */
#ifndef IOMMU_PASID_ENTRY_H
#define IOMMU_PASID_ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/entry_sync.h"

#define PASID_ENTRY_QWORDS 8

struct pasid_entry {
    uint64_t q[PASID_ENTRY_QWORDS];
} __attribute__((aligned(64)));

/* PASID Granular Translation Type (bits 8:6). */
enum pasid_pgtt {
    PASID_PGTT_FS = 1,     /* first-stage only */
    PASID_PGTT_SS = 2,     /* second-stage only */
    PASID_PGTT_NESTED = 3, /* first stage nested in second stage */
    PASID_PGTT_PT = 4,     /* pass-through */
};

/* A field: which qword, where it starts, and its bits in place.  Pointer
 * fields have shift 0 so their value is the 4 KiB aligned address itself. */
struct pasid_field {
    uint8_t qword;
    uint8_t shift;
    uint64_t mask;
};

#define PASID_BITS(hi, lo) ((~0ULL >> (63 - (hi))) & (~0ULL << (lo)))
#define PASID_FIELD(q, hi, lo) ((struct pasid_field){(q), (lo), PASID_BITS(hi, lo)})
#define PASID_PTR_FIELD(q) ((struct pasid_field){(q), 0, PASID_BITS(63, 12)})

/* Entry bit numbers in comments are those of the spec (0..511). */
#define PASID_P PASID_FIELD(0, 0, 0)       /* 0 */
#define PASID_FPD PASID_FIELD(0, 1, 1)     /* 1 */
#define PASID_AW PASID_FIELD(0, 4, 2)      /* 4:2 */
#define PASID_PGTT PASID_FIELD(0, 8, 6)    /* 8:6 */
#define PASID_SSADE PASID_FIELD(0, 9, 9)   /* 9 */
#define PASID_SSPTPTR PASID_PTR_FIELD(0)   /* 63:12 */
#define PASID_DID PASID_FIELD(1, 15, 0)    /* 79:64 */
#define PASID_PWSNP PASID_FIELD(1, 23, 23) /* 87 */
#define PASID_PGSNP PASID_FIELD(1, 24, 24) /* 88 */
#define PASID_SRE PASID_FIELD(2, 0, 0)     /* 128 */
#define PASID_FSPM PASID_FIELD(2, 3, 2)    /* 131:130 */
#define PASID_WPE PASID_FIELD(2, 4, 4)     /* 132 */
#define PASID_EAFE PASID_FIELD(2, 7, 7)    /* 135 */
#define PASID_FSPTPTR PASID_PTR_FIELD(2)   /* 191:140 */

/* FSPM encodings. */
#define PASID_FSPM_4LEVEL 0
#define PASID_FSPM_5LEVEL 1
/* AW encodings (second-stage / address width). */
#define PASID_AW_39BIT 1
#define PASID_AW_48BIT 2
#define PASID_AW_57BIT 3

uint64_t pasid_entry_get(const struct pasid_entry *e, struct pasid_field f);
void pasid_entry_set(struct pasid_entry *e, struct pasid_field f, uint64_t value);
bool pasid_entry_present(const struct pasid_entry *e);
enum pasid_pgtt pasid_entry_pgtt(const struct pasid_entry *e);
/* "blocked", "FS", "SS", "nested", "PT" or "PGTT?" (reserved encodings). */
const char *pasid_entry_mode_name(const struct pasid_entry *e);

/* Everything a builder may put into an entry; each builder takes only the
 * fields its translation type uses and leaves every other bit zero. */
struct pasid_entry_cfg {
    uint16_t did;
    uint8_t aw;       /* PASID_AW_* */
    bool fpd;         /* suppress fault reporting */
    bool pwsnp;       /* snoop page-walk accesses */
    bool pgsnp;       /* snoop all translated accesses */
    uint64_t ss_root; /* second-stage table (SS, nested), 4 KiB aligned */
    bool ssade;       /* second-stage accessed/dirty flags */
    uint64_t fs_root; /* first-stage table (FS, nested), 4 KiB aligned */
    bool fs_5level;   /* FSPM: 5-level instead of 4-level paging */
    bool sre, wpe, eafe;
};

void pasid_entry_build_blocked(struct pasid_entry *e);
void pasid_entry_build_pt(struct pasid_entry *e, const struct pasid_entry_cfg *c);
void pasid_entry_build_ss(struct pasid_entry *e, const struct pasid_entry_cfg *c);
void pasid_entry_build_fs(struct pasid_entry *e, const struct pasid_entry_cfg *c);
void pasid_entry_build_nested(struct pasid_entry *e, const struct pasid_entry_cfg *c);

/* The bits the IOMMU reads for this entry (see pasid_entry.c for why). */
void pasid_entry_used(const struct pasid_entry *e, struct pasid_entry *used);

/* The entry as four 128-bit chunks: what entry_sync needs.  The ops' store
 * must be a 16-byte atomic store (atomic128_store). */
extern const struct entry_format pasid_entry_format;
/* The same entry as eight 64-bit chunks: what a CPU without CMPXCHG16B
 * could do.  For comparisons only; never program hardware with it. */
extern const struct entry_format pasid_entry_format_64;

/* Update a live PASID entry to target through entry_sync. */
struct entry_sync_result pasid_entry_write(volatile struct pasid_entry *e,
                                           const struct pasid_entry *target,
                                           const struct entry_sync_ops *ops,
                                           enum entry_sync_strategy strategy);

#endif
