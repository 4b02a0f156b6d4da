/* The edu as the pass-through fast-path probe's DMA engine (see
 * pt_fastpath.h). */
#include "drivers/edu.h"
#include "drivers/pci.h"
#include "iommu/domain.h"
#include "iommu/vtd.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/page.h"
#include "suites/pt_fastpath.h"
#include "app/vtd_setup.h"
#include "app/xstate.h"

struct edu_probe {
    struct vtd_unit *u;
    uint16_t sid;
    struct edu edu;
    struct vtd_domain dom; /* nothing mapped */
};

/* Put the edu's entry in catalogue state st (app/xstate.h). */
static bool edu_install(struct edu_probe *p, enum xstate st)
{
    struct xs_entry e;
    xs_build(st, p->u, &p->dom, st == XS_PT ? vtd_alloc_did(p->u) : 0, &e);
    return xs_write(p->u, p->sid, &e, ENTRY_SYNC_STRATEGY_HITLESS).ok;
}

static bool edu_to_pt(void *ctx)
{
    return edu_install(ctx, XS_PT);
}

static bool edu_to_translating(void *ctx)
{
    struct edu_probe *p = ctx;
    return edu_install(p, p->dom.pt.params.format == PGTABLE_FIRST_STAGE ? XS_FS_A : XS_SS_A);
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
    if (pt_fastpath_pending() && d) {
        struct vtd_unit *u = vtd_setup_unit_peek(d->seg, d->bus, d->dev, d->fn, NULL);
        if (!pt_fastpath_unit_can_probe(u))
            return;
        memset(&p, 0, sizeof(p));
        p.sid = vtd_sid(d->bus, d->dev, d->fn);
        /* Borrowed from the foreign devices: given back after. */
        bool borrowed = vtd_setup_is_foreign(u, p.sid);
        bool had_entry = vtd_setup_has_foreign_entry(u, p.sid);
        p.u = vtd_setup_unit_for(d->seg, d->bus, d->dev, d->fn, NULL);
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
            pt_fastpath_cannot("scalable attach or translation enable failed");
        else
            pt_fastpath_probe_with(&dev);
        /* Blocked, then detached (its context-cache invalidation drops any
         * fast path left), as vtd_setup_unit_for hands devices out. */
        edu_install(&p, XS_BLOCKED);
        vtd_detach_scalable(p.u, p.sid, p.dom.did);
        if (borrowed && !vtd_setup_give_back(p.u, p.sid, had_entry))
            ktap_diag("%s: the edu's foreign entry could not be written back", PT_FASTPATH_CASE);
        if (enabled_here)
            vtd_disable_translation(p.u);
        vtd_domain_destroy(&p.dom);
    }
}
