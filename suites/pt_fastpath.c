/* The pass-through fast-path probe and its one case (see pt_fastpath.h);
 * the edu as its DMA engine is in pt_fastpath_edu.c. */
#include "suites/pt_fastpath.h"

#include "iommu/fault.h"
#include "iommu/vtd.h"
#include "lib/config.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/page.h"
#include "lib/why.h"
#include "app/run.h"

/* What the probe page holds before each DMA. */
#define PROBE_FILL 0xa7

static bool probed;

bool pt_fastpath_pending(void)
{
    return !probed;
}

void pt_fastpath_reset(void)
{
    probed = false;
}

static bool page_is(const uint8_t *p, uint8_t v)
{
    for (unsigned b = 0; b < PAGE_SIZE; b++)
        if (p[b] != v)
            return false;
    return true;
}

/* The device writes to IOVA phys: true when the page changed; *done:
 * the command completed. */
static bool write_lands(const struct pt_fastpath_dev *d, uint8_t *page, uint64_t phys, bool *done)
{
    memset(page, PROBE_FILL, PAGE_SIZE);
    *done = d->write(d->ctx, phys);
    return !page_is(page, PROBE_FILL);
}

/* Outcome of one probe.  V_SILENT: the write was stopped but no fault was
 * recorded, a failure of its own that the workaround does not address. */
enum verdict { V_CANNOT, V_TRANSLATES, V_DEVIATES, V_SILENT };

/* PT, a DMA that must land, then the translating entry (the page is not
 * mapped there) with the workaround held off for that one update, then a
 * DMA that must fault.  why: what the verdict rests on. */
static enum verdict probe_run(const struct pt_fastpath_dev *d, uint8_t *page, struct why *why)
{
    uint64_t phys = virt_to_phys(page);
    bool done;
    if (!d->to_pt(d->ctx)) {
        why_set(why, "the %s's pass-through entry could not be written", d->name);
        return V_CANNOT;
    }
    if (!write_lands(d, page, phys, &done) || !done) {
        why_set(why, "a pass-through DMA of the %s did not land", d->name);
        return V_CANNOT;
    }
    bool workaround = vtd_options.pt_ctx_flush;
    vtd_options.pt_ctx_flush = false;
    bool left = d->to_translating(d->ctx);
    vtd_options.pt_ctx_flush = workaround;
    if (!left) {
        why_set(why, "the %s's translating entry could not be written", d->name);
        return V_CANNOT;
    }
    uint32_t mark = vtd_fault_seq();
    bool landed = write_lands(d, page, phys, &done);
    vtd_fault_poll();
    unsigned faults = vtd_faults_since(mark, d->sid, NULL, 0);
    why_set(why,
            "after PT -> %s with the spec's PASID-cache and IOTLB invalidations, the %s's "
            "DMA write to unmapped IOVA %#llx %s and raised %u fault(s)",
            d->translating, d->name, (unsigned long long)phys,
            landed ? "reached that physical page" : "was stopped", faults);
    if (landed)
        return V_DEVIATES;
    if (!done && !faults) {
        why_set(why, "the %s DMA after leaving pass-through did not complete", d->name);
        return V_CANNOT;
    }
    return faults ? V_TRANSLATES : V_SILENT;
}

static void report(enum verdict v, const char *why)
{
    bool acknowledged = config_list_has(cfg.quirk, "pt_ctx_flush");
    if (v == V_TRANSLATES) {
        if (acknowledged)
            ktap_diag("%s: quirk=pt_ctx_flush given, but this platform does not need it",
                      PT_FASTPATH_CASE);
        ktap_case(KTAP_PASS, PT_FASTPATH_CASE, NULL);
        return;
    }
    if (v == V_SILENT) {
        ktap_case(KTAP_FAIL, PT_FASTPATH_CASE,
                  "%s, although FPD is clear: a blocked request must be recorded as a fault", why);
        return;
    }
    if (acknowledged) {
        ktap_diag("%s: %s", PT_FASTPATH_CASE, why);
        ktap_case(KTAP_XFAIL, PT_FASTPATH_CASE,
                  "known deviation (quirk=pt_ctx_flush): the context-cache invalidation "
                  "after leaving pass-through stays on");
        return;
    }
    ktap_case(KTAP_FAIL, PT_FASTPATH_CASE,
              "deviation: %s (VT-d 6.5.3.3 asks for no context-cache invalidation here)", why);
    vtd_options.pt_ctx_flush = true;
    ktap_diag("%s: workaround applied for the rest of the run: a context-cache invalidation "
              "after every entry that leaves pass-through (as quirk=pt_ctx_flush)",
              PT_FASTPATH_CASE);
}

bool pt_fastpath_unit_can_probe(const struct vtd_unit *u)
{
    return u && u->mode == VTD_MODE_SCALABLE && u->caps.pt && (u->caps.slts || u->caps.flts) &&
           u->ops->store128;
}

void pt_fastpath_probe_with(const struct pt_fastpath_dev *d)
{
    if (probed || !pt_fastpath_unit_can_probe(d->u))
        return;
    probed = true;
    struct why why;
    enum verdict v = V_CANNOT;
    uint8_t *page = page_alloc_constrained(1, PAGE_SIZE, d->dma_limit);
    if (!page) {
        why_set(&why, "no page within the %s's DMA reach", d->name);
    } else {
        v = probe_run(d, page, &why);
        /* Through pass-through once more, now with the workaround if it
         * was just switched on: its context-cache invalidation drops the
         * fast path the probe left, before anyone relies on the entry. */
        if (v == V_DEVIATES) {
            report(v, why.text);
            if (!d->to_pt(d->ctx) || !d->to_translating(d->ctx))
                ktap_diag("%s: the %s's entry could not be restored", PT_FASTPATH_CASE, d->name);
        }
        page_free(page, 1);
    }
    vtd_fault_poll();
    if (v == V_CANNOT)
        ktap_case(KTAP_SKIP, PT_FASTPATH_CASE, "cannot probe: %s", why.text);
    else if (v != V_DEVIATES)
        report(v, why.text);
}

void pt_fastpath_cannot(const char *why)
{
    if (probed)
        return;
    probed = true;
    ktap_case(KTAP_SKIP, PT_FASTPATH_CASE, "cannot probe: %s", why);
}
