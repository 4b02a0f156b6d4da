/* The VT-d engine: one struct vtd_unit per DMA remapping unit (DRHD).
 *
 * Bring-up (vtd_unit_init): read and decode CAP/ECAP, choose legacy or
 * scalable mode, install an empty root table (everything blocked), start
 * the invalidation queue (or fall back to register invalidation), take
 * over whatever the firmware left (translation on, PMRs on), and make the
 * fault registers ours.  Devices are then attached one by one:
 * vtd_attach_legacy / vtd_attach_scalable.
 *
 * Two files, one layer each: iommu/vtd.c (register access, bounded waits,
 * GCMD/GSTS, table flushes, capabilities, the plan) is what qi.c, fault.c,
 * vtd_alias.c and vtd_takeover.c build on; iommu/vtd_unit.c (bring-up, the
 * tables, attach/detach, translation on/off, shutdown and vtd_units[])
 * drives them, and nothing below calls back into it.
 *
 * Portable: every hardware access, clock read, allocation and cache flush
 * goes through struct vtd_ops, so tests/host can drive the engine against a
 * fake register file.  The firmware's ops live in iommu/vtd_hw.c.
 *
 * Spec references are to the Intel VT-d Architecture Specification. */
#ifndef IOMMU_VTD_H
#define IOMMU_VTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommu/context_entry.h"
#include "iommu/fault.h"
#include "iommu/pasid_entry.h"
#include "iommu/qi.h"
#include "lib/why.h"

/* Slots in vtd_units[] (pointers only; each unit's state is allocated by
 * its owner).  The DMAR parser keeps up to DMAR_MAX_UNITS (1024); the
 * bring-up says so when a table lists more units than this. */
#define VTD_MAX_UNITS 256
/* Budget for a register handshake (GCMD/GSTS, CCMD, IOTLB, PMEN) and for an
 * invalidation wait: generous for TCG, short enough to never hang a lab. */
#define VTD_REG_TIMEOUT_US 200000
#define VTD_INV_TIMEOUT_US 500000

struct vtd_ops {
    uint32_t (*read32)(void *ctx, uint64_t addr);
    uint64_t (*read64)(void *ctx, uint64_t addr);
    void (*write32)(void *ctx, uint64_t addr, uint32_t v);
    void (*write64)(void *ctx, uint64_t addr, uint64_t v);
    uint64_t (*now_us)(void *ctx); /* monotonic microseconds */
    uint64_t (*cycles)(void *ctx); /* TSC, for cost measurements */
    void (*relax)(void *ctx);      /* inside polling loops */
    /* n zeroed pages, 4 KiB aligned, reachable by the IOMMU; NULL if none */
    void *(*alloc_pages)(void *ctx, unsigned n);
    uint64_t (*virt_to_phys)(void *ctx, const void *p);
    void *(*phys_to_virt)(void *ctx, uint64_t phys);
    /* write back the cache lines of [p, p+len) (ECAP.C = 0) */
    void (*flush)(void *ctx, const void *p, size_t len);
    /* 16-byte atomic store (CMPXCHG16B); NULL when the CPU has none */
    void (*store128)(void *ctx, volatile uint64_t *p, const uint64_t *v);
    /* A bounded wait on unit `unit` starts (may be NULL): the firmware
     * remembers it so that a watchdog report names the last hardware wait. */
    void (*wait_begin)(void *ctx, int unit, const char *what);
    void *ctx;
};

/* CAP and ECAP decoded into named fields (spec 11.4.2, 11.4.3). */
struct vtd_caps {
    /* CAP */
    uint8_t nd; /* domain ids: 2^(4 + 2*nd) */
    bool afl, rwbf, plmr, phmr, cm, zlr, psi, dwd, drd, fs1gp, fs5lp, pi;
    uint8_t sagaw; /* bit 1: 39-bit (3-level), bit 2: 48-bit, bit 3: 57-bit */
    uint8_t mgaw;  /* maximum guest address width in bits */
    uint16_t fro;  /* fault recording registers at fro * 16 */
    uint16_t nfr;  /* number of fault recording registers (NFR + 1) */
    uint8_t sllps; /* second-stage large pages: bit 0 2 MiB, bit 1 1 GiB */
    uint8_t mamv;  /* maximum address mask for page-selective invalidation */
    /* ECAP */
    bool c, qi, dt, ir, eim, pt, sc, nest, prs, ers, srs, pasid, pds, smts, slts, flts, slads, rps;
    bool smpwc;   /* scalable mode: walks snooped for PASID entries with PWSNP */
    uint16_t iro; /* IOTLB registers at iro * 16 */
    uint8_t pss;  /* PASID width - 1 */
};

enum vtd_mode { VTD_MODE_LEGACY, VTD_MODE_SCALABLE };
enum vtd_mode_request { VTD_WANT_AUTO, VTD_WANT_LEGACY, VTD_WANT_SCALABLE };

/* ---- unit planning (iommu/vtd.c) ---------------------------------------------
 * One decision from VER/CAP/ECAP, used by vtd_unit_init and by the host tool
 * tools/vtdsync-plan. */
struct vtd_unit_plan {
    bool usable;
    enum vtd_mode mode; /* VTD_MODE_LEGACY or VTD_MODE_SCALABLE */
    unsigned ss_levels; /* second-stage depth chosen from SAGAW, 0 = none */
    unsigned fs_levels; /* first-stage depth (4, or 5 with FS5LP), 0 = no FLTS */
    unsigned iova_bits; /* IOVAs vtdsync uses stay below 2^iova_bits (<= MGAW) */
    char reason[160];   /* why not usable, or "" */
};
/* The IOVA range vtdsync needs: its IOVAs are identity addresses of memory
 * its 4-level CPU paging reaches (the canonical lower half, 2^47). */
#define VTD_IOVA_NEED_BITS 47
/* Mode: scalable where SMTS, QI and a translation type are offered (unless
 * legacy is requested), else legacy; depth: the smallest depth SAGAW offers
 * that covers min(VTD_IOVA_NEED_BITS, MGAW) bits, else the largest offered;
 * first-stage depth; and the IOVA bound below MGAW and every table's
 * width.  0, or -1 with usable false and the reason set. */
int vtd_plan_unit(uint32_t ver, uint64_t cap, uint64_t ecap, enum vtd_mode_request want,
                  struct vtd_unit_plan *out);
/* The depth rule alone: levels (3-5) offered by sagaw, 0 if none. */
unsigned vtd_plan_ss_depth(uint8_t sagaw, unsigned need_bits);
/* The plan can translate with second-stage tables (legacy, or SLTS). */
bool vtd_plan_has_ss(const struct vtd_unit_plan *p, uint64_t ecap);
/* AW encoding for the unit's legacy context and PASID entries. */
uint8_t vtd_plan_aw(const struct vtd_unit_plan *p);

/* Engine options (set from the run configuration). */
struct vtd_options {
    bool trace;        /* entry_sync trace lines as KTAP diagnostics */
    bool pt_ctx_flush; /* quirk: context-cache invalidation after leaving PT */
    uint32_t window_us; /* hold a breaking update's non-present window open */
    /* The IOMMU rereads a PASID entry within one translation (QEMU 10.0.2):
     * entry_sync keeps the old entry's own fields through a hitless flip
     * (entry_sync_ops.reader_rereads). */
    bool pasid_reread;
    /* Asked at bring-up of a unit the firmware left translating: true (with
     * *why) keeps translation on through the takeover, as for the graphics
     * units Linux never switches off.  NULL: every unit is switched off. */
    bool (*keep_firmware_te)(const struct vtd_unit *u, struct why *why);
};
extern struct vtd_options vtd_options;
/* Called just before translation is enabled on a unit (a step that can
 * hang a real machine): the runner records it (app/checkpoint.c). */
extern void (*vtd_before_translation)(const struct vtd_unit *u);

struct vtd_unit {
    int index;
    uint64_t base;
    uint16_t segment;
    const struct vtd_ops *ops;
    uint32_t ver;
    uint64_t cap, ecap;
    struct vtd_caps caps;
    enum vtd_mode mode;
    struct vtd_unit_plan plan; /* mode, depths, IOVA bound (vtd_plan_unit) */
    bool up;          /* vtd_unit_init succeeded */
    bool translating; /* we set GCMD.TE */
    /* Set by the owner after bring-up (vtd_hold_te): TE stays as it is on
     * this unit, for the reason given; te_hold_fixed: for good. */
    char te_hold[200];
    bool te_hold_fixed;
    /* Held across one entry update with its syncs (and across a domain's
     * map/unmap invalidations): the invalidation queue has one wait-status
     * word, so two CPUs must not interleave submit..wait sequences. */
    volatile uint32_t update_lock;
    /* What the firmware left behind. */
    bool found_tes, found_qies, found_pmr, found_ires;
    uint32_t found_fsts; /* fault status bits set at hand-over */
    uint64_t found_rtaddr;
    /* Root table (4 KiB, 256 x 128-bit) and per-bus context tables:
     * legacy uses [bus][0] (256 x 128-bit); scalable [bus][0] for devfn
     * 0-127 and [bus][1] for 128-255 (128 x 256-bit each). */
    uint64_t *root;
    void *ctx_table[256][2];
    uint16_t next_did;
    struct vtd_qi qi;
    struct vtd_fault_state fault;
    /* DMA aliases (iommu/vtd_alias.h): allocated as registered. */
    struct vtd_alias *aliases;
    unsigned naliases, alias_cap;
};

extern struct vtd_unit *vtd_units[VTD_MAX_UNITS];
extern unsigned vtd_nunits;

void vtd_caps_decode(uint64_t cap, uint64_t ecap, struct vtd_caps *out);
/* One structured line (no "# ", no newline): "unit=0 ver=1.0 cap=... ecap=...
 * mgaw=48 sagaw=39,48 nd=16bit ...". */
int vtd_caps_format(const struct vtd_unit *u, char *buf, size_t len);

/* Bring a unit up.  Returns 0, or -1 with the reason in why.  The unit is
 * added to vtd_units[] only on success. */
int vtd_unit_init(struct vtd_unit *u, int index, uint64_t base, uint16_t segment,
                  const struct vtd_ops *ops, enum vtd_mode_request want, struct why *why);

/* Register accessors (offsets from vtd_regs.h). */
uint32_t vtd_read32(const struct vtd_unit *u, unsigned off);
uint64_t vtd_read64(const struct vtd_unit *u, unsigned off);
void vtd_write32(const struct vtd_unit *u, unsigned off, uint32_t v);
void vtd_write64(const struct vtd_unit *u, unsigned off, uint64_t v);

/* Poll until (read32(off) & mask) == want or VTD_REG_TIMEOUT_US passes; on
 * timeout prints "# timeout after N us waiting for unit=U <what>". */
bool vtd_wait32(struct vtd_unit *u, unsigned off, uint32_t mask, uint32_t want, const char *what);
bool vtd_wait64(struct vtd_unit *u, unsigned off, uint64_t mask, uint64_t want, const char *what);

/* GCMD/GSTS protocol (spec 11.4.4): GCMD is write-only, so every command
 * is built from GSTS's persistent bits plus (or minus) one command bit,
 * and its status bit is awaited.  vtd_gcmd_enable for TE/QIE/IRE/CFI,
 * vtd_gcmd_oneshot for SRTP/SFL/WBF/SIRTP. */
bool vtd_gcmd_enable(struct vtd_unit *u, uint32_t bit, bool on);
bool vtd_gcmd_oneshot(struct vtd_unit *u, uint32_t bit);
/* Write-buffer flush when CAP.RWBF says so (no-op otherwise). */
bool vtd_write_buffer_flush(struct vtd_unit *u);

/* Translation on (then protected memory regions off: they must not stay
 * on behind our tables) and off.  Both refuse (false, with a line) on a
 * unit whose TE is held. */
bool vtd_enable_translation(struct vtd_unit *u);
bool vtd_disable_translation(struct vtd_unit *u);
/* Hold TE as it is on u from now on (why: one line, the reason); fixed:
 * vtd_release_te cannot lift it.  vtd_release_te returns false for a
 * fixed hold, true otherwise (the hold is gone). */
void vtd_hold_te(struct vtd_unit *u, bool fixed, const char *why);
bool vtd_release_te(struct vtd_unit *u);
/* Leave a unit safe: translation off (unless held: then as it is), queue
 * drained and off, fault interrupt masked.  vtd_shutdown_all does it for
 * every unit brought up (one "# vtd: unit=N left safe: ..." or "left
 * alone: ..." line each, then the fault summary); safe to call when none
 * was, and from the watchdog's interrupt. */
void vtd_shutdown(struct vtd_unit *u);
void vtd_shutdown_all(void);

/* The fault log's run-wide calls (iommu/fault.h) over every unit brought
 * up: scan each and print what is pending; the totals; the summary line. */
void vtd_fault_poll(void);
void vtd_fault_get_totals(struct vtd_fault_totals *t);
void vtd_fault_summary(bool always);

/* Tell the ops a bounded wait starts (for the watchdog's report). */
void vtd_wait_begin(const struct vtd_unit *u, const char *what);

/* Brings a unit from whatever the firmware left (translation, queue, a
 * stale queue error, PMEN, interrupt remapping) to the reset state, in the
 * spec's order, saying what it found (iommu/vtd_takeover.c).  Returns 0, or
 * -1 with *why when the unit would not let go. */
int vtd_takeover(struct vtd_unit *u, struct why *why);

/* Make a table entry the CPU wrote visible to a non-coherent walker:
 * vtd_flush for root, context and PASID tables (ECAP.C = 0),
 * vtd_flush_paging for page tables (not vtd_paging_snooped). */
void vtd_flush(const struct vtd_unit *u, const volatile void *p, size_t len);
void vtd_flush_paging(const struct vtd_unit *u, const volatile void *p, size_t len);
/* Are the unit's page-table walks snooped?  Legacy: ECAP.C; scalable:
 * ECAP.SMPWC (with PWSNP set in every PASID entry: vtd_pasid_snoop). */
bool vtd_paging_snooped(const struct vtd_unit *u);
/* The snoop fields of a scalable PASID entry this unit gets: PWSNP from
 * ECAP.SMPWC, PGSNP from ECAP.SC.  Every present entry is built with it. */
void vtd_pasid_snoop(const struct vtd_unit *u, struct pasid_entry_cfg *c);

static inline void vtd_lock(struct vtd_unit *u)
{
    while (__atomic_exchange_n(&u->update_lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&u->update_lock, __ATOMIC_RELAXED))
            u->ops->relax(u->ops->ctx);
}

static inline void vtd_unlock(struct vtd_unit *u)
{
    __atomic_store_n(&u->update_lock, 0, __ATOMIC_RELEASE);
}

uint16_t vtd_alloc_did(struct vtd_unit *u);
static inline uint16_t vtd_sid(uint8_t bus, uint8_t dev, uint8_t fn)
{
    return (uint16_t)(bus << 8 | dev << 3 | fn);
}
/* "bb:dd.f" into buf (at least 8 bytes). */
const char *vtd_sid_str(uint16_t sid, char *buf);

/* Second-stage levels of our page tables: the plan's depth from SAGAW. */
unsigned vtd_ss_levels(const struct vtd_unit *u);
uint8_t vtd_aw_for_levels(unsigned levels); /* context/PASID AW encoding */
/* The AW field every legacy context and PASID entry of the unit carries. */
uint8_t vtd_unit_aw(const struct vtd_unit *u);
/* IOVAs the unit's translations accept: [0, vtd_iova_limit). */
uint64_t vtd_iova_limit(const struct vtd_unit *u);

/* ---- legacy mode (spec 9.3) ----------------------------------------------- */
/* The live legacy context entry for sid (alloc: create the context table). */
volatile struct legacy_context_entry *vtd_legacy_context(struct vtd_unit *u, uint16_t sid,
                                                         bool alloc);

/* ---- scalable mode (spec 9.4-9.6) ------------------------------------------- */
volatile struct sm_context_entry *vtd_sm_context(struct vtd_unit *u, uint16_t sid, bool alloc);
/* Give sid a PASID directory and a present scalable context entry whose
 * RID_PASID is `rid_pasid` (0 unless ECAP.RPS); every PASID entry starts
 * blocked (all zero).  Idempotent.  Returns 0 or -1 (reason printed). */
int vtd_attach_scalable(struct vtd_unit *u, uint16_t sid, uint32_t rid_pasid);
/* The same with the context entry's DTE bit (device-TLB, i.e. ATS, allowed;
 * only where ECAP.DT is set). */
int vtd_attach_scalable_dte(struct vtd_unit *u, uint16_t sid, uint32_t rid_pasid, bool dte);
/* Undo an attach: the context entry goes not present (a fresh attach then
 * starts with every PASID entry blocked), followed by the context-cache,
 * PASID-cache and IOTLB invalidations for `did`, the domain id its PASID
 * entries used.  Used to take a device back from the "foreign" pass-through
 * entry it got at bring-up; the context-cache invalidation is what makes a
 * unit drop any pass-through fast path it keeps per context.  The old PASID
 * directory is not freed.  Returns 0 or -1. */
int vtd_detach_scalable(struct vtd_unit *u, uint16_t sid, uint16_t did);
/* The two context-entry stores attach and detach are made of.  store: a
 * not-present entry of sid becomes q[0..1] (upper half zero), with the
 * invalidations caching mode needs.  clear: present -> not present, then
 * context cache (device), PASID cache and IOTLB of domain did, or global
 * ones when did < 0 (its PASID entries' domains are not known).  0 or -1. */
int vtd_sm_context_store(struct vtd_unit *u, uint16_t sid, const uint64_t *q);
int vtd_sm_context_clear(struct vtd_unit *u, uint16_t sid, int did);
/* The live PASID entry (alloc: create the PASID table), NULL when pasid
 * is beyond ECAP.PSS or the device is not attached. */
volatile struct pasid_entry *vtd_pasid_entry(struct vtd_unit *u, uint16_t sid, uint32_t pasid,
                                             bool alloc);
uint32_t vtd_max_pasid(const struct vtd_unit *u);
/* RID_PASID programmed for sid (0 when not attached). */
uint32_t vtd_rid_pasid(struct vtd_unit *u, uint16_t sid);

#endif
