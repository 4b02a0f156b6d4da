/* The vtd suite's device_tlb case: PASID entry syncs include a device-TLB
 * invalidation exactly when the device has ATS on, and the unit accepts it.
 *
 * It needs a function with an ATS capability that nothing else uses, since
 * the case takes it (blocked) for the duration.  Lab machines' ATS devices
 * are GPUs and NICs in use, so the case only runs under QEMU, on a virtio
 * function with ats=on behind a root port (scenario vtd-ats, with
 * intel-iommu device-iotlb=on; QEMU 10 refuses that together with
 * x-pasid-mode).  Elsewhere the descriptor is covered by the host test
 * test_pasid_write. */
#include "arch/x86/cpu.h"
#include "drivers/pci.h"
#include "iommu/pasid_write.h"
#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "lib/ktap.h"
#include "tests/vtd_device_tlb.h"
#include "tests/vtd_setup.h"

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

/* Descriptors queued by PT -> blocked, after blocked -> PT; 0 on failure. */
static unsigned pt_then_blocked(struct vtd_unit *u, uint16_t sid, uint32_t pasid,
                                const struct pasid_entry *pt, char *why, unsigned len)
{
    struct pasid_entry blocked;
    pasid_entry_build_blocked(&blocked);
    struct vtd_write_result r = vtd_pasid_write(u, sid, pasid, pt, ENTRY_SYNC_STRATEGY_HITLESS);
    if (r.ok)
        r = vtd_pasid_write(u, sid, pasid, &blocked, ENTRY_SYNC_STRATEGY_HITLESS);
    if (!r.ok) {
        ksnprintf(why, len, "PASID entry update failed: %s", r.error ? r.error : "?");
        return 0;
    }
    return r.descriptors;
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
    const char *why = NULL;
    struct vtd_unit *u = vtd_setup_unit_for(d->seg, d->bus, d->dev, d->fn, &why);
    if (!u) {
        ktap_case(KTAP_SKIP, name, "%s", why);
        return;
    }
    if (u->mode != VTD_MODE_SCALABLE || !u->qi.enabled || !u->caps.dt || !u->caps.pt) {
        ktap_case(KTAP_SKIP, name, "unit=%d: needs scalable mode, the invalidation queue, "
                                   "ECAP.DT (QEMU: device-iotlb=on) and ECAP.PT",
                  u->index);
        return;
    }
    uint16_t sid = vtd_sid(d->bus, d->dev, d->fn);
    char b[8], fail[160] = "";
    uint32_t iqe = u->qi.iqe, ite = u->qi.ite;
    if (vtd_attach_scalable_dte(u, sid, 0, true)) {
        ktap_case(KTAP_FAIL, name, "attach with DTE failed");
        return;
    }
    volatile struct sm_context_entry *ce = vtd_sm_context(u, sid, false);
    uint32_t pasid = vtd_rid_pasid(u, sid);
    struct pasid_entry_cfg c = {.did = vtd_alloc_did(u), .aw = vtd_aw_for_levels(4)};
    struct pasid_entry pt;
    pasid_entry_build_pt(&pt, &c);
    unsigned with_ats = 0, without = 0;
    if (!ce || !(ce->q[0] & SM_CTX_DTE))
        ksnprintf(fail, sizeof(fail), "the context entry lacks DTE");
    else if (!pci_ats_enable(d, true))
        ksnprintf(fail, sizeof(fail), "%s: the ATS enable bit did not stick", vtd_sid_str(sid, b));
    struct vtd_devtlb_target t = {.sid = sid, .pf_sid = sid, .qdep = d->caps.ats_inv_depth};
    if (!fail[0]) {
        vtd_set_ats(u, &t, true);
        with_ats = pt_then_blocked(u, sid, pasid, &pt, fail, sizeof(fail));
        vtd_set_ats(u, &t, false);
        if (!fail[0])
            without = pt_then_blocked(u, sid, pasid, &pt, fail, sizeof(fail));
    }
    pci_ats_enable(d, false);
    vtd_detach_scalable(u, sid, c.did);
    uint32_t fsts = vtd_read32(u, VTD_REG_FSTS);
    if (!fail[0] && with_ats != without + 1)
        ksnprintf(fail, sizeof(fail),
                  "PT->blocked queued %u descriptors with ATS on and %u with it off (expected "
                  "one device-TLB invalidation more)",
                  with_ats, without);
    else if (!fail[0] && (u->qi.iqe != iqe || u->qi.ite != ite ||
                          (fsts & (VTD_FSTS_IQE | VTD_FSTS_ITE))))
        ksnprintf(fail, sizeof(fail), "the unit reported a queue error (IQE %u, ITE %u, FSTS %#x)",
                  u->qi.iqe - iqe, u->qi.ite - ite, fsts);
    if (fail[0]) {
        ktap_case(KTAP_FAIL, name, "%s", fail);
        return;
    }
    ktap_diag("vtd: unit=%d %s (virtio %04x) with ATS on and DTE set: PT->blocked queued %u "
              "descriptors, one a device-TLB invalidation (%u with ATS off); no queue error",
              u->index, vtd_sid_str(sid, b), d->device, with_ats, without);
    ktap_case(KTAP_PASS, name, NULL);
}
