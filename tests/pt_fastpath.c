/* The pass-through fast-path probe (see pt_fastpath.h). */
#include "tests/pt_fastpath.h"

#include "drivers/edu.h"
#include "drivers/pci.h"
#include "iommu/domain.h"
#include "iommu/fault.h"
#include "iommu/pasid_write.h"
#include "iommu/vtd.h"
#include "lib/config.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/page.h"
#include "tests/run.h"
#include "tests/vtd_setup.h"

/* What the probe page holds before each DMA. */
#define PROBE_FILL 0xa7

static bool probed;

bool pt_fastpath_pending(void)
{
    return !probed;
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
static enum verdict probe_run(const struct pt_fastpath_dev *d, uint8_t *page, char *why, size_t n)
{
    uint64_t phys = virt_to_phys(page);
    bool done;
    if (!d->to_pt(d->ctx)) {
        ksnprintf(why, n, "the %s's pass-through entry could not be written", d->name);
        return V_CANNOT;
    }
    if (!write_lands(d, page, phys, &done) || !done) {
        ksnprintf(why, n, "a pass-through DMA of the %s did not land", d->name);
        return V_CANNOT;
    }
    bool workaround = vtd_options.pt_ctx_flush;
    vtd_options.pt_ctx_flush = false;
    bool left = d->to_translating(d->ctx);
    vtd_options.pt_ctx_flush = workaround;
    if (!left) {
        ksnprintf(why, n, "the %s's translating entry could not be written", d->name);
        return V_CANNOT;
    }
    uint32_t mark = vtd_fault_seq();
    bool landed = write_lands(d, page, phys, &done);
    vtd_fault_poll();
    unsigned faults = vtd_faults_since(mark, d->sid, NULL, 0);
    ksnprintf(why, n,
              "after PT -> %s with the spec's PASID-cache and IOTLB invalidations, the %s's "
              "DMA write to unmapped IOVA %#llx %s and raised %u fault(s)",
              d->translating, d->name, (unsigned long long)phys,
              landed ? "reached that physical page" : "was stopped", faults);
    if (landed)
        return V_DEVIATES;
    if (!done && !faults) {
        ksnprintf(why, n, "the %s DMA after leaving pass-through did not complete", d->name);
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

/* The probe needs scalable mode, ECAP.PT, a translating type and CX16. */
static bool unit_can_probe(const struct vtd_unit *u)
{
    return u && u->mode == VTD_MODE_SCALABLE && u->caps.pt && (u->caps.slts || u->caps.flts) &&
           u->ops->store128;
}

void pt_fastpath_probe_with(const struct pt_fastpath_dev *d)
{
    if (probed || !unit_can_probe(d->u))
        return;
    probed = true;
    char why[224];
    enum verdict v = V_CANNOT;
    uint8_t *page = page_alloc_constrained(1, PAGE_SIZE, d->dma_limit);
    if (!page) {
        ksnprintf(why, sizeof(why), "no page within the %s's DMA reach", d->name);
    } else {
        v = probe_run(d, page, why, sizeof(why));
        /* Through pass-through once more, now with the workaround if it
         * was just switched on: its context-cache invalidation drops the
         * fast path the probe left, before anyone relies on the entry. */
        if (v == V_DEVIATES) {
            report(v, why);
            if (!d->to_pt(d->ctx) || !d->to_translating(d->ctx))
                ktap_diag("%s: the %s's entry could not be restored", PT_FASTPATH_CASE, d->name);
        }
        page_free(page, 1);
    }
    vtd_fault_poll();
    if (v == V_CANNOT)
        ktap_case(KTAP_SKIP, PT_FASTPATH_CASE, "cannot probe: %s", why);
    else if (v != V_DEVIATES)
        report(v, why);
}

/* ---- the edu as the DMA engine -------------------------------------------------- */

struct edu_probe {
    struct vtd_unit *u;
    uint16_t sid;
    struct edu edu;
    struct vtd_domain dom; /* nothing mapped */
};

static bool edu_install(struct edu_probe *p, const struct pasid_entry *e)
{
    return vtd_pasid_write(p->u, p->sid, vtd_rid_pasid(p->u, p->sid), e,
                           ENTRY_SYNC_STRATEGY_HITLESS)
        .ok;
}

static bool edu_to_pt(void *ctx)
{
    struct edu_probe *p = ctx;
    struct pasid_entry e;
    struct pasid_entry_cfg c = {.did = vtd_alloc_did(p->u), .aw = vtd_unit_aw(p->u)};
    vtd_pasid_snoop(p->u, &c);
    pasid_entry_build_pt(&e, &c);
    return edu_install(p, &e);
}

static bool edu_to_translating(void *ctx)
{
    struct edu_probe *p = ctx;
    struct pasid_entry e;
    vtd_domain_pasid_entry(&p->dom, &e);
    return edu_install(p, &e);
}

static bool edu_write(void *ctx, uint64_t phys)
{
    struct edu_probe *p = ctx;
    return edu_dma_from_device(&p->edu, phys, 0, PAGE_SIZE) == EDU_OK;
}

void pt_fastpath_probe(void)
{
    static struct edu_probe p;
    struct pci_dev *d = pci_find_id(EDU_VENDOR, EDU_DEVICE, NULL);
    const char *why;
    if (!probed && d) {
        struct vtd_unit *u = vtd_setup_unit_peek(d->seg, d->bus, d->dev, d->fn, &why);
        if (!unit_can_probe(u))
            return;
        memset(&p, 0, sizeof(p));
        p.sid = vtd_sid(d->bus, d->dev, d->fn);
        /* Borrowed from the foreign devices: given back after. */
        bool borrowed = vtd_setup_is_foreign(u, p.sid);
        bool had_entry = vtd_setup_has_foreign_entry(u, p.sid);
        p.u = vtd_setup_unit_for(d->seg, d->bus, d->dev, d->fn, &why);
        enum pgtable_format f = u->caps.slts ? PGTABLE_SECOND_STAGE : PGTABLE_FIRST_STAGE;
        if (!p.u || edu_init(&p.edu, d) != EDU_OK || vtd_domain_init(&p.dom, p.u, f))
            return;
        bool enabled_here = !p.u->translating;
        struct pt_fastpath_dev dev = {
            .name = "edu",
            .translating = f == PGTABLE_SECOND_STAGE ? "SS" : "FS",
            .u = p.u,
            .sid = p.sid,
            .dma_limit = EDU_DMA_LIMIT,
            .ctx = &p,
            .to_pt = edu_to_pt,
            .to_translating = edu_to_translating,
            .write = edu_write,
        };
        if (vtd_attach_scalable(p.u, p.sid, 0) || (enabled_here && !vtd_enable_translation(p.u)))
            ktap_case(KTAP_SKIP, PT_FASTPATH_CASE,
                      "cannot probe: scalable attach or translation enable failed");
        else
            pt_fastpath_probe_with(&dev);
        /* Blocked, then detached (its context-cache invalidation drops any
         * fast path left), as vtd_setup_unit_for hands devices out. */
        struct pasid_entry blocked;
        pasid_entry_build_blocked(&blocked);
        edu_install(&p, &blocked);
        vtd_detach_scalable(p.u, p.sid, p.dom.did);
        if (borrowed && !vtd_setup_give_back(p.u, p.sid, had_entry))
            ktap_diag("%s: the edu's foreign entry could not be written back", PT_FASTPATH_CASE);
        if (enabled_here)
            vtd_disable_translation(p.u);
        vtd_domain_destroy(&p.dom);
        probed = true;
    }
}
