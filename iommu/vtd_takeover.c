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
 * bad descriptor is overwritten with a wait whose status write proves the
 * queue ran, or, without an error, a wait is appended at the tail. */
#include "iommu/qi.h"
#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/printf.h"

#define TAKEOVER_STATUS 0x7a6b0001u /* the wait's status value: "taken over" */

static const uint32_t fault_bits = VTD_FSTS_PFO | VTD_FSTS_AFO | VTD_FSTS_APF | VTD_FSTS_IQE |
                                   VTD_FSTS_ICE | VTD_FSTS_ITE;

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
        ktap_diag("vtd: unit=%d translation on with RTADDR=%#llx (%s tables)", u->index,
                  (unsigned long long)u->found_rtaddr,
                  (u->found_rtaddr & (3ULL << 10)) ? "scalable-mode" : "legacy");
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

/* 3. Run one wait descriptor through the firmware's queue (at the head it
 * stopped on, or appended at the tail), then disable the queue. */
static int drain_queue(struct vtd_unit *u, bool stuck, char *why, size_t len)
{
    uint64_t iqa = vtd_read64(u, VTD_REG_IQA);
    unsigned shift = (iqa & VTD_IQA_DW) ? 5 : 4, qwords = 1u << (shift - 3);
    uint64_t entries = (4096ULL << (iqa & VTD_IQA_QS_MASK)) >> shift;
    uint64_t head = (vtd_read64(u, VTD_REG_IQH) >> shift) % entries;
    uint64_t tail = (vtd_read64(u, VTD_REG_IQT) >> shift) % entries;
    volatile uint32_t *status = u->ops->alloc_pages(u->ops->ctx, 1);
    uint64_t *queue = u->ops->phys_to_virt(u->ops->ctx, iqa & ~0xfffULL);
    if (!status || !queue) {
        ksnprintf(why, len, "unit %d: no memory to drain the firmware's queue", u->index);
        return -1;
    }
    uint64_t slot_index = stuck ? head : tail;
    uint64_t *slot = queue + slot_index * qwords;
    memset(slot, 0, qwords * 8);
    slot[0] = VTD_DESC_WAIT | (1u << 5) /* SW */ | ((uint64_t)TAKEOVER_STATUS << 32);
    slot[1] = u->ops->virt_to_phys(u->ops->ctx, (const void *)status);
    vtd_flush(u, slot, qwords * 8);
    if (stuck)
        vtd_write32(u, VTD_REG_FSTS, VTD_FSTS_IQE);
    else
        tail = (tail + 1) % entries;
    vtd_write64(u, VTD_REG_IQT, tail << shift); /* resumes a stopped queue too */
    const struct vtd_ops *o = u->ops;
    vtd_wait_begin(u, "the firmware's invalidation queue to drain");
    uint64_t start = o->now_us(o->ctx);
    while (*status != TAKEOVER_STATUS ||
           (vtd_read64(u, VTD_REG_IQH) >> shift) % entries != tail) {
        if ((vtd_read32(u, VTD_REG_FSTS) & VTD_FSTS_IQE) ||
            o->now_us(o->ctx) - start >= VTD_INV_TIMEOUT_US) {
            ksnprintf(why, len,
                      "unit %d: the firmware's invalidation queue did not drain (IQH %#llx IQT "
                      "%#llx FSTS %#x)",
                      u->index, (unsigned long long)vtd_read64(u, VTD_REG_IQH),
                      (unsigned long long)vtd_read64(u, VTD_REG_IQT),
                      vtd_read32(u, VTD_REG_FSTS));
            return -1;
        }
        o->relax(o->ctx);
    }
    if (!vtd_gcmd_enable(u, VTD_GCMD_QIE, false)) {
        ksnprintf(why, len, "unit %d: queued invalidation did not turn off (GSTS.QIES)",
                  u->index);
        return -1;
    }
    return 0;
}

int vtd_takeover(struct vtd_unit *u, char *why, size_t len)
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

    /* 2. The records are the firmware's: log them before ours. */
    vtd_fault_scan(u);
    uint32_t clear = fsts & fault_bits;
    if (u->found_qies)
        clear &= ~(uint32_t)VTD_FSTS_IQE; /* cleared with the queue's restart */
    if (clear)
        vtd_write32(u, VTD_REG_FSTS, clear);

    /* 3. The firmware's queue. */
    if (u->found_qies && drain_queue(u, fsts & VTD_FSTS_IQE, why, len))
        return -1;
    if (vtd_read32(u, VTD_REG_FSTS) & VTD_FSTS_IQE)
        vtd_write32(u, VTD_REG_FSTS, VTD_FSTS_IQE);

    /* 4. Translation off: the root table may then change, mode and all.
     * A unit whose translation must stay on keeps it, and then keeps its
     * table mode too (RTADDR.TTM must not change under translation). */
    char keep[160] = "";
    if (u->found_tes && vtd_options.keep_firmware_te &&
        vtd_options.keep_firmware_te(u, keep, sizeof(keep))) {
        uint64_t ttm = u->mode == VTD_MODE_SCALABLE ? VTD_RTADDR_TTM_SCALABLE
                                                    : VTD_RTADDR_TTM_LEGACY;
        ktap_diag("vtd: unit=%d translation stays on: %s", u->index, keep);
        if ((u->found_rtaddr & (3ULL << 10)) != ttm) {
            bool legacy = !(u->found_rtaddr & (3ULL << 10));
            enum vtd_mode_request want = legacy ? VTD_WANT_LEGACY : VTD_WANT_SCALABLE;
            if (vtd_plan_unit(u->ver, u->cap, u->ecap, want, &u->plan)) {
                ksnprintf(why, len,
                          "unit %d: translation must stay on (%s) in the firmware's %s table "
                          "mode: %s",
                          u->index, keep, legacy ? "legacy" : "scalable", u->plan.reason);
                return -1;
            }
            u->mode = u->plan.mode;
            ktap_diag("vtd: unit=%d keeps the firmware's %s table mode", u->index,
                      legacy ? "legacy" : "scalable");
        }
    } else if (u->found_tes && !vtd_gcmd_enable(u, VTD_GCMD_TE, false)) {
        ksnprintf(why, len, "unit %d: translation left on by the firmware did not turn off",
                  u->index);
        return -1;
    }
    /* 5. Protected memory regions block DMA without a fault record. */
    if (u->found_pmr) {
        vtd_write32(u, VTD_REG_PMEN, 0);
        if (!vtd_wait32(u, VTD_REG_PMEN, VTD_PMEN_PRS, 0, "PMEN.PRS=0")) {
            ksnprintf(why, len, "unit %d: protected memory regions did not turn off",
                      u->index);
            return -1;
        }
    }
    /* 6. Interrupt remapping: vtdsync's interrupts are not remapped, and the
     * firmware's table lives in memory that is ours now. */
    if (u->found_ires && !vtd_gcmd_enable(u, VTD_GCMD_IRE, false)) {
        ksnprintf(why, len, "unit %d: interrupt remapping did not turn off", u->index);
        return -1;
    }
    uint32_t left = vtd_read32(u, VTD_REG_GSTS) & (VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE);
    if (keep[0])
        left &= ~(uint32_t)VTD_GCMD_TE;
    if (gsts & (VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE) || u->found_pmr || clear)
        ktap_diag("vtd: unit=%d taken over: %s", u->index,
                  left    ? "some state would not clear"
                  : keep[0] ? "queue, PMEN and IR off, fault status clear, translation kept on"
                            : "translation, queue, PMEN and IR off, fault status clear");
    return 0;
}
