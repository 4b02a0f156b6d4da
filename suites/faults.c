/* Suite `faults`: a fault storm and what must survive it.
 *
 * The NVMe controller's I/O queue is kept full of READs whose PRP points
 * at an unmapped IOVA, so every command makes the controller's DMA fault,
 * for STORM_US.  The unit signals each recorded fault with an interrupt;
 * the log counts them all but prints at most VTD_FAULT_PRINT_BURST lines a
 * second and says what it dropped.  Then the overflow: with the fault
 * interrupt masked and nobody scanning, the one recording register stays
 * full while a second source (edu) faults too, which sets FSTS.PFO (QEMU
 * collapses repeated faults of the source already recorded, so a single
 * device never overflows it).  Afterwards a clean DMA round trip through
 * mapped memory must work, with no fault, and the page behind the
 * unmapped IOVA must be untouched.  The invalidation-error cases follow
 * (faults_qi.c). */
#include "arch/x86/cpu.h"
#include "arch/x86/trap.h"
#include "arch/x86/tsc.h"
#include "drivers/pci.h"
#include "iommu/pasid_write.h"
#include "iommu/vtd.h"
#include "iommu/vtd_alias.h"
#include "iommu/vtd_regs.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/page.h"
#include "lib/why.h"
#include "suites/faults.h"
#include "app/platform.h"
#include "app/run.h"
#include "app/suite.h"
#include "app/nvme_pick.h"
#include "app/vtd_setup.h"
#include "app/xstate.h"

#define STORM_US 3000000u    /* interrupt-driven storm */
#define PFO_ROUND_US 300000u /* one masked round: > edu's 100 ms per transfer */
#define PFO_ROUNDS 3
#define STORM_DEPTH 64
#define CANARY 0xc5

static struct fx fx;

/* ---- the devices' entries: the one domain, or blocked ----------------------- */

/* The catalogue state of f->dom (app/xstate.h). */
static enum xstate dom_state(const struct fx *f)
{
    return f->dom.pt.params.format == PGTABLE_FIRST_STAGE ? XS_FS_A : XS_SS_A;
}

static bool attach(struct fx *f, uint16_t sid)
{
    struct xs_entry e;
    if (f->u->mode == VTD_MODE_SCALABLE && vtd_attach_scalable(f->u, sid, 0))
        return false;
    xs_build(dom_state(f), f->u, &f->dom, 0, &e);
    struct vtd_write_result r = xs_write(f->u, sid, &e, ENTRY_SYNC_STRATEGY_HITLESS);
    if (!r.ok)
        ktap_diag("faults: attaching %04x failed: %s", sid, r.why.text);
    return r.ok;
}

static void detach(struct fx *f, uint16_t sid)
{
    struct xs_entry e;
    xs_build(XS_BLOCKED, f->u, NULL, 0, &e);
    xs_write(f->u, sid, &e, ENTRY_SYNC_STRATEGY_HITLESS);
}

static bool nvme_bring_up(struct fx *f)
{
    struct dma_space space = identity_space(&f->dma_map);
    if (nvme_reset(&f->nvme, f->nvme_pci, &space, vtd_iova_limit(f->u)) ||
        nvme_create_io_queues(&f->nvme, STORM_DEPTH)) {
        ktap_diag("faults: NVMe bring-up failed: %s", f->nvme.error.text);
        return false;
    }
    nvme_write_policy(&f->nvme, cfg.nvme_write);
    return true;
}

static bool sacrifice_intact(const struct fx *f)
{
    for (unsigned i = 0; i < PAGE_SIZE; i++)
        if (f->sacrifice[i] != CANARY)
            return false;
    return true;
}

/* ---- the storm ------------------------------------------------------------- */

struct storm {
    uint64_t us, submitted, completed, errors, edu_dmas;
    struct vtd_fault_totals before, after;
    uint64_t irq_before, irq_after;
};

static void storm_run(struct fx *f, uint64_t us, bool poll, bool edu_too, struct storm *s)
{
    struct nvme_ctrl *c = &f->nvme;
    uint32_t nblocks = c->lba_size >= PAGE_SIZE ? 1 : PAGE_SIZE / c->lba_size;
    struct nvme_prp prp = {f->sacrifice_phys, 0};
    struct nvme_done d[32];
    uint32_t inflight = 0;
    uint16_t cid = 0;
    memset(s, 0, sizeof(*s));
    vtd_fault_get_totals(&s->before);
    s->irq_before = f->u->fault.msi_armed ? irq_count(f->u->fault.vector) : 0;
    uint64_t start = uptime_us(), now = start, next_poll = start;
    while (now - start < us) {
        if (f->nvme_ok && !c->dead) {
            while (inflight + 1 < c->io.depth && !nvme_submit_rw(c, false, 0, nblocks, &prp, cid)) {
                cid = (cid + 1) & 0x3ff;
                inflight++;
                s->submitted++;
            }
            unsigned n = nvme_reap(c, &c->io, d, 32);
            for (unsigned i = 0; i < n; i++)
                s->errors += d[i].status != 0;
            s->completed += n;
            inflight -= n < inflight ? n : inflight;
            nvme_check_fatal(c);
        }
        if (edu_too && f->edu_ok && !edu_dma_busy(&f->edu) &&
            edu_dma_start(&f->edu, false, f->sacrifice_phys, 0, PAGE_SIZE) == EDU_OK)
            s->edu_dmas++;
        if (poll && now >= next_poll) {
            vtd_fault_poll(); /* prints, rate limited */
            next_poll = now + 10000;
        }
        cpu_relax();
        now = uptime_us();
    }
    /* Let what is in flight finish (bounded) so the next case starts clean. */
    uint64_t drain = uptime_us();
    while (inflight && !c->dead && uptime_us() - drain < 2000000) {
        unsigned n = nvme_reap(c, &c->io, d, 32);
        s->completed += n;
        inflight -= n < inflight ? n : inflight;
        nvme_check_fatal(c);
    }
    if (f->edu_ok)
        edu_dma_wait(&f->edu, EDU_DMA_TIMEOUT_US);
    s->us = now - start;
    s->irq_after = f->u->fault.msi_armed ? irq_count(f->u->fault.vector) : 0;
    vtd_fault_get_totals(&s->after);
}

static uint64_t per_s(uint64_t n, uint64_t us)
{
    return us ? n * 1000000 / us : 0;
}

static struct storm main_storm;

static void case_storm(struct fx *f)
{
    struct storm *s = &main_storm;
    uint32_t mark = vtd_fault_seq();
    storm_run(f, STORM_US, true, false, s);
    vtd_fault_poll();
    uint64_t faults = s->after.recorded - s->before.recorded;
    uint64_t events = s->after.irqs - s->before.irqs;
    ktap_diag("faults: storm %llu ms: %llu NVMe READs to unmapped IOVA %#llx (%llu completed, "
              "%llu with an error status)",
              (unsigned long long)(s->us / 1000), (unsigned long long)s->submitted,
              (unsigned long long)f->sacrifice_phys, (unsigned long long)s->completed,
              (unsigned long long)s->errors);
    ktap_diag("faults: storm: %llu faults recorded (%llu/s), %llu fault events handled (%llu/s, "
              "%llu interrupts), PFO %llu",
              (unsigned long long)faults, (unsigned long long)per_s(faults, s->us),
              (unsigned long long)events, (unsigned long long)per_s(events, s->us),
              (unsigned long long)(s->irq_after - s->irq_before),
              (unsigned long long)(s->after.overflows - s->before.overflows));
    if (f->nvme.dead)
        ktap_diag("faults: the controller gave up during the storm: %s", f->nvme.error.text);
    else if (s->completed && !s->errors)
        ktap_diag("faults: finding: the controller completed every faulted READ with success "
                  "status (the data was dropped, the driver was not told)");
    /* Faults of the edu (attached, idle) are ours and wrong; those of a
     * device the tests do not own are foreign: reported, not a failure
     * (real-hardware.md). */
    unsigned stray = f->edu_ok ? vtd_faults_since(mark, f->edu_sid, NULL, 0) : 0;
    unsigned foreign = vtd_setup_foreign_faults_since(f->u, mark);
    stray += vtd_faults_since(mark, -1, NULL, 0) - vtd_faults_since(mark, f->nvme_sid, NULL, 0) -
             stray - foreign;
    if (foreign)
        ktap_diag("faults: %u foreign fault(s) during the storm (devices the tests do not own)",
                  foreign);
    if (!sacrifice_intact(f))
        ktap_case(KTAP_FAIL, "storm_faults_counted",
                  "DMA reached the page behind the unmapped IOVA (translation bypassed)");
    else if (!faults)
        ktap_case(KTAP_FAIL, "storm_faults_counted",
                  "no fault recorded for %llu READs to an unmapped IOVA",
                  (unsigned long long)s->submitted);
    else if (stray)
        ktap_case(KTAP_FAIL, "storm_faults_counted",
                  "%u fault(s) from another source (the idle edu or no device we know)", stray);
    else
        ktap_case(KTAP_PASS, "storm_faults_counted", NULL);

    if (!f->u->fault.msi_armed)
        ktap_case(KTAP_SKIP, "storm_fault_events", "unit=%d has no fault vector (polled)",
                  f->u->index);
    else if (!events)
        ktap_case(KTAP_FAIL, "storm_fault_events", "no fault event interrupt during the storm");
    else
        ktap_case(KTAP_PASS, "storm_fault_events", NULL);
}

static void case_rate_limit(struct fx *f)
{
    (void)f;
    struct storm *s = &main_storm;
    vtd_fault_summary(true);
    struct vtd_fault_totals t;
    vtd_fault_get_totals(&t);
    uint64_t faults = s->after.recorded - s->before.recorded;
    uint64_t printed = t.printed - s->before.printed;
    uint64_t dropped = t.suppressed - s->before.suppressed;
    /* Every rate window the storm touched may print a full burst. */
    uint64_t windows = s->us / 1000000 + 2;
    if (printed > windows * VTD_FAULT_PRINT_BURST)
        ktap_case(KTAP_FAIL, "storm_lines_rate_limited",
                  "%llu fault lines printed in %llu ms (limit %u/s)", (unsigned long long)printed,
                  (unsigned long long)(s->us / 1000), VTD_FAULT_PRINT_BURST);
    else if (printed + dropped < faults)
        ktap_case(KTAP_FAIL, "storm_lines_rate_limited",
                  "%llu faults but only %llu lines printed and %llu counted as suppressed",
                  (unsigned long long)faults, (unsigned long long)printed,
                  (unsigned long long)dropped);
    else
        ktap_case(KTAP_PASS, "storm_lines_rate_limited", NULL);
}

static void case_overflow(struct fx *f)
{
    struct vtd_unit *u = f->u;
    struct storm s;
    uint64_t pfo = 0, edu = 0;
    for (int round = 0; round < PFO_ROUNDS; round++) {
        /* As if the handler could not keep up: nobody empties the record. */
        vtd_write32(u, VTD_REG_FECTL, (uint32_t)VTD_ECTL_IM);
        storm_run(f, PFO_ROUND_US, false, true, &s);
        vtd_write32(u, VTD_REG_FECTL, u->fault.msi_armed ? 0 : (uint32_t)VTD_ECTL_IM);
        vtd_fault_poll();
        struct vtd_fault_totals t;
        vtd_fault_get_totals(&t);
        pfo += t.overflows - s.before.overflows;
        edu += s.edu_dmas;
    }
    bool clear = !(vtd_read32(u, VTD_REG_FSTS) & VTD_FSTS_PFO);
    /* Recording must resume once PFO is cleared. */
    storm_run(f, 200000, true, false, &s);
    vtd_fault_poll();
    uint64_t after = s.after.recorded - s.before.recorded;
    ktap_diag("faults: overflow: %d masked rounds of %u ms (%llu edu DMAs as a second source): "
              "PFO seen %llu times; %llu faults recorded in 200 ms afterwards",
              PFO_ROUNDS, PFO_ROUND_US / 1000, (unsigned long long)edu, (unsigned long long)pfo,
              (unsigned long long)after);
    if (!clear)
        ktap_case(KTAP_FAIL, "storm_overflow_pfo", "FSTS.PFO still set after the scan");
    else if (pfo && !after)
        ktap_case(KTAP_FAIL, "storm_overflow_pfo", "no fault recorded after the overflow");
    else if (pfo)
        ktap_case(KTAP_PASS, "storm_overflow_pfo", NULL);
    else if (!f->edu_ok && u->caps.nfr == 1)
        ktap_case(KTAP_SKIP, "storm_overflow_pfo",
                  "no overflow with one faulting source: the unit collapses its repeated "
                  "faults into the pending record (needs a second device, e.g. edu)");
    else
        ktap_case(KTAP_SKIP, "storm_overflow_pfo",
                  "the unit never set FSTS.PFO (%u recording registers kept up)", u->caps.nfr);
}

/* ---- afterwards: clean DMA --------------------------------------------------- */

static bool nvme_roundtrip(struct fx *f, struct why *why)
{
    struct nvme_ctrl *c = &f->nvme;
    if (c->dead && !nvme_bring_up(f))
        return why_set(why, "NVMe reset after the storm failed: %s", c->error.text);
    uint64_t iova;
    uint8_t *b = dma_pool_alloc(&c->pool, 2, &iova);
    if (!b || c->lba_size > PAGE_SIZE)
        return why_set(why, "no NVMe buffer (or LBA size %u > 4 KiB)", c->lba_size);
    uint32_t nblocks = PAGE_SIZE / c->lba_size;
    struct nvme_prp p0 = {iova, 0}, p1 = {iova + PAGE_SIZE, 0};
    uint64_t lba = 64; /* away from anything a partition table uses */
    memset(b + PAGE_SIZE, CANARY, PAGE_SIZE);
    if (c->writable) {
        for (unsigned i = 0; i < PAGE_SIZE; i++)
            b[i] = (uint8_t)(i * 13 + (i >> 8) + 0x21);
        if (nvme_rw_sync(c, true, lba, nblocks, &p0))
            return why_set(why, "WRITE failed: %s",
                           c->error.text[0] ? c->error.text : "error status");
    } else if (nvme_rw_sync(c, false, lba, nblocks, &p0)) {
        return why_set(why, "READ failed: %s", c->error.text[0] ? c->error.text : "error status");
    }
    if (nvme_rw_sync(c, false, lba, nblocks, &p1))
        return why_set(why, "READ back failed: %s",
                       c->error.text[0] ? c->error.text : "error status");
    if (memcmp(b, b + PAGE_SIZE, PAGE_SIZE))
        return why_set(why, "NVMe data read back differs from what was %s",
                       c->writable ? "written" : "read first");
    return true;
}

static bool edu_roundtrip(struct fx *f, struct why *why)
{
    for (unsigned i = 0; i < PAGE_SIZE; i++)
        f->buf[i] = (uint8_t)(i * 7 + 3);
    memset(f->buf + PAGE_SIZE, 0, PAGE_SIZE);
    enum edu_status st = edu_dma_to_device(&f->edu, f->buf_phys, 0, PAGE_SIZE);
    if (st == EDU_OK)
        st = edu_dma_from_device(&f->edu, f->buf_phys + PAGE_SIZE, 0, PAGE_SIZE);
    if (st != EDU_OK)
        return why_set(why, "edu DMA: %s", edu_status_name(st));
    if (memcmp(f->buf, f->buf + PAGE_SIZE, PAGE_SIZE))
        return why_set(why, "edu round trip data differs");
    return true;
}

static void case_dma_after(struct fx *f)
{
    struct why why;
    uint32_t mark = vtd_fault_seq();
    if ((f->nvme_ok && !nvme_roundtrip(f, &why)) || (f->edu_ok && !edu_roundtrip(f, &why))) {
        ktap_case(KTAP_FAIL, "dma_after_storm", "%s", why.text);
        return;
    }
    vtd_fault_poll();
    /* Only the devices this suite owns: a foreign device's faults are not
     * a failure of the round trip. */
    unsigned n = (f->nvme_ok ? vtd_faults_since(mark, f->nvme_sid, NULL, 0) : 0) +
                 (f->edu_ok ? vtd_faults_since(mark, f->edu_sid, NULL, 0) : 0);
    if (n) {
        ktap_case(KTAP_FAIL, "dma_after_storm", "%u fault(s) during the clean round trip", n);
        return;
    }
    if (!sacrifice_intact(f)) {
        ktap_case(KTAP_FAIL, "dma_after_storm", "the page behind the unmapped IOVA changed");
        return;
    }
    ktap_diag("faults: clean round trip after the storm:%s%s", f->nvme_ok ? " NVMe" : "",
              f->edu_ok ? " edu" : "");
    ktap_case(KTAP_PASS, "dma_after_storm", NULL);
}

/* ---- setup ------------------------------------------------------------------- */

static bool setup(struct fx *f, struct why *why)
{
    struct why no_nvme;
    f->nvme_pci =
        nvme_pick(": the storm needs one (edu is too slow: one transfer per 100 ms)", &no_nvme);
    f->edu_pci = pci_find_id(EDU_VENDOR, EDU_DEVICE, NULL);
    struct pci_dev *first = f->nvme_pci ? f->nvme_pci : f->edu_pci;
    if (!first)
        return why_set(why, "no DMA device to storm with (NVMe or QEMU edu)");
    f->u = vtd_setup_unit_for(first->seg, first->bus, first->dev, first->fn, why);
    if (!f->u)
        return false;
    if (!f->u->ops->store128)
        return why_set(why, "CMPXCHG16B missing: entries cannot be updated atomically");
    if (f->edu_pci && f->nvme_pci) {
        struct pci_dev *e = f->edu_pci, *n = f->nvme_pci;
        char b[8];
        /* Behind one PCIe-to-PCI bridge both reach the unit as one source
         * with one context entry: the edu cannot be a second source. */
        if (vtd_alias_shared(f->u, vtd_sid(e->bus, e->dev, e->fn),
                             vtd_sid(n->bus, n->dev, n->fn))) {
            ktap_diag("faults: edu %s shares the NVMe's DMA alias: one source to the unit, "
                      "not used",
                      vtd_sid_str(vtd_sid(e->bus, e->dev, e->fn), b));
            f->edu_pci = NULL;
        } else if (vtd_setup_unit_peek(e->seg, e->bus, e->dev, e->fn, NULL) != f->u ||
                   vtd_setup_unit_for(e->seg, e->bus, e->dev, e->fn, NULL) != f->u) {
            /* Peek first: taking an edu the storm does not use would end
             * its foreign entry for nothing. */
            f->edu_pci = NULL; /* another unit: the storm stays on one */
        }
    }
    enum xstate st = xs_requirement(f->u, XS_SS_A) ? XS_FS_A : XS_SS_A;
    if (vtd_domain_init(&f->dom, f->u, xs_format(st)))
        return why_set(why, "cannot build the domain (out of memory?)");
    f->dom_ok = true;
    f->dma_map = (struct identity_map){&f->dom, NULL, 1, "faults"};
    /* Below the edu's 28-bit DMA mask; the sacrifice page is never mapped. */
    f->sacrifice = page_alloc_constrained(1, PAGE_SIZE, EDU_DMA_LIMIT);
    f->buf = page_alloc_constrained(2, PAGE_SIZE, EDU_DMA_LIMIT);
    if (!f->sacrifice || !f->buf)
        return why_set(why, "no memory below 256 MiB");
    f->sacrifice_phys = virt_to_phys(f->sacrifice);
    f->buf_phys = virt_to_phys(f->buf);
    memset(f->sacrifice, CANARY, PAGE_SIZE);
    if (identity_map_dma(&f->dma_map, f->buf_phys, 2 * PAGE_SIZE) == DMA_MAP_FAILED)
        return why_set(why, "cannot map the round-trip buffer");
    if (!f->u->translating) {
        f->enabled_here = true;
        if (!vtd_enable_translation(f->u))
            return why_set(why, "translation did not switch on");
    }
    if (f->nvme_pci) {
        f->nvme_sid = vtd_sid(f->nvme_pci->bus, f->nvme_pci->dev, f->nvme_pci->fn);
        f->nvme_ok = attach(f, f->nvme_sid) && nvme_bring_up(f);
    }
    if (f->edu_pci) {
        f->edu_sid = vtd_sid(f->edu_pci->bus, f->edu_pci->dev, f->edu_pci->fn);
        f->edu_ok = attach(f, f->edu_sid) && edu_init(&f->edu, f->edu_pci) == EDU_OK;
    }
    if (!f->nvme_ok)
        return why_set(why, "%s",
                       f->nvme_pci ? "the NVMe controller did not come up under translation"
                                   : no_nvme.text);
    return true;
}

static void teardown(struct fx *f)
{
    if (f->nvme_ok)
        nvme_disable(&f->nvme);
    if (f->nvme_pci && f->dom_ok)
        detach(f, f->nvme_sid);
    if (f->edu_ok)
        detach(f, f->edu_sid);
    if (f->enabled_here)
        vtd_disable_translation(f->u);
}

static void suite_faults(void)
{
    struct fx *f = &fx;
    struct why why;
    if (!setup(f, &why)) {
        vtd_suite_unavailable("faults", why.text);
        teardown(f);
        return;
    }
    char b1[8], b2[8];
    ktap_suite_begin("faults", -1);
    ktap_diag("faults: unit %d (%s), NVMe %s \"%s\"%s%s, unmapped IOVA %#llx, NFR=%u", f->u->index,
              f->u->mode == VTD_MODE_SCALABLE ? "scalable" : "legacy", vtd_sid_str(f->nvme_sid, b1),
              f->nvme.model, f->edu_ok ? ", edu " : "",
              f->edu_ok ? vtd_sid_str(f->edu_sid, b2) : "", (unsigned long long)f->sacrifice_phys,
              f->u->caps.nfr);
    case_storm(f);
    case_rate_limit(f);
    case_overflow(f);
    case_dma_after(f);
    faults_qi_cases(f);
    teardown(f);
    vtd_fault_summary(true);
    ktap_suite_end();
}

SUITE("faults", 70, suite_faults);
