/* VT-d page tables: builders for second-stage and first-stage tables and a
 * walker that translates an address the way the IOMMU does.
 *
 * Portable: the module never touches hardware.  Table pages come from the
 * caller through struct pgtable_mem_ops, so the same code runs on target
 * (identity mapping, CLFLUSH) and in tests/host (fake physical addresses).
 *
 * Formats (VT-d specification, chapter 9):
 *   second stage  section 9.8, 3/4/5 levels (AGAW 39/48/57), the table
 *                 pointer goes to SSPTPTR (PASID entry) or SLPTPTR (legacy
 *                 context entry);
 *   first stage   section 9.7, IA-32e paging with 4 or 5 levels (FSPM), the
 *                 table pointer goes to FSPTPTR.
 *
 * Levels are numbered like the spec's entry names: 1 = PTE (4 KiB),
 * 2 = PDE (2 MiB), 3 = PDPE (1 GiB), 4 = PML4E, 5 = PML5E.
 *
 * Publication is the caller's job: every entry the builder writes is passed
 * to mem->flush (non-coherent walks, ECAP.C = 0), but the IOTLB / paging-
 * structure-cache invalidation that makes a change visible is not done here.
 * For the same reason table pages emptied by pgtable_unmap() are not freed
 * at once: the IOMMU may still hold a cached pointer to them until the caller
 * has invalidated.  They wait on a list until pgtable_reclaim(). */
#ifndef IOMMU_PGTABLE_H
#define IOMMU_PGTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PGTABLE_PAGE_SIZE 0x1000ULL
#define PGTABLE_SIZE_2M 0x200000ULL
#define PGTABLE_SIZE_1G 0x40000000ULL

enum pgtable_format {
    PGTABLE_SECOND_STAGE,
    PGTABLE_FIRST_STAGE,
};

/* Large pages, with the encoding of CAP.SLLPS bits 1:0 (second stage).  For
 * the first stage, 2 MiB pages always exist in IA-32e paging and 1 GiB ones
 * need CAP.FS1GP (FL1GP in older revisions). */
#define PGTABLE_LARGE_2M (1u << 0)
#define PGTABLE_LARGE_1G (1u << 1)

/* Flags of a mapping (pgtable_map).  PGTABLE_X sets the second-stage X bit
 * (execute requests); first-stage pages are always executable since XD is
 * never set, so there it has no effect. */
#define PGTABLE_R (1u << 0)          /* read; mandatory for the first stage */
#define PGTABLE_W (1u << 1)          /* write; without it the mapping is read-only */
#define PGTABLE_X (1u << 2)          /* execute */
#define PGTABLE_SUPERVISOR (1u << 3) /* first stage: U/S = 0 (default: user) */
#define PGTABLE_4K_ONLY (1u << 4)    /* never use a large page for this mapping */

/* ---- entry formats ------------------------------------------------------ */

/* Second-stage paging entries (VT-d section 9.8). */
#define PGTABLE_SS_R (1ULL << 0)    /* read */
#define PGTABLE_SS_W (1ULL << 1)    /* write */
#define PGTABLE_SS_X (1ULL << 2)    /* execute (only with execute requests) */
#define PGTABLE_SS_PS (1ULL << 7)   /* PDE/PDPE: leaf; reserved in PML4E/PML5E */
#define PGTABLE_SS_A (1ULL << 8)    /* accessed, with SSADE; ignored otherwise */
#define PGTABLE_SS_D (1ULL << 9)    /* dirty (leaves), with SSADE */
#define PGTABLE_SS_SNP (1ULL << 11) /* snoop: never set here */
#define PGTABLE_SS_TM (1ULL << 62)  /* transient mapping: never set here */

/* First-stage paging entries: IA-32e format (VT-d section 9.7). */
#define PGTABLE_FS_P (1ULL << 0)   /* present */
#define PGTABLE_FS_RW (1ULL << 1)  /* writable */
#define PGTABLE_FS_US (1ULL << 2)  /* user accessible */
#define PGTABLE_FS_A (1ULL << 5)   /* accessed */
#define PGTABLE_FS_D (1ULL << 6)   /* dirty (leaves) */
#define PGTABLE_FS_PS (1ULL << 7)  /* PDE/PDPE: leaf; reserved in PML4E/PML5E */
#define PGTABLE_FS_XD (1ULL << 63) /* execute disable: never set here */

/* Address field of every entry: bits 51:12; bits 51:HAW are reserved. */
#define PGTABLE_ADDR_MASK 0x000ffffffffff000ULL

struct pgtable_params {
    enum pgtable_format format;
    unsigned levels;      /* second stage 3, 4 or 5; first stage 4 or 5 */
    unsigned phys_bits;   /* HAW: output and table addresses are below
                             2^phys_bits (bits 51:HAW are reserved); 0 = 52 */
    unsigned large_pages; /* PGTABLE_LARGE_*: supported and permitted; the
                             walker takes PS at other levels as reserved */
    bool ssade;           /* second stage: A/D bits defined (PASID entry SSADE);
                             without it they are ignored and left 0 */
    bool preset_ad;       /* set A in every entry and D in every leaf so the
                             IOMMU has nothing to write back; no effect on a
                             second-stage table without ssade */
};

struct pgtable_mem_ops {
    uint64_t (*alloc_page)(void *ctx); /* zeroed 4 KiB page: phys, or 0 */
    void (*free_page)(void *ctx, uint64_t phys);
    void *(*phys_to_virt)(void *ctx, uint64_t phys);
    /* Write the cache lines of [p, p+len) back to memory for a walker that
     * does not snoop (ECAP.C = 0); NULL when walks are coherent. */
    void (*flush)(void *ctx, const void *p, size_t len);
    void *ctx;
};

struct pgtable {
    struct pgtable_params params;
    struct pgtable_mem_ops mem;
    uint64_t root;      /* phys of the top-level table */
    uint64_t pending;   /* emptied tables waiting for pgtable_reclaim() */
    size_t table_pages; /* pages held: linked tables, root and pending */
};

enum pgtable_err {
    PGTABLE_OK = 0,
    PGTABLE_ERR_PARAMS = -1,   /* bad parameters (levels, format, flags) */
    PGTABLE_ERR_ALIGN = -2,    /* iova, phys or size not 4 KiB aligned, or size 0 */
    PGTABLE_ERR_RANGE = -3,    /* iova range beyond the address width, wraps, or
                                  (first stage) is not canonical */
    PGTABLE_ERR_PHYS = -4,     /* phys range beyond phys_bits */
    PGTABLE_ERR_PERM = -5,     /* permissions the format cannot express */
    PGTABLE_ERR_EXISTS = -6,   /* range overlaps an existing mapping */
    PGTABLE_ERR_NOMEM = -7,    /* alloc_page failed */
    PGTABLE_ERR_SPLIT = -8,    /* unmap would cut a large page in two */
    PGTABLE_ERR_BAD_PAGE = -9, /* alloc_page gave a page the IOMMU cannot use
                                  (unaligned or beyond phys_bits) */
};

const char *pgtable_strerror(int err);

/* Input address width in bits: 12 + 9 * levels (39, 48 or 57). */
unsigned pgtable_width(const struct pgtable_params *p);

/* Allocate an empty root.  *mem is copied. */
int pgtable_init(struct pgtable *t, const struct pgtable_params *p,
                 const struct pgtable_mem_ops *mem);

/* The pointer for SSPTPTR / FSPTPTR / SLPTPTR. */
uint64_t pgtable_root(const struct pgtable *t);

/* Map [iova, iova + size) to [phys, phys + size).  All or nothing: on error
 * no mapping is added (tables allocated on the way go to the pending list).
 * Large pages are used where params.large_pages allows, the flags do not
 * say PGTABLE_4K_ONLY, and iova, phys and the remaining size line up. */
int pgtable_map(struct pgtable *t, uint64_t iova, uint64_t phys, uint64_t size, unsigned flags);

/* Remove every mapping inside [iova, iova + size); unmapped holes are fine.
 * A large page that sticks out of the range gives PGTABLE_ERR_SPLIT and
 * nothing changes.  *unmapped (may be NULL) gets the number of bytes that
 * were mapped.  Tables left empty are unlinked and put on the pending list. */
int pgtable_unmap(struct pgtable *t, uint64_t iova, uint64_t size, uint64_t *unmapped);

/* Free the pending tables: call after the invalidation that covers the
 * unmap (IOTLB and paging-structure caches). */
void pgtable_reclaim(struct pgtable *t);

/* Free every table page, pending ones included.  The table must no longer
 * be reachable by the IOMMU. */
void pgtable_destroy(struct pgtable *t);

/* Identity (iova_offset 0) or offset mappings of a list of physical ranges:
 * range i is mapped at iova = phys + iova_offset (mod 2^64, so a "negative"
 * offset works).  All or nothing. */
struct pgtable_range {
    uint64_t phys;
    uint64_t size;
};
int pgtable_map_ranges(struct pgtable *t, const struct pgtable_range *r, size_t n,
                       uint64_t iova_offset, unsigned flags);

/* ---- walker (pgtable_walk.c) ------------------------------------------- */

/* What the request asks for. */
#define PGTABLE_ACC_READ (1u << 0)
#define PGTABLE_ACC_WRITE (1u << 1)
#define PGTABLE_ACC_EXEC (1u << 2)
#define PGTABLE_ACC_SUPERVISOR (1u << 3) /* first stage: privileged request */

enum pgtable_fault {
    PGTABLE_XLATE_OK = 0,
    PGTABLE_FAULT_ADDR_WIDTH,  /* beyond the address width / not canonical */
    PGTABLE_FAULT_TABLE_ADDR,  /* a table pointer the walker cannot follow */
    PGTABLE_FAULT_NOT_PRESENT, /* entry not present at .level */
    PGTABLE_FAULT_RESERVED,    /* reserved bit set in the entry at .level */
    PGTABLE_FAULT_READ,        /* read, R = 0 (second stage) */
    PGTABLE_FAULT_WRITE,       /* write to a read-only mapping */
    PGTABLE_FAULT_EXEC,        /* execute, X = 0 or XD = 1 */
    PGTABLE_FAULT_PRIVILEGE,   /* user request to a supervisor page (first stage) */
};

struct pgtable_xlate {
    enum pgtable_fault fault;
    unsigned levels;     /* levels of the table walked */
    unsigned level;      /* the leaf's level, or the level that faulted */
    uint64_t phys;       /* translated address (fault == OK) */
    uint64_t page_size;  /* size of the leaf (4 KiB, 2 MiB, 1 GiB) */
    unsigned perms;      /* PGTABLE_R/W/X granted by the whole walk; for the
                            first stage also PGTABLE_SUPERVISOR when any level
                            has U/S = 0 */
    uint64_t entries[5]; /* entries read, entries[L - 1] for level L */
};

/* Translate iova with the tables under root, as described by p.  Reads the
 * tables through mem->phys_to_virt only; nothing is written (A/D bits are
 * not updated). */
void pgtable_walk(const struct pgtable_params *p, const struct pgtable_mem_ops *mem, uint64_t root,
                  uint64_t iova, unsigned access, struct pgtable_xlate *out);

/* pgtable_walk() on a built table. */
void pgtable_translate(const struct pgtable *t, uint64_t iova, unsigned access,
                       struct pgtable_xlate *out);

const char *pgtable_fault_name(enum pgtable_fault f);

/* One line for a fault record: result, level, size and the entries read.
 * Returns what ksnprintf returns. */
int pgtable_xlate_format(const struct pgtable_xlate *x, uint64_t iova, char *buf, size_t len);

#endif
