/* Taking a remapping unit over from the firmware.
 *
 * Firmware with pre-boot DMA protection, "Kernel DMA Protection" or
 * interrupt remapping hands over a unit that is running: translation on
 * with its own root table, a queue with descriptors in its own memory, a
 * stale queue error, protected memory regions, interrupt remapping.  Before
 * vtdsync programs anything, the unit is brought to the reset state in the
 * spec's order (VT-d 11.4.4 GCMD, 6.5.2 queued invalidation, 11.4.13 PMEN):
 *
 *   1. record what was found (one `# vtd: unit=N firmware left: ...` line);
 *   2. log the fault records, clear the fault status;
 *   3. drain the firmware's queue and disable it;
 *   4. translation off;
 *   5. protected memory regions off;
 *   6. interrupt remapping off.
 *
 * Only then may RTADDR change (the table mode, RTADDR.TTM, must not change
 * while translation is on).
 *
 * The queue (3) is the delicate part.  A unit that stopped on a bad
 * descriptor keeps IQH on it; clearing FSTS.IQE alone does not restart it
 * (QEMU resumes only on the next IQT write), and QEMU disables the queue
 * only when it is empty and the last descriptor it ran was a wait.  So the
 * bad descriptor is overwritten with a wait, and a wait of ours is always
 * appended at the tail: its status write proves that everything before it
 * ran, and it is the last descriptor the queue runs. */
#include "iommu/qi.h"
#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/printf.h"

#define TAKEOVER_STATUS 0x7a6b0001u /* our wait's status value: "taken over" */
#define TAKEOVER_FILLER 0x7a6b0002u /* status of a wait put over a bad descriptor */
#define DESC_WAIT_SW (1u << 5)
/* Bad descriptors a firmware queue may hold behind the first one. */
#define TAKEOVER_MAX_REPAIRS 8
/* Firmware fault records said one by one; the rest are counted. */
#define TAKEOVER_FAULT_LINES 8

static const uint32_t fault_bits = VTD_FSTS_PFO | VTD_FSTS_AFO | VTD_FSTS_APF | VTD_FSTS_IQE |
                                   VTD_FSTS_ICE | VTD_FSTS_ITE;

/* RTADDR.TTM (11.4.6): 00b legacy, 01b scalable, 11b abort-DMA mode. */
static unsigned ttm_of(uint64_t rtaddr)
{
    return (unsigned)((rtaddr >> 10) & 3);
}

static const char *ttm_name(uint64_t rtaddr)
{
    static const char *const names[] = {"legacy tables", "scalable-mode tables", "reserved TTM 10b",
                                        "abort-DMA mode"};
    return names[ttm_of(rtaddr)];
}

/* 1. What the firmware left, as one line. */
static void record(struct vtd_unit *u, uint32_t gsts, uint32_t fsts, uint32_t pmen)
{
    static const struct {
        uint32_t bit;
        bool in_fsts;
        const char *name;
    } names[] = {
        {VTD_GCMD_TE, false, "TE"},    {VTD_GCMD_QIE, false, "QIE"},
        {VTD_GCMD_IRE, false, "IRE"},  {VTD_GCMD_CFI, false, "CFI"},
        {VTD_GCMD_EAFL, false, "EAFL"}, {VTD_FSTS_IQE, true, "IQE"},
        {VTD_FSTS_ICE, true, "ICE"},   {VTD_FSTS_ITE, true, "ITE"},
        {VTD_FSTS_PFO, true, "PFO"},   {VTD_FSTS_PPF, true, "PPF"},
        {VTD_FSTS_APF, true, "APF"},   {VTD_FSTS_AFO, true, "AFO"},
    };
    char line[160] = "";
    size_t n = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (((names[i].in_fsts ? fsts : gsts) & names[i].bit) && n < sizeof(line))
            n += ksnprintf(line + n, sizeof(line) - n, " %s", names[i].name);
        if (names[i].bit == VTD_GCMD_IRE && (pmen & VTD_PMEN_EPM) && n < sizeof(line))
            n += ksnprintf(line + n, sizeof(line) - n, " PMEN");
    }
    ktap_diag("vtd: unit=%d firmware left:%s", u->index, n ? line : " nothing running");
    if (gsts & VTD_GCMD_TE)
        ktap_diag("vtd: unit=%d translation on with RTADDR=%#llx (%s)", u->index,
                  (unsigned long long)u->found_rtaddr, ttm_name(u->found_rtaddr));
    if (pmen & VTD_PMEN_EPM)
        ktap_diag("vtd: unit=%d protected memory regions: low %#x-%#x high %#llx-%#llx", u->index,
                  vtd_read32(u, VTD_REG_PLMBASE), vtd_read32(u, VTD_REG_PLMLIMIT),
                  (unsigned long long)vtd_read64(u, VTD_REG_PHMBASE),
                  (unsigned long long)vtd_read64(u, VTD_REG_PHMLIMIT));
    if (gsts & VTD_GCMD_QIE)
        ktap_diag("vtd: unit=%d invalidation queue at IQA=%#llx head %#llx tail %#llx", u->index,
                  (unsigned long long)vtd_read64(u, VTD_REG_IQA),
                  (unsigned long long)vtd_read64(u, VTD_REG_IQH),
                  (unsigned long long)vtd_read64(u, VTD_REG_IQT));
}

/* 2. The firmware's fault records (11.4.14), said as the firmware's and
 * cleared, but not logged as faults of the run: fault.c's log and counts
 * are what the suites judge. */
static void firmware_faults(struct vtd_unit *u, uint32_t fsts)
{
    unsigned said = 0, more = 0;
    for (unsigned i = 0; i < u->caps.nfr; i++) {
        unsigned off = u->caps.fro * 16 + i * 16;
        uint64_t hi = vtd_read64(u, off + 8);
        if (!(hi & VTD_FRCD_F))
            continue;
        if (said++ < TAKEOVER_FAULT_LINES) {
            struct vtd_fault_record r = {
                .unit = (uint8_t)u->index,
                .reason = (uint8_t)VTD_FRCD_FR(hi),
                .sid = (uint16_t)VTD_FRCD_SID(hi),
                .pasid_present = hi & VTD_FRCD_PP,
                .pasid = (uint32_t)VTD_FRCD_PV(hi),
                .is_write = !(hi & VTD_FRCD_T),
                .addr = vtd_read64(u, off) & VTD_FRCD_FI_MASK,
                .scalable = ttm_of(u->found_rtaddr) == 1,
            };
            char line[192], prefix[24];
            /* vtd_fault_format's "fault: unit=N" names the unit first */
            int skip = ksnprintf(prefix, sizeof(prefix), "fault: unit=%d", u->index);
            vtd_fault_format(&r, line, sizeof(line));
            ktap_diag("vtd: unit=%d the firmware's fault:%s", u->index, line + skip);
        } else {
            more++;
        }
        vtd_write32(u, off + 12, (uint32_t)(VTD_FRCD_F >> 32)); /* F is RW1C */
    }
    if (more)
        ktap_diag("vtd: unit=%d %u more fault records of the firmware's", u->index, more);
    if (fsts & VTD_FSTS_PFO)
        ktap_diag("vtd: unit=%d the firmware's faults overflowed (FSTS.PFO)", u->index);
}

/* The firmware's queue as IQA describes it (11.4.9.3). */
struct fw_queue {
    uint64_t *base;
    unsigned shift, qwords; /* IQH/IQT hold byte offsets: index << shift */
    uint64_t entries;
    volatile uint32_t *status; /* [0] our wait's, [1] the fillers' */
};

static uint64_t fwq_index(const struct vtd_unit *u, const struct fw_queue *q, unsigned reg)
{
    return (vtd_read64(u, reg) >> q->shift) % q->entries;
}

static void fwq_put_wait(const struct vtd_unit *u, const struct fw_queue *q, uint64_t index,
                         uint32_t data, volatile uint32_t *status)
{
    uint64_t *slot = q->base + index * q->qwords;
    memset(slot, 0, q->qwords * 8);
    slot[0] = VTD_DESC_WAIT | DESC_WAIT_SW | ((uint64_t)data << 32);
    slot[1] = u->ops->virt_to_phys(u->ops->ctx, (const void *)status);
    vtd_flush(u, slot, q->qwords * 8);
}

static int fwq_fail(struct vtd_unit *u, const char *what, struct why *why)
{
    why_set(why, "unit %d: the firmware's invalidation queue %s (IQH %#llx IQT %#llx FSTS %#x)",
            u->index, what, (unsigned long long)vtd_read64(u, VTD_REG_IQH),
            (unsigned long long)vtd_read64(u, VTD_REG_IQT), vtd_read32(u, VTD_REG_FSTS));
    return -1;
}

/* A full ring (IQT one behind IQH) has no room for our wait: let the unit
 * fetch one descriptor first.  QEMU fetches only on an IQT write. */
static int fwq_make_room(struct vtd_unit *u, const struct fw_queue *q, uint64_t tail)
{
    const struct vtd_ops *o = u->ops;
    uint64_t full_head = (tail + 1) % q->entries;
    vtd_wait_begin(u, "room in the firmware's invalidation queue");
    uint64_t start = o->now_us(o->ctx);
    vtd_write64(u, VTD_REG_IQT, tail << q->shift);
    while (fwq_index(u, q, VTD_REG_IQH) == full_head) {
        if ((vtd_read32(u, VTD_REG_FSTS) & VTD_FSTS_IQE) ||
            o->now_us(o->ctx) - start >= VTD_INV_TIMEOUT_US)
            return -1;
        o->relax(o->ctx);
    }
    return 0;
}

/* A device-TLB invalidation of the firmware's timed out (ITE) or got a
 * bad completion (ICE): the unit drops the waits it holds (6.5.2.10), ours
 * maybe too.  Unless its status came, queue another wait behind it.
 * Returns false when the ring has no room for it. */
static bool fwq_requeue(struct vtd_unit *u, const struct fw_queue *q, uint32_t fsts, uint64_t *ours,
                        uint64_t *end)
{
    char sid[8];
    uint64_t rec = vtd_read64(u, VTD_REG_IQERCD);
    ktap_diag("vtd: unit=%d the firmware's device-TLB invalidation for %s %s: its waits were "
              "dropped",
              u->index,
              vtd_sid_str((uint16_t)((fsts & VTD_FSTS_ITE) ? VTD_IQERCD_ITESID(rec)
                                                           : VTD_IQERCD_ICESID(rec)),
                          sid),
              (fsts & VTD_FSTS_ITE) ? "timed out (ITE)" : "completed wrongly (ICE)");
    if (q->status[0] == TAKEOVER_STATUS)
        return true;
    uint64_t next = (*end + 1) % q->entries;
    if (next == fwq_index(u, q, VTD_REG_IQH))
        return false;
    fwq_put_wait(u, q, *end, TAKEOVER_STATUS, &q->status[0]);
    *ours = *end;
    *end = next;
    return true;
}

/* Run the queue to our wait at the tail.  Another bad descriptor of the
 * firmware's stops it again (IQE with IQH on it): that one becomes a wait
 * too; a device-TLB invalidation that fails drops our wait, which is then
 * queued again; both a bounded number of times.  Our own wait refused
 * ends it. */
static int fwq_run(struct vtd_unit *u, const struct fw_queue *q, uint64_t ours, struct why *why)
{
    const struct vtd_ops *o = u->ops;
    const uint32_t errors = VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE;
    uint64_t end = (ours + 1) % q->entries, start = o->now_us(o->ctx);
    unsigned repairs = 0;
    vtd_wait_begin(u, "the firmware's invalidation queue to drain");
    vtd_write64(u, VTD_REG_IQT, end << q->shift);
    while (q->status[0] != TAKEOVER_STATUS || fwq_index(u, q, VTD_REG_IQH) != end) {
        uint32_t fsts = vtd_read32(u, VTD_REG_FSTS) & errors;
        if (fsts && ++repairs > TAKEOVER_MAX_REPAIRS)
            return fwq_fail(u, "keeps reporting errors", why);
        if (fsts & VTD_FSTS_IQE) {
            uint64_t head = fwq_index(u, q, VTD_REG_IQH);
            if (head == ours)
                return fwq_fail(u, "refused our wait descriptor", why);
            fwq_put_wait(u, q, head, TAKEOVER_FILLER, &q->status[1]);
        }
        if ((fsts & (VTD_FSTS_ITE | VTD_FSTS_ICE)) && !fwq_requeue(u, q, fsts, &ours, &end))
            return fwq_fail(u, "has no room for another wait", why);
        if (fsts) {
            vtd_write32(u, VTD_REG_FSTS, fsts);
            vtd_write64(u, VTD_REG_IQT, end << q->shift); /* QEMU restarts here */
        }
        if (o->now_us(o->ctx) - start >= VTD_INV_TIMEOUT_US)
            return fwq_fail(u, "did not drain", why);
        o->relax(o->ctx);
    }
    return 0;
}

/* 3. Drain the firmware's queue with a wait of ours at its tail (a bad
 * descriptor it stopped on becomes a wait first), then disable it. */
static int drain_queue(struct vtd_unit *u, bool stopped, struct why *why)
{
    uint64_t iqa = vtd_read64(u, VTD_REG_IQA);
    struct fw_queue q;
    q.shift = (iqa & VTD_IQA_DW) ? 5 : 4;
    q.qwords = 1u << (q.shift - 3);
    q.entries = (4096ULL << (iqa & VTD_IQA_QS_MASK)) >> q.shift;
    q.status = u->ops->alloc_pages(u->ops->ctx, 1);
    q.base = u->ops->phys_to_virt(u->ops->ctx, iqa & ~0xfffULL);
    if (!q.status || !q.base) {
        why_set(why, "unit %d: no memory to drain the firmware's queue", u->index);
        return -1;
    }
    uint64_t head = fwq_index(u, &q, VTD_REG_IQH), tail = fwq_index(u, &q, VTD_REG_IQT);
    if (stopped) {
        /* IQH stays on the descriptor that failed; with IQH == IQT it was
         * the tail itself that was bad, and there is nothing to replace. */
        if (head != tail)
            fwq_put_wait(u, &q, head, TAKEOVER_FILLER, &q.status[1]);
        vtd_write32(u, VTD_REG_FSTS, VTD_FSTS_IQE);
    }
    if ((tail + 1) % q.entries == head && fwq_make_room(u, &q, tail))
        return fwq_fail(u, "is full and does not move", why);
    fwq_put_wait(u, &q, tail, TAKEOVER_STATUS, &q.status[0]);
    if (fwq_run(u, &q, tail, why))
        return -1;
    if (!vtd_gcmd_enable(u, VTD_GCMD_QIE, false)) {
        why_set(why, "unit %d: queued invalidation did not turn off (GSTS.QIES)", u->index);
        return -1;
    }
    return 0;
}

int vtd_takeover(struct vtd_unit *u, struct why *why)
{
    uint32_t gsts = vtd_read32(u, VTD_REG_GSTS);
    uint32_t fsts = vtd_read32(u, VTD_REG_FSTS);
    uint32_t pmen = (u->caps.plmr || u->caps.phmr) ? vtd_read32(u, VTD_REG_PMEN) : 0;
    u->found_tes = gsts & VTD_GCMD_TE;
    u->found_qies = gsts & VTD_GCMD_QIE;
    u->found_ires = gsts & VTD_GCMD_IRE;
    u->found_pmr = pmen & VTD_PMEN_EPM;
    u->found_fsts = fsts & (fault_bits | VTD_FSTS_PPF);
    u->found_rtaddr = vtd_read64(u, VTD_REG_RTADDR);
    record(u, gsts, fsts, pmen);

    /* 2. The records are the firmware's: said before any of ours. */
    firmware_faults(u, fsts);
    uint32_t clear = fsts & fault_bits;
    if (u->found_qies)
        clear &= ~(uint32_t)VTD_FSTS_IQE; /* cleared with the queue's restart */
    if (clear)
        vtd_write32(u, VTD_REG_FSTS, clear);

    /* 3. The firmware's queue. */
    if (u->found_qies && drain_queue(u, fsts & VTD_FSTS_IQE, why))
        return -1;
    if (vtd_read32(u, VTD_REG_FSTS) & VTD_FSTS_IQE)
        vtd_write32(u, VTD_REG_FSTS, VTD_FSTS_IQE);

    /* 4. Translation off: the root table may then change, mode and all.
     * A unit whose translation must stay on keeps it, and then keeps its
     * table mode too (RTADDR.TTM must not change under translation). */
    struct why keep;
    why_clear(&keep);
    /* The callback may explain a "no" too (an idle unit): only a "yes"
     * keeps translation on. */
    bool kept = u->found_tes && vtd_options.keep_firmware_te &&
                vtd_options.keep_firmware_te(u, &keep);
    if (kept) {
        uint64_t ttm = u->mode == VTD_MODE_SCALABLE ? VTD_RTADDR_TTM_SCALABLE
                                                    : VTD_RTADDR_TTM_LEGACY;
        ktap_diag("vtd: unit=%d translation stays on: %s", u->index, keep.text);
        if (ttm_of(u->found_rtaddr) > 1) {
            /* No table mode of ours matches: RTADDR cannot change. */
            why_set(why,
                    "unit %d: translation must stay on (%s) in the firmware's %s, "
                    "which vtdsync cannot program",
                    u->index, keep.text, ttm_name(u->found_rtaddr));
            return -1;
        }
        if ((u->found_rtaddr & (3ULL << 10)) != ttm) {
            bool legacy = !(u->found_rtaddr & (3ULL << 10));
            enum vtd_mode_request want = legacy ? VTD_WANT_LEGACY : VTD_WANT_SCALABLE;
            if (vtd_plan_unit(u->ver, u->cap, u->ecap, want, &u->plan)) {
                why_set(why,
                        "unit %d: translation must stay on (%s) in the firmware's %s table "
                        "mode: %s",
                        u->index, keep.text, legacy ? "legacy" : "scalable", u->plan.reason);
                return -1;
            }
            u->mode = u->plan.mode;
            ktap_diag("vtd: unit=%d keeps the firmware's %s table mode", u->index,
                      legacy ? "legacy" : "scalable");
        }
    } else if (u->found_tes && !vtd_gcmd_enable(u, VTD_GCMD_TE, false)) {
        why_set(why, "unit %d: translation left on by the firmware did not turn off", u->index);
        return -1;
    }
    /* 5. Protected memory regions block DMA without a fault record. */
    if (u->found_pmr) {
        vtd_write32(u, VTD_REG_PMEN, 0);
        if (!vtd_wait32(u, VTD_REG_PMEN, VTD_PMEN_PRS, 0, "PMEN.PRS=0")) {
            why_set(why, "unit %d: protected memory regions did not turn off", u->index);
            return -1;
        }
    }
    /* 6. Interrupt remapping: vtdsync's interrupts are not remapped, and the
     * firmware's table lives in memory that is ours now. */
    if (u->found_ires && !vtd_gcmd_enable(u, VTD_GCMD_IRE, false)) {
        why_set(why, "unit %d: interrupt remapping did not turn off", u->index);
        return -1;
    }
    uint32_t left = vtd_read32(u, VTD_REG_GSTS) & (VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE);
    if (kept)
        left &= ~(uint32_t)VTD_GCMD_TE;
    if (gsts & (VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE) || u->found_pmr || clear)
        ktap_diag("vtd: unit=%d taken over: %s", u->index,
                  left           ? "some state would not clear"
                  : kept ? "queue, PMEN and IR off, fault status clear, translation kept on"
                                 : "translation, queue, PMEN and IR off, fault status clear");
    return 0;
}
