// HOST-DEPS: lib/printf.c lib/ktap.c iommu/vtd.c iommu/vtd_unit.c iommu/vtd_takeover.c iommu/qi.c iommu/fault.c iommu/context_entry.c tests/host/vtd_fake.c iommu/vtd_alias.c lib/why.c
/* Taking a unit over from firmware that left VT-d on (iommu/vtd_takeover.c),
 * on the fake register file: for each state the firmware can leave
 * (translation in either table mode, a queue idle, busy or stopped on a bad
 * descriptor, protected memory regions, interrupt remapping, fault records
 * and stale fault status, all at once), vtd_unit_init must say exactly what
 * it found, stop it in the spec's order (queue, then translation, then PMEN
 * and IR; RTADDR only once translation is off or kept in its own mode),
 * leave the fault status clear, let the firmware's queue run to the end,
 * and hand back a unit whose own queue works.  Each case runs with the
 * spec's queue and with QEMU's (which restarts only on an IQT write and
 * turns off only after a wait).  A unit that will not let go fails the
 * bring-up with a reason, in bounded time. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "tests/host/check.h"
#include "tests/host/vtd_fake.h"

CHECK_STATE_DEFINE;

/* What the firmware left on. */
struct fw {
    bool te, scalable; /* translation on; its tables (and queue) scalable-mode */
    bool qie;          /* its queue on, idle, the last descriptor run a wait */
    bool never_used;   /* ... on but never used (nothing run since reset) */
    bool pending;      /* ... with descriptors it has not run yet */
    bool iqe;          /* ... stopped on a bad descriptor: FSTS.IQE */
    bool bad_tail;     /* ... IQE with nothing to run (the tail was bad) */
    bool second_bad;   /* ... another bad descriptor behind the pending ones */
    bool full;         /* ... every slot but one pending: no room at the tail */
    bool devtlb_dead;  /* ... a device-TLB invalidation pending to a dead device */
    bool adm;          /* translation in abort-DMA mode (RTADDR.TTM = 11b) */
    bool pmen, ire, faults;
};

#define FW_HEAD 3           /* where the firmware's queue stands */
#define FW_STATUS 0x600du   /* its own wait's status value */
#define FW_FAULT_SID 0x00f8 /* 00:1f.0 */
#define FW_FAULT_ADDR 0xdead000ULL
#define FW_DEAD_SID 0x0100 /* 01:00.0: its device-TLB never answers */
#define STALE_FSTS (VTD_FSTS_PFO | VTD_FSTS_ITE | VTD_FSTS_ICE | VTD_FSTS_APF | VTD_FSTS_AFO)
#define LEGACY_ECAP 0xf00f4aULL /* QEMU 10 without x-scalable-mode */

static struct fw cur;
static bool qemu; /* the fake follows QEMU's queue rules */
static struct vtd_unit unit;
static struct why why;

/* The firmware's reserved pages. */
static uint64_t fw_root[512] __attribute__((aligned(4096)));
static uint64_t fw_queue[512] __attribute__((aligned(4096)));
static uint64_t fw_irt[512] __attribute__((aligned(4096)));
static volatile uint32_t fw_status;

static unsigned fw_qwords(void)
{
    return cur.scalable ? 4 : 2; /* firmware in scalable mode uses 256-bit descriptors */
}

static void fw_desc(unsigned i, uint64_t q0, uint64_t q1)
{
    uint64_t *d = &fw_queue[i * fw_qwords()];
    memset(d, 0, fw_qwords() * 8);
    d[0] = q0;
    d[1] = q1;
}

static void fw_leave_queue(void)
{
    unsigned head = FW_HEAD, tail = FW_HEAD;
    fk.iqa = (uint64_t)(uintptr_t)fw_queue | (cur.scalable ? VTD_IQA_DW : 0);
    fk.gsts |= VTD_GCMD_QIE;
    fk.last_desc_type = VTD_DESC_WAIT;
    if (cur.never_used)
        head = tail = 0, fk.last_desc_type = 0;
    if (cur.iqe) {
        fw_desc(tail++, 0xf, 0); /* type 0xf does not exist */
        fk.fsts |= VTD_FSTS_IQE;
        fk.last_desc_type = 0xf;
    }
    if (cur.bad_tail) {
        fk.fsts |= VTD_FSTS_IQE;
        fk.last_desc_type = VTD_DESC_CC;
    }
    if (cur.devtlb_dead) {
        fk.no_ats_sid = FW_DEAD_SID;
        fw_desc(tail++, VTD_DESC_DEVTLB | ((uint64_t)FW_DEAD_SID << 32), 1); /* S: all */
    }
    if (cur.pending) {
        fw_desc(tail++, VTD_DESC_CC | (1u << 4), 0);    /* global context cache */
        fw_desc(tail++, VTD_DESC_IOTLB | (1u << 4), 0); /* global IOTLB */
        fw_desc(tail++, VTD_DESC_WAIT | (1u << 5) | ((uint64_t)FW_STATUS << 32),
                (uint64_t)(uintptr_t)&fw_status);
    }
    if (cur.second_bad) {
        fw_desc(tail++, 0xf, 0);
        fw_desc(tail++, VTD_DESC_CC | (1u << 4), 0);
    }
    unsigned entries = 4096 / (fw_qwords() * 8);
    while (cur.full && (tail + 1) % entries != head) {
        fw_desc(tail, VTD_DESC_CC | (1u << 4), 0);
        tail = (tail + 1) % entries;
    }
    unsigned shift = cur.scalable ? 5 : 4;
    fk.iqh = (uint64_t)head << shift;
    fk.iqt = (uint64_t)tail << shift;
}

/* The fake's setup hook: the firmware's hand-over state. */
static void firmware(void)
{
    memset(fw_root, 0, sizeof(fw_root));
    memset(fw_queue, 0, sizeof(fw_queue));
    memset(fw_irt, 0, sizeof(fw_irt));
    fw_status = 0;
    fk.qemu_rules = qemu;
    if (cur.te) {
        fk.rtaddr = (uint64_t)(uintptr_t)fw_root | (cur.scalable ? VTD_RTADDR_TTM_SCALABLE : 0);
        fk.gsts |= VTD_GCMD_TE | VTD_GCMD_SRTP;
    }
    if (cur.adm)
        fk.rtaddr |= 3ULL << 10;
    if (cur.qie || cur.never_used || cur.pending || cur.iqe || cur.bad_tail || cur.full ||
        cur.devtlb_dead)
        fw_leave_queue();
    if (cur.pmen) {
        fk.cap |= VTD_CAP_PLMR | VTD_CAP_PHMR;
        fk.pmen = (uint32_t)(VTD_PMEN_EPM | VTD_PMEN_PRS);
        fk.plmbase = 0;
        fk.plmlimit = 0x7f00000;
        fk.phmbase = 0x100000000ULL;
        fk.phmlimit = 0x17ff00000ULL;
    }
    if (cur.ire) {
        fk.irta = (uint64_t)(uintptr_t)fw_irt | 7;
        fk.gsts |= VTD_GCMD_IRE | VTD_GCMD_SIRTP;
    }
    if (cur.faults) {
        fk.frcd_lo = FW_FAULT_ADDR;
        fk.frcd_hi = VTD_FRCD_F | VTD_FRCD_T | (0x02ULL << 32) | FW_FAULT_SID;
        fk.fsts |= STALE_FSTS;
    }
}

static const char *rules(void)
{
    return qemu ? "QEMU's queue" : "the spec's queue";
}

static int bring_up(const struct fw *f, uint64_t ecap, enum vtd_mode_request want)
{
    cur = *f;
    return fake_bring_up(&unit, QEMU_CAP, ecap, want, firmware, &why);
}

/* ---- what the write log says -------------------------------------------- */

static unsigned nlogged(void)
{
    return fk.nwrites < FAKE_WRITE_LOG ? fk.nwrites : FAKE_WRITE_LOG;
}

/* The first GCMD write that switches `bit` off, -1 if none. */
static int gcmd_off(uint32_t bit)
{
    for (unsigned i = 0; i < nlogged(); i++)
        if (fk.writes[i].off == VTD_REG_GCMD && (fk.writes[i].gsts & bit) &&
            !(fk.writes[i].v & bit))
            return (int)i;
    return -1;
}

static int first_write(unsigned off)
{
    for (unsigned i = 0; i < nlogged(); i++)
        if (fk.writes[i].off == off)
            return (int)i;
    return -1;
}

/* ---- the checks every successful takeover must pass ------------------------ */

static void check_line(const char *left)
{
    char want[160];
    snprintf(want, sizeof(want), "# vtd: unit=0 firmware left: %s\n", left);
    CHECK(strstr(fake_out, want), "%s: want \"%s\" in:\n%s", rules(), left, fake_out);
}

/* Queue, then translation, then IR; PMEN after translation; RTADDR only
 * after all of it, never with another table mode under translation. */
static void check_order(const struct fw *f, bool kept)
{
    bool queue =
        f->qie || f->never_used || f->pending || f->iqe || f->bad_tail || f->full || f->devtlb_dead;
    int qie = gcmd_off(VTD_GCMD_QIE), te = gcmd_off(VTD_GCMD_TE), ire = gcmd_off(VTD_GCMD_IRE);
    int rt = first_write(VTD_REG_RTADDR), pmen = first_write(VTD_REG_PMEN);
    CHECK((qie >= 0) == queue, "%s: QIE switched off: %d", rules(), qie);
    CHECK((te >= 0) == (f->te && !kept), "%s: TE switched off: %d", rules(), te);
    CHECK((ire >= 0) == f->ire, "%s: IRE switched off: %d", rules(), ire);
    CHECK((pmen >= 0) == f->pmen, "%s: PMEN written: %d", rules(), pmen);
    if (pmen >= 0)
        CHECK(!(fk.writes[pmen].v & VTD_PMEN_EPM), "PMEN write clears EPM");
    if (qie >= 0 && te >= 0)
        CHECK(qie < te, "%s: QIE off (write %d) before TE off (%d)", rules(), qie, te);
    if (qie >= 0 && ire >= 0)
        CHECK(qie < ire, "%s: QIE off (write %d) before IRE off (%d)", rules(), qie, ire);
    if (te >= 0 && ire >= 0)
        CHECK(te < ire, "%s: TE off (write %d) before IRE off (%d)", rules(), te, ire);
    if (te >= 0 && pmen >= 0)
        CHECK(te < pmen, "%s: TE off (write %d) before PMEN off (%d)", rules(), te, pmen);
    CHECK(rt >= 0, "RTADDR written");
    CHECK(rt > qie && rt > te && rt > ire && rt > pmen,
          "%s: RTADDR (write %d) after the takeover (QIE %d TE %d IRE %d PMEN %d)", rules(), rt,
          qie, te, ire, pmen);
    CHECK(fk.ttm_changes_under_te == 0, "%s: %u RTADDR.TTM changes under translation", rules(),
          fk.ttm_changes_under_te);
    if (f->faults && queue) {
        int fsts = first_write(VTD_REG_FSTS), iqt = first_write(VTD_REG_IQT);
        CHECK(fsts >= 0 && fsts < iqt, "%s: fault status (write %d) cleared before the queue (%d)",
              rules(), fsts, iqt);
    }
}

/* The firmware's queue ran to its end: its own wait wrote its status, the
 * bad descriptor became a wait whose status write happened. */
static void check_drained(const struct fw *f)
{
    if (f->pending && !f->devtlb_dead) /* a failed device-TLB invalidation drops it */
        CHECK(fw_status == FW_STATUS, "%s: the firmware's own wait ran (status %#x)", rules(),
              fw_status);
    if (f->iqe) {
        const uint64_t *d = &fw_queue[FW_HEAD * fw_qwords()];
        CHECK((d[0] & 0xf) == VTD_DESC_WAIT && (d[0] & (1u << 5)),
              "%s: the bad descriptor became a wait with a status write: %#llx", rules(),
              (unsigned long long)d[0]);
        CHECK(d[1] && (uint32_t)(d[0] >> 32) &&
                  *(volatile uint32_t *)(uintptr_t)(d[1] & ~3ULL) == (uint32_t)(d[0] >> 32),
              "%s: and its status was written", rules());
        for (unsigned i = 2; i < fw_qwords(); i++)
            CHECK(d[i] == 0, "%s: upper qwords of the wait zero", rules());
    }
}

/* State after the bring-up, and vtdsync's own queue works. */
static void check_unit(bool kept)
{
    CHECK(unit.up, "unit up");
    CHECK(!(fk.fsts & VTD_FSTS_W1C), "%s: fault status clear: FSTS %#x", rules(), fk.fsts);
    CHECK(!(fk.frcd_hi & VTD_FRCD_F), "%s: fault record cleared", rules());
    CHECK(!!(fk.gsts & VTD_GCMD_TE) == kept, "%s: TE %s", rules(), kept ? "kept on" : "off");
    CHECK(!(fk.gsts & VTD_GCMD_IRE), "%s: IRE off", rules());
    CHECK(!(fk.pmen & (VTD_PMEN_EPM | VTD_PMEN_PRS)), "%s: PMEN off: %#x", rules(), fk.pmen);
    CHECK((fk.gsts & VTD_GCMD_QIE) && (fk.iqa & ~0xfffULL) == unit.qi.queue_phys,
          "%s: vtdsync's own queue is on (IQA %#llx)", rules(), (unsigned long long)fk.iqa);
    unsigned n = fk.ndesc = 0; /* the log restarts with vtdsync's own queue */
    CHECK(vtd_inv_context(&unit, VTD_CC_GLOBAL, 0, 0, 0) == 0 && vtd_inv_wait(&unit) == 0,
          "%s: a context invalidation completes", rules());
    CHECK(fk.ndesc == n + 2 && (fk.desc[n][0] & 0xf) == VTD_DESC_CC,
          "%s: the unit ran it (%u descriptors)", rules(), fk.ndesc - n);
}

/* Bring the unit up over `f` with both queue rules and check it all. */
static void takeover_ok(const struct fw *f, uint64_t ecap, const char *left)
{
    for (int r = 0; r < 2; r++) {
        qemu = r;
        int rc = bring_up(f, ecap, VTD_WANT_AUTO);
        CHECK(rc == 0, "%s: bring-up: %s\n%s", rules(), why.text, fake_out);
        if (rc)
            continue;
        check_line(left);
        check_order(f, false);
        check_drained(f);
        check_unit(false);
    }
}

static void bring_up_fails(const struct fw *f, void (*spoil)(void), const char *reason);

/* ---- the states ------------------------------------------------------------- */

TEST(nothing_left)
{
    takeover_ok(&(struct fw){0}, QEMU_ECAP, "nothing running");
    CHECK(!strstr(fake_out, "taken over"), "nothing to say: %s", fake_out);
}

TEST(te_legacy)
{
    takeover_ok(&(struct fw){.te = true}, QEMU_ECAP, "TE");
    CHECK(strstr(fake_out, "(legacy tables)"), "mode named: %s", fake_out);
    takeover_ok(&(struct fw){.te = true}, LEGACY_ECAP, "TE");
}

TEST(te_scalable)
{
    takeover_ok(&(struct fw){.te = true, .scalable = true}, QEMU_ECAP, "TE");
    CHECK(strstr(fake_out, "(scalable-mode tables)"), "mode named: %s", fake_out);
    /* A legacy-only unit the firmware ran in scalable mode: TE off first,
     * then RTADDR with the legacy mode. */
    takeover_ok(&(struct fw){.te = true, .scalable = true}, LEGACY_ECAP, "TE");
}

TEST(qie_idle)
{
    takeover_ok(&(struct fw){.qie = true}, QEMU_ECAP, "QIE");
    CHECK(strstr(fake_out, "invalidation queue at IQA="), "queue named: %s", fake_out);
    takeover_ok(&(struct fw){.qie = true, .scalable = true}, QEMU_ECAP, "QIE");
    /* On but never used: QEMU turns it off only after a wait ran. */
    takeover_ok(&(struct fw){.never_used = true}, QEMU_ECAP, "QIE");
}

TEST(qie_pending)
{
    takeover_ok(&(struct fw){.pending = true}, QEMU_ECAP, "QIE");
    takeover_ok(&(struct fw){.pending = true, .scalable = true}, QEMU_ECAP, "QIE");
}

TEST(stale_iqe)
{
    takeover_ok(&(struct fw){.iqe = true}, QEMU_ECAP, "QIE IQE");
    takeover_ok(&(struct fw){.iqe = true, .scalable = true}, QEMU_ECAP, "QIE IQE");
    /* Descriptors behind the bad one still run, and a wait is last. */
    takeover_ok(&(struct fw){.iqe = true, .pending = true}, QEMU_ECAP, "QIE IQE");
    /* An IQE with head == tail (a bad tail): nothing to overwrite. */
    takeover_ok(&(struct fw){.bad_tail = true}, QEMU_ECAP, "QIE IQE");
    /* Another bad descriptor further on stops the drain once more. */
    takeover_ok(&(struct fw){.iqe = true, .pending = true, .second_bad = true}, QEMU_ECAP,
                "QIE IQE");
    takeover_ok(&(struct fw){.pending = true, .second_bad = true, .scalable = true}, QEMU_ECAP,
                "QIE");
    CHECK(strstr(fake_out, "drain") == NULL, "no complaint: %s", fake_out);
}

/* The firmware's device-TLB invalidation to a device that never answers:
 * ITE drops the waits behind it, ours too; ours is queued again. */
TEST(device_tlb_timeout)
{
    takeover_ok(&(struct fw){.devtlb_dead = true, .pending = true}, QEMU_ECAP, "QIE");
    CHECK(strstr(fake_out, "# vtd: unit=0 the firmware's device-TLB invalidation for 01:00.0 "
                           "timed out (ITE): its waits were dropped\n"),
          "said: %s", fake_out);
    CHECK(fk.aborted >= 1, "the unit dropped a wait (%u)", fk.aborted);
    takeover_ok(&(struct fw){.devtlb_dead = true, .iqe = true, .scalable = true}, QEMU_ECAP,
                "QIE IQE");
}

TEST(full_queue)
{
    takeover_ok(&(struct fw){.qie = true, .full = true}, QEMU_ECAP, "QIE");
    takeover_ok(&(struct fw){.qie = true, .full = true, .iqe = true, .scalable = true}, QEMU_ECAP,
                "QIE IQE");
}

TEST(te_abort_dma_mode)
{
    takeover_ok(&(struct fw){.te = true, .adm = true}, QEMU_ECAP, "TE");
    CHECK(strstr(fake_out, "(abort-DMA mode)\n"), "mode named: %s", fake_out);
}

TEST(pmen_both_regions)
{
    takeover_ok(&(struct fw){.pmen = true}, QEMU_ECAP, "PMEN");
    CHECK(strstr(fake_out, "protected memory regions: low 0-0x7f00000 high "
                           "0x100000000-0x17ff00000"),
          "regions named: %s", fake_out);
    takeover_ok(&(struct fw){.pmen = true, .te = true}, QEMU_ECAP, "TE PMEN");
}

static void pmen_stuck(void)
{
    firmware();
    fk.pmen_stuck = true;
}

TEST(pmen_will_not_clear)
{
    bring_up_fails(&(struct fw){.pmen = true}, pmen_stuck,
                   "unit 0: protected memory regions did not turn off");
    CHECK(strstr(fake_out, "waiting for unit=0 PMEN.PRS=0"), "the wait named: %s", fake_out);
}

TEST(ire)
{
    takeover_ok(&(struct fw){.ire = true}, QEMU_ECAP, "IRE");
}

TEST(all_at_once)
{
    takeover_ok(
        &(struct fw){
            .te = true, .pending = true, .iqe = true, .pmen = true, .ire = true, .faults = true},
        QEMU_ECAP, "TE QIE IRE PMEN IQE ICE ITE PFO PPF APF AFO");
    takeover_ok(&(struct fw){.te = true,
                             .scalable = true,
                             .pending = true,
                             .iqe = true,
                             .pmen = true,
                             .ire = true,
                             .faults = true},
                QEMU_ECAP, "TE QIE IRE PMEN IQE ICE ITE PFO PPF APF AFO");
    CHECK(strstr(fake_out, "# vtd: unit=0 taken over: translation, queue, PMEN and IR off, "
                           "fault status clear\n"),
          "said: %s", fake_out);
}

/* The firmware's fault records are logged as the firmware's, not counted
 * as faults of the run; stale status bits are cleared. */
TEST(firmware_faults)
{
    takeover_ok(&(struct fw){.faults = true}, QEMU_ECAP, "ICE ITE PFO PPF APF AFO");
    CHECK(strstr(fake_out, "# vtd: unit=0 the firmware's fault: sid=00:1f.0 pasid=- "
                           "addr=0xdead000 type=read reason=0x02 (context entry not present)\n"),
          "record logged: %s", fake_out);
    CHECK(strstr(fake_out, "# vtd: unit=0 the firmware's faults overflowed (FSTS.PFO)\n"),
          "overflow said: %s", fake_out);
    CHECK(unit.fault.total == 0 && unit.fault.overflows == 0,
          "not the run's faults: %llu recorded, %llu overflows",
          (unsigned long long)unit.fault.total, (unsigned long long)unit.fault.overflows);
    /* The queue's stale ITE: a wait behind it would be dropped. */
    takeover_ok(&(struct fw){.faults = true, .pending = true}, QEMU_ECAP,
                "QIE ICE ITE PFO PPF APF AFO");
}

/* ---- units that will not let go ------------------------------------------------ */

static void bring_up_fails(const struct fw *f, void (*spoil)(void), const char *reason)
{
    for (int r = 0; r < 2; r++) {
        qemu = r;
        cur = *f;
        int rc = fake_bring_up(&unit, QEMU_CAP, QEMU_ECAP, VTD_WANT_AUTO, spoil, &why);
        CHECK(rc != 0, "%s: bring-up refused", rules());
        CHECK(strstr(why.text, reason), "%s: why: %s", rules(), why.text);
        CHECK(vtd_nunits == 0 && !unit.up, "%s: not registered", rules());
        CHECK(first_write(VTD_REG_RTADDR) < 0, "%s: the firmware's root table stays", rules());
        CHECK(fk.now <= VTD_INV_TIMEOUT_US + VTD_REG_TIMEOUT_US,
              "%s: gave up in bounded time (%llu us)", rules(), (unsigned long long)fk.now);
    }
}

static void te_stuck(void)
{
    firmware();
    fk.stuck = VTD_GCMD_TE;
}

TEST(te_will_not_clear)
{
    bring_up_fails(&(struct fw){.te = true}, te_stuck,
                   "unit 0: translation left on by the firmware did not turn off");
    CHECK(strstr(fake_out, "timeout after"), "the wait named: %s", fake_out);
}

static void queue_stalled(void)
{
    firmware();
    fk.stall = true; /* the unit fetches nothing */
}

static void qie_stuck(void)
{
    firmware();
    fk.stuck = VTD_GCMD_QIE;
}

TEST(qie_will_not_turn_off)
{
    /* The queue never reaches the tail: QEMU would refuse QIE off, the
     * spec forbids it. */
    bring_up_fails(&(struct fw){.te = true, .pending = true}, queue_stalled,
                   "unit 0: the firmware's invalidation queue did not drain");
    CHECK(fk.gsts & VTD_GCMD_TE, "translation not touched behind a running queue");
    bring_up_fails(&(struct fw){.qie = true}, qie_stuck,
                   "unit 0: queued invalidation did not turn off (GSTS.QIES)");
}

/* ---- a unit whose translation must stay on ------------------------------------------ */

static bool keep_te(const struct vtd_unit *u, struct why *reason)
{
    (void)u;
    why_set(reason, "graphics unit");
    return true;
}

static void takeover_kept(const struct fw *f, uint64_t ecap, enum vtd_mode mode)
{
    vtd_options.keep_firmware_te = keep_te;
    for (int r = 0; r < 2; r++) {
        qemu = r;
        int rc = bring_up(f, ecap, VTD_WANT_AUTO);
        CHECK(rc == 0, "%s: bring-up: %s", rules(), why.text);
        if (rc)
            continue;
        check_line("TE QIE");
        CHECK(strstr(fake_out, "# vtd: unit=0 translation stays on: graphics unit\n"), "said: %s",
              fake_out);
        check_order(f, true);
        check_drained(f);
        check_unit(true);
        CHECK(unit.mode == mode, "%s: mode %d", rules(), unit.mode);
        CHECK((fk.rtaddr & (3ULL << 10)) == (f->scalable ? VTD_RTADDR_TTM_SCALABLE : 0),
              "%s: the firmware's table mode kept: RTADDR %#llx", rules(),
              (unsigned long long)fk.rtaddr);
        CHECK((fk.rtaddr & ~0xfffULL) == (uint64_t)(uintptr_t)unit.root, "%s: our root table",
              rules());
    }
    vtd_options.keep_firmware_te = NULL;
}

TEST(keep_te_same_mode)
{
    takeover_kept(&(struct fw){.te = true, .qie = true}, LEGACY_ECAP, VTD_MODE_LEGACY);
    CHECK(!strstr(fake_out, "keeps the firmware's"), "no mode change to say: %s", fake_out);
    takeover_kept(&(struct fw){.te = true, .qie = true, .scalable = true}, QEMU_ECAP,
                  VTD_MODE_SCALABLE);
}

TEST(keep_te_other_mode)
{
    /* vtdsync would choose scalable mode; the firmware translates with
     * legacy tables, so the unit stays legacy. */
    takeover_kept(&(struct fw){.te = true, .qie = true}, QEMU_ECAP, VTD_MODE_LEGACY);
    CHECK(strstr(fake_out, "# vtd: unit=0 keeps the firmware's legacy table mode\n"), "said: %s",
          fake_out);
    /* The firmware's scalable mode on a unit vtdsync cannot run in it. */
    vtd_options.keep_firmware_te = keep_te;
    for (int r = 0; r < 2; r++) {
        qemu = r;
        CHECK(bring_up(&(struct fw){.te = true, .scalable = true}, LEGACY_ECAP, VTD_WANT_AUTO) != 0,
              "%s: refused", rules());
        CHECK(strstr(why.text,
                     "translation must stay on (graphics unit) in the firmware's scalable "
                     "table mode"),
              "why: %s", why.text);
        CHECK(fk.gsts & VTD_GCMD_TE, "TE never switched");
        CHECK(first_write(VTD_REG_RTADDR) < 0, "RTADDR untouched");
    }
    /* Abort-DMA mode is no table mode of ours: RTADDR could not change. */
    for (int r = 0; r < 2; r++) {
        qemu = r;
        CHECK(bring_up(&(struct fw){.te = true, .adm = true}, QEMU_ECAP, VTD_WANT_AUTO) != 0,
              "%s: refused", rules());
        CHECK(strstr(why.text,
                     "translation must stay on (graphics unit) in the firmware's abort-DMA "
                     "mode, which vtdsync cannot program"),
              "why: %s", why.text);
        CHECK(first_write(VTD_REG_RTADDR) < 0, "RTADDR untouched");
    }
    vtd_options.keep_firmware_te = NULL;
}

/* A callback that says "no" with a reason (leave_alone: an idle unit)
 * does not keep translation on: TE goes off and the line says so. */
static bool explain_no(const struct vtd_unit *u, struct why *reason)
{
    (void)u;
    return why_set(reason, "idle: no device under test");
}

TEST(explained_no_turns_te_off)
{
    vtd_options.keep_firmware_te = explain_no;
    for (int r = 0; r < 2; r++) {
        qemu = r;
        int rc = bring_up(&(struct fw){.te = true, .qie = true}, LEGACY_ECAP, VTD_WANT_AUTO);
        CHECK(rc == 0, "%s: bring-up: %s", rules(), why.text);
        CHECK(gcmd_off(VTD_GCMD_TE) >= 0, "%s: TE switched off", rules());
        CHECK(!strstr(fake_out, "translation kept on") && !strstr(fake_out, "stays on"),
              "%s: said: %s", rules(), fake_out);
    }
    vtd_options.keep_firmware_te = NULL;
}

int main(void)
{
    fake_init();
    RUN(nothing_left);
    RUN(te_legacy);
    RUN(te_scalable);
    RUN(qie_idle);
    RUN(qie_pending);
    RUN(stale_iqe);
    RUN(device_tlb_timeout);
    RUN(full_queue);
    RUN(te_abort_dma_mode);
    RUN(pmen_both_regions);
    RUN(pmen_will_not_clear);
    RUN(ire);
    RUN(all_at_once);
    RUN(firmware_faults);
    RUN(te_will_not_clear);
    RUN(qie_will_not_turn_off);
    RUN(keep_te_same_mode);
    RUN(keep_te_other_mode);
    RUN(explained_no_turns_te_off);
    fake_free_all();
    return check_finish();
}
