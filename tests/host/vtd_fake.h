/* A fake VT-d register file for host tests of the engine (iommu/vtd.c,
 * qi.c, fault.c): GCMD/GSTS with bits that can be made to stick, a queue
 * processed inside the IQT write like QEMU's (or not at all: `stall`), a
 * device-TLB invalidation that times out (`no_ats_sid`: FSTS.ITE), one
 * fault recording register, registers that read all ones (`all_ones`),
 * a log of every descriptor the unit consumed (`desc`), and a clock that
 * advances 1 ms per look.  For takeover tests: protected memory regions,
 * interrupt remapping, QEMU's queue rules (`qemu_rules`) and a log of
 * every register write (`writes`).  Diagnostics printed by the
 * engine are captured in fake_out. */
#ifndef TESTS_HOST_VTD_FAKE_H
#define TESTS_HOST_VTD_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommu/vtd.h"

#define FAKE_BASE 0x10000ULL
/* QEMU 10's values (scalable + PASID) */
#define QEMU_CAP 0xd2008c222f0606ULL
#define QEMU_ECAP 0x490080f00f4aULL
#define ECAP_DT (1ULL << 2)
#define FAKE_DESC_LOG 64
#define FAKE_WRITE_LOG 256

struct fake {
    uint32_t ver; /* VER register; 0 reads as 1.0 */
    uint64_t cap, ecap;
    uint32_t gsts, fsts, fectl;
    uint32_t stuck; /* GSTS bits that never follow GCMD */
    uint64_t rtaddr, iqa, iqh, iqt, iqercd;
    uint64_t frcd_lo, frcd_hi; /* the single fault recording register */
    uint32_t gcmd_log[32];
    unsigned ngcmd;
    uint64_t now;
    bool all_ones;    /* nothing answers: every read is ~0 */
    bool stall;       /* the unit fetches nothing from the queue */
    int no_ats_sid;   /* >= 0: device-TLB invalidations to it time out */
    bool ite_pending; /* one of them is outstanding */
    unsigned aborted; /* waits dropped because ITE was set */
    /* Every descriptor the unit consumed, in queue order, as 4 qwords (the
     * upper two zero with 128-bit descriptors): what a test of the syncs
     * checks.  ndesc counts them all; only the first FAKE_DESC_LOG are kept. */
    uint64_t desc[FAKE_DESC_LOG][4];
    unsigned ndesc;
    /* ---- what firmware can leave on (tests/host/test_takeover.c) ---- */
    /* Protected memory regions (11.4.13-17): PMEN.PRS follows EPM at once,
     * unless pmen_stuck. */
    uint32_t pmen, plmbase, plmlimit;
    uint64_t phmbase, phmlimit;
    bool pmen_stuck;
    uint64_t irta; /* SIRTP latches it (GSTS.IRTPS), IRE is persistent */
    /* QEMU's queue instead of the spec's: clearing FSTS.IQE does not
     * restart the queue (only the next IQT write does), and QIE turns off
     * only on an empty queue (IQH == IQT) whose last descriptor run was a
     * wait; otherwise GSTS.QIES stays set. */
    bool qemu_rules;
    unsigned last_desc_type; /* of the last descriptor fetched; 0: none */
    /* Every register write in order, with GSTS as it was just before it:
     * what checks of the order of a bring-up read.  Only the first
     * FAKE_WRITE_LOG are kept; nwrites counts them all. */
    struct fake_write {
        unsigned off;
        uint64_t v;
        uint32_t gsts;
    } writes[FAKE_WRITE_LOG];
    unsigned nwrites;
    /* RTADDR writes that change RTADDR.TTM while GSTS.TES is set, which
     * the spec forbids (11.4.6). */
    unsigned ttm_changes_under_te;
};
extern struct fake fk;
extern const struct vtd_ops fake_ops;

/* Watchers of the memory the fake hands out and of the engine's cache
 * flushes (tests/host/cache_model.c installs them); NULL: nobody watches. */
struct fake_mem_hooks {
    void (*alloc)(void *p, size_t len);        /* pages from alloc_pages */
    void (*flush)(const void *p, size_t len); /* ops->flush (CLFLUSH) */
    void (*free_all)(void);                   /* fake_free_all */
};
extern const struct fake_mem_hooks *fake_mem_hooks;

extern char fake_out[16384];
extern size_t fake_outlen;
void fake_out_clear(void);
/* Install the output sink (call once from main). */
void fake_init(void);

/* Reset the fake and the engine, then vtd_unit_init(u) on the fake with
 * cap/ecap; `setup` (may be NULL) adjusts fk before the bring-up.
 * Returns vtd_unit_init's result; the refusal reason goes into why. */
int fake_bring_up(struct vtd_unit *u, uint64_t cap, uint64_t ecap, enum vtd_mode_request want,
                  void (*setup)(void), struct why *why);
/* Process the queue now (after `stall` was cleared). */
void fake_process_queue(void);
void fake_free_all(void);

#endif
