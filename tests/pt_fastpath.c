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

/* The page the probe writes: its physical address is the IOVA the
 * translating entry leaves unmapped. */
#define PROBE_FILL 0xa7

struct probe {
    struct vtd_unit *u;
    bool borrowed, had_entry; /* the edu was foreign: given back after */
    struct edu edu;
    uint16_t sid;
    uint8_t *page;
    uint64_t phys;
    enum pgtable_format format; /* of the translating entry */
};

static bool page_is(const uint8_t *p, uint8_t v)
{
    for (unsigned b = 0; b < PAGE_SIZE; b++)
        if (p[b] != v)
            return false;
    return true;
}

static bool install(struct probe *p, const struct pasid_entry *e)
{
    return vtd_pasid_write(p->u, p->sid, vtd_rid_pasid(p->u, p->sid), e,
                           ENTRY_SYNC_STRATEGY_HITLESS)
        .ok;
}

/* The edu writes its buffer to IOVA phys: true when the page changed. */
static bool write_lands(struct probe *p, enum edu_status *st)
{
    memset(p->page, PROBE_FILL, PAGE_SIZE);
    *st = edu_dma_from_device(&p->edu, p->phys, 0, PAGE_SIZE);
    return !page_is(p->page, PROBE_FILL);
}

/* Outcome of one probe.  V_SILENT: the write was stopped but no fault was
 * recorded, a failure of its own that the workaround does not address. */
enum verdict { V_CANNOT, V_TRANSLATES, V_DEVIATES, V_SILENT };

/* PT, a DMA that must land, then a translating entry with nothing mapped
 * (the workaround held off for that one update), then a DMA that must
 * fault.  why: what the verdict rests on. */
static enum verdict probe_run(struct probe *p, struct vtd_domain *d, char *why, size_t n)
{
    struct pasid_entry e;
    struct pasid_entry_cfg c = {.did = vtd_alloc_did(p->u), .aw = vtd_unit_aw(p->u)};
    vtd_pasid_snoop(p->u, &c);
    pasid_entry_build_pt(&e, &c);
    if (!install(p, &e)) {
        ksnprintf(why, n, "the pass-through entry could not be written");
        return V_CANNOT;
    }
    enum edu_status st;
    if (!write_lands(p, &st) || st != EDU_OK) {
        ksnprintf(why, n, "a pass-through DMA did not land (%s)", edu_status_name(st));
        return V_CANNOT;
    }
    vtd_domain_pasid_entry(d, &e);
    bool workaround = vtd_options.pt_ctx_flush;
    vtd_options.pt_ctx_flush = false;
    bool left = install(p, &e);
    vtd_options.pt_ctx_flush = workaround;
    if (!left) {
        ksnprintf(why, n, "the translating entry could not be written");
        return V_CANNOT;
    }
    uint32_t mark = vtd_fault_seq();
    bool landed = write_lands(p, &st);
    vtd_fault_poll();
    unsigned faults = vtd_faults_since(mark, p->sid, NULL, 0);
    ksnprintf(why, n,
              "after PT -> %s with the spec's PASID-cache and IOTLB invalidations, a DMA "
              "write to unmapped IOVA %#llx %s and raised %u fault(s)",
              p->format == PGTABLE_FIRST_STAGE ? "FS" : "SS", (unsigned long long)p->phys,
              landed ? "reached that physical page" : "was stopped", faults);
    if (landed)
        return V_DEVIATES;
    if (st != EDU_OK) {
        ksnprintf(why, n, "the edu DMA after leaving pass-through did not complete (%s)",
                  edu_status_name(st));
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

/* The edu and its unit, when the probe applies; false otherwise. */
static bool probe_target(struct probe *p)
{
    struct pci_dev *d = pci_find_id(EDU_VENDOR, EDU_DEVICE, NULL);
    const char *why;
    struct vtd_unit *u = d ? vtd_setup_unit_peek(d->seg, d->bus, d->dev, d->fn, &why) : NULL;
    if (!u || u->mode != VTD_MODE_SCALABLE || !u->caps.pt || !(u->caps.slts || u->caps.flts) ||
        !u->ops->store128)
        return false;
    p->sid = vtd_sid(d->bus, d->dev, d->fn);
    p->borrowed = vtd_setup_is_foreign(u, p->sid);
    p->had_entry = vtd_setup_has_foreign_entry(u, p->sid);
    p->u = vtd_setup_unit_for(d->seg, d->bus, d->dev, d->fn, &why);
    return p->u && edu_init(&p->edu, d) == EDU_OK;
}

void pt_fastpath_probe(void)
{
    static bool done;
    if (done)
        return;
    struct probe p;
    memset(&p, 0, sizeof(p));
    if (!probe_target(&p))
        return;
    done = true;
    char why[224];
    struct vtd_domain d;
    p.format = p.u->caps.slts ? PGTABLE_SECOND_STAGE : PGTABLE_FIRST_STAGE;
    p.page = page_alloc_constrained(1, PAGE_SIZE, EDU_DMA_LIMIT);
    bool enabled_here = !p.u->translating;
    enum verdict v = V_CANNOT;
    if (!p.page) {
        ksnprintf(why, sizeof(why), "no page below 256 MiB for the edu");
    } else if (vtd_domain_init(&d, p.u, p.format)) {
        ksnprintf(why, sizeof(why), "cannot build an empty domain");
    } else {
        p.phys = virt_to_phys(p.page);
        if (vtd_attach_scalable(p.u, p.sid, 0) || (enabled_here && !vtd_enable_translation(p.u)))
            ksnprintf(why, sizeof(why), "scalable attach or translation enable failed");
        else
            v = probe_run(&p, &d, why, sizeof(why));
        /* Blocked, then detached: the detach's context-cache invalidation
         * drops any fast path the probe left, and the edu is handed on as
         * vtd_setup_unit_for hands devices out. */
        struct pasid_entry blocked;
        pasid_entry_build_blocked(&blocked);
        install(&p, &blocked);
        vtd_detach_scalable(p.u, p.sid, d.did);
        /* A suite after this one may want the edu as a foreign device. */
        if (p.borrowed && !vtd_setup_give_back(p.u, p.sid, p.had_entry))
            ktap_diag("%s: the edu's foreign entry could not be written back", PT_FASTPATH_CASE);
        if (enabled_here)
            vtd_disable_translation(p.u);
        vtd_domain_destroy(&d);
    }
    if (p.page)
        page_free(p.page, 1);
    vtd_fault_poll();
    if (v == V_CANNOT) {
        ktap_case(KTAP_SKIP, PT_FASTPATH_CASE, "cannot probe: %s", why);
        return;
    }
    report(v, why);
}
