/* The vtd suite's device_tlb case: entry syncs include a device-TLB
 * invalidation exactly when the device has ATS on, and the unit accepts it.
 * In scalable mode the device's RID_PASID entry (context entry with DTE)
 * goes PT -> blocked; in legacy mode its context entry goes from
 * translation type 01 (device-TLB) to blocked.
 *
 * It needs a function with an ATS capability that nothing else uses, since
 * the case takes it (blocked) for the duration.  Lab machines' ATS devices
 * are GPUs and NICs in use, so the case only runs under QEMU, on a virtio
 * function with ats=on behind a root port (scenarios vtd-ats and
 * vtd-ats-legacy, with intel-iommu device-iotlb=on; QEMU 10 refuses that
 * together with x-pasid-mode, so PASIDs other than RID_PASID and their
 * PASID-based descriptor are covered by the host test test_pasid_write
 * only, like PFSID, which needs ECAP.DIT). */
#include "arch/x86/cpu.h"
#include "drivers/pci.h"
#include "iommu/domain.h"
#include "iommu/pasid_write.h"
#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "lib/ktap.h"
#include "suites/vtd_device_tlb.h"
#include "app/vtd_setup.h"

#define VIRTIO_VENDOR 0x1af4

static struct pci_dev *spare_ats_function(void)
{
    if (!cpu_is_qemu())
        return NULL;
    for (unsigned i = 0; i < pci_count(); i++) {
        struct pci_dev *d = pci_get(i);
        if (d->vendor == VIRTIO_VENDOR && d->caps.ats)
            return d;
    }
    return NULL;
}

/* One run of the case: the device's entry is made present, then blocked,
 * once with ATS on and once with it off; the second update is measured. */
struct dtlb_run {
    struct vtd_unit *u;
    struct pci_dev *d;
    uint16_t sid;
    struct vtd_devtlb_target t;
    unsigned with_ats, without; /* descriptors of present -> blocked */
    const char *how;            /* "DTE set: PT" or "TT=01 (device-TLB): SS" */
    char fail[160];
};

/* Scalable: PASID entry PT -> blocked; 0 on failure (reason in r->fail). */
static unsigned pt_then_blocked(struct dtlb_run *r, uint32_t pasid, const struct pasid_entry *pt)
{
    struct pasid_entry blocked;
    pasid_entry_build_blocked(&blocked);
    struct vtd_write_result w = vtd_pasid_write(r->u, r->sid, pasid, pt, ENTRY_SYNC_STRATEGY_HITLESS);
    if (w.ok)
        w = vtd_pasid_write(r->u, r->sid, pasid, &blocked, ENTRY_SYNC_STRATEGY_HITLESS);
    if (!w.ok) {
        ksnprintf(r->fail, sizeof(r->fail), "PASID entry update failed: %s", w.why.text);
        return 0;
    }
    return w.descriptors;
}

/* Legacy: context entry with TT=01 -> blocked; 0 on failure. */
static unsigned tt01_then_blocked(struct dtlb_run *r, const struct legacy_context_entry *tt01)
{
    struct legacy_context_entry blocked;
    legacy_context_build_blocked(&blocked);
    struct vtd_write_result w = vtd_context_write(r->u, r->sid, tt01, ENTRY_SYNC_STRATEGY_HITLESS);
    if (w.ok)
        w = vtd_context_write(r->u, r->sid, &blocked, ENTRY_SYNC_STRATEGY_HITLESS);
    if (!w.ok) {
        ksnprintf(r->fail, sizeof(r->fail), "context entry update failed: %s", w.why.text);
        return 0;
    }
    return w.descriptors;
}

/* ATS on in the function and in the engine's list, or both off. */
static bool set_ats(struct dtlb_run *r, bool on)
{
    if (!on) {
        pci_ats_enable(r->d, false);
        return vtd_set_ats(r->u, &r->t, false);
    }
    return vtd_set_ats(r->u, &r->t, true) && pci_ats_enable(r->d, true);
}

static void run_scalable(struct dtlb_run *r)
{
    struct vtd_unit *u = r->u;
    r->how = "DTE set: PT";
    if (vtd_attach_scalable_dte(u, r->sid, 0, true)) {
        ksnprintf(r->fail, sizeof(r->fail), "attach with DTE failed");
        return;
    }
    volatile struct sm_context_entry *ce = vtd_sm_context(u, r->sid, false);
    uint32_t pasid = vtd_rid_pasid(u, r->sid);
    struct pasid_entry_cfg c = {.did = vtd_alloc_did(u), .aw = vtd_unit_aw(u)};
    vtd_pasid_snoop(u, &c);
    struct pasid_entry pt;
    pasid_entry_build_pt(&pt, &c);
    char b[8];
    if (!ce || !(ce->q[0] & SM_CTX_DTE))
        ksnprintf(r->fail, sizeof(r->fail), "the context entry lacks DTE");
    else if (!set_ats(r, true))
        ksnprintf(r->fail, sizeof(r->fail), "%s: ATS did not turn on (the enable bit did not stick, or the line above)",
                  vtd_sid_str(r->sid, b));
    if (!r->fail[0]) {
        r->with_ats = pt_then_blocked(r, pasid, &pt);
        set_ats(r, false);
        if (!r->fail[0])
            r->without = pt_then_blocked(r, pasid, &pt);
    }
    set_ats(r, false);
    vtd_detach_scalable(u, r->sid, c.did);
}

/* Legacy mode: translation type 01 lets the device fetch translations
 * into its device-TLB (spec 9.3, TT field); a sync of that context entry
 * owes the device-TLB invalidation.  The entry points at an empty second
 * stage: nothing is mapped, the case does no DMA. */
static void run_legacy(struct dtlb_run *r)
{
    struct vtd_unit *u = r->u;
    struct vtd_domain dom;
    r->how = "TT=01 (device-TLB): SS";
    if (vtd_domain_init(&dom, u, PGTABLE_SECOND_STAGE)) {
        ksnprintf(r->fail, sizeof(r->fail), "no second-stage table for the context entry");
        return;
    }
    struct legacy_context_cfg c = {.slptptr = pgtable_root(&dom.pt),
                                   .did = dom.did,
                                   .aw = vtd_aw_for_levels(dom.pt.params.levels),
                                   .tt = LEGACY_TT_ALL};
    struct legacy_context_entry tt01;
    legacy_context_build(&tt01, &c);
    char b[8];
    if (!set_ats(r, true))
        ksnprintf(r->fail, sizeof(r->fail), "%s: ATS did not turn on (the enable bit did not stick, or the line above)",
                  vtd_sid_str(r->sid, b));
    if (!r->fail[0]) {
        r->with_ats = tt01_then_blocked(r, &tt01);
        set_ats(r, false);
        if (!r->fail[0])
            r->without = tt01_then_blocked(r, &tt01);
    }
    set_ats(r, false);
    vtd_domain_destroy(&dom);
}

void vtd_case_device_tlb(void)
{
    const char *name = "device_tlb";
    struct pci_dev *d = spare_ats_function();
    if (!d) {
        ktap_case(KTAP_SKIP, name,
                  cpu_is_qemu() ? "no virtio function with ATS (QEMU: -device virtio-...-pci,"
                                  "ats=on behind a pcie-root-port)"
                                : "the ATS functions of a real machine are in use; taking one "
                                  "would block its DMA (the host test covers the descriptor)");
        return;
    }
    struct why why;
    struct vtd_unit *u = vtd_setup_unit_for(d->seg, d->bus, d->dev, d->fn, &why);
    if (!u) {
        ktap_case(KTAP_SKIP, name, "%s", why.text);
        return;
    }
    bool scalable = u->mode == VTD_MODE_SCALABLE;
    if (!u->qi.enabled || !u->caps.dt || (scalable && !u->caps.pt)) {
        ktap_case(KTAP_SKIP, name, "unit=%d: needs the invalidation queue, ECAP.DT (QEMU: "
                                   "device-iotlb=on) and, in scalable mode, ECAP.PT",
                  u->index);
        return;
    }
    /* A function found by enumeration is a PF or an ordinary function
     * (VFs appear only once SR-IOV is enabled): it is its own PF. */
    uint16_t sid = vtd_sid(d->bus, d->dev, d->fn);
    struct dtlb_run r = {
        .u = u, .d = d, .sid = sid, .t = {.sid = sid, .pf_sid = sid, .qdep = d->caps.ats_inv_depth}};
    uint32_t iqe = u->qi.iqe, ite = u->qi.ite;
    /* Device-TLB invalidations are only issued with translation on (spec
     * 4.3): turn it on for the case if no earlier case left it on.  The
     * device itself is blocked and every other one has its foreign entry. */
    bool enabled_here = !u->translating;
    if (enabled_here && !vtd_enable_translation(u))
        ksnprintf(r.fail, sizeof(r.fail), "unit=%d: translation did not turn on", u->index);
    else if (scalable)
        run_scalable(&r);
    else
        run_legacy(&r);
    if (enabled_here && u->translating)
        vtd_disable_translation(u);
    uint32_t fsts = vtd_read32(u, VTD_REG_FSTS);
    if (!r.fail[0] && r.with_ats != r.without + 1)
        ksnprintf(r.fail, sizeof(r.fail),
                  "%s->blocked queued %u descriptors with ATS on and %u with it off (expected "
                  "one device-TLB invalidation more)",
                  scalable ? "PT" : "TT=01", r.with_ats, r.without);
    else if (!r.fail[0] && (u->qi.iqe != iqe || u->qi.ite != ite ||
                            (fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE))))
        ksnprintf(r.fail, sizeof(r.fail),
                  "the unit reported a queue error (IQE %u, ITE %u, FSTS %#x)", u->qi.iqe - iqe,
                  u->qi.ite - ite, fsts);
    if (r.fail[0]) {
        ktap_case(KTAP_FAIL, name, "%s", r.fail);
        return;
    }
    char b[8];
    ktap_diag("vtd: unit=%d %s (virtio %04x) with ATS on and %s->blocked queued %u "
              "descriptors, one a device-TLB invalidation (%u with ATS off); no queue error",
              u->index, vtd_sid_str(sid, b), d->device, r.how, r.with_ats, r.without);
    ktap_case(KTAP_PASS, name, NULL);
}
