/* The faults suite's invalidation-error cases, on the unit under storm:
 *
 *   qi_iqe_recovery  a reserved descriptor type: FSTS.IQE, reported with
 *                    the descriptor, replaced, the queue usable again;
 *   qi_ite_recovery  a device-TLB invalidation to a device without ATS:
 *                    hardware times out (FSTS.ITE), the pending wait is
 *                    aborted and reported, the queue usable again;
 *   qi_queue_full    more descriptors than the queue holds without a
 *                    wait: only observable when the unit does not consume
 *                    them at once (the host test covers the full queue).
 * Each ends with a clean invalidation of everything, so the run goes on. */
#include "arch/x86/cpu.h"
#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "lib/ktap.h"
#include "suites/faults.h"

static void case_iqe(struct fx *f)
{
    struct vtd_unit *u = f->u;
    /* Type 0 is reserved in every revision; the marker names it. */
    uint64_t bad[4] = {0x00000bad00000000ULL, 0xfa17ULL, 0, 0};
    uint32_t iqe = u->qi.iqe;
    vtd_qi_submit(u, bad);
    vtd_inv_wait(u);
    if (u->qi.iqe == iqe)
        ktap_case(KTAP_FAIL, "qi_iqe_recovery", "a reserved descriptor raised no FSTS.IQE");
    else if (u->qi.last_error_desc[0] != bad[0] || u->qi.last_error_desc[1] != bad[1])
        ktap_case(KTAP_FAIL, "qi_iqe_recovery", "IQE reported for another descriptor (%#llx)",
                  (unsigned long long)u->qi.last_error_desc[0]);
    else if (vtd_inv_all(u) || (vtd_read32(u, VTD_REG_FSTS) & VTD_FSTS_IQE))
        ktap_case(KTAP_FAIL, "qi_iqe_recovery", "queue unusable after the IQE");
    else
        ktap_case(KTAP_PASS, "qi_iqe_recovery", NULL);
}

static void case_ite(struct fx *f)
{
    struct vtd_unit *u = f->u;
    uint16_t sid = f->edu_ok ? f->edu_sid : f->nvme_sid;
    char b[8];
    if (!u->caps.dt) {
        ktap_case(KTAP_SKIP, "qi_ite_recovery",
                  "unit=%d has no device-TLB support (ECAP.DT=0; QEMU: device-iotlb=off), so "
                  "no device-TLB invalidation can time out; ITE handling is covered by the "
                  "host test",
                  u->index);
        return;
    }
    uint32_t ite = u->qi.ite;
    struct vtd_devtlb_target t = {.sid = sid, .pf_sid = sid};
    vtd_inv_devtlb(u, &t, 0, 0);
    int rc = vtd_inv_wait(u);
    if (u->qi.ite == ite) {
        ktap_case(KTAP_SKIP, "qi_ite_recovery",
                  "unit=%d completed a device-TLB invalidation to %s (no ATS) without FSTS.ITE "
                  "(wait %s)%s; ITE handling is covered by the host test",
                  u->index, vtd_sid_str(sid, b), rc ? "failed" : "completed",
                  cpu_is_qemu() ? ": QEMU does not time device-TLB invalidations out, so it "
                                  "cannot raise ITE"
                                : "");
        vtd_inv_all(u);
        return;
    }
    if (!rc)
        ktap_case(KTAP_FAIL, "qi_ite_recovery",
                  "the wait behind the timed-out invalidation reported success");
    else if (vtd_inv_all(u) || (vtd_read32(u, VTD_REG_FSTS) & VTD_FSTS_ITE))
        ktap_case(KTAP_FAIL, "qi_ite_recovery", "queue unusable after the ITE");
    else
        ktap_case(KTAP_PASS, "qi_ite_recovery", NULL);
}

static void case_queue_full(struct fx *f)
{
    struct vtd_unit *u = f->u;
    unsigned n = 2 * u->qi.entries, lagged = 0;
    uint32_t full = u->qi.full_waits;
    for (unsigned i = 0; i < n; i++) {
        if (vtd_inv_iotlb(u, VTD_IOTLB_DOMAIN, f->dom.did, 0, 0, false)) {
            ktap_case(KTAP_FAIL, "qi_queue_full", "descriptor %u of %u refused", i, n);
            vtd_inv_all(u);
            return;
        }
        uint64_t head = vtd_read64(u, VTD_REG_IQH), tail = vtd_read64(u, VTD_REG_IQT);
        lagged += head != tail;
    }
    if (vtd_inv_wait(u)) {
        ktap_case(KTAP_FAIL, "qi_queue_full", "wait after %u descriptors failed", n);
        return;
    }
    if (u->qi.full_waits != full) {
        ktap_diag("faults: the queue filled %u time(s) and drained again", u->qi.full_waits - full);
        ktap_case(KTAP_PASS, "qi_queue_full", NULL);
        return;
    }
    ktap_case(KTAP_SKIP, "qi_queue_full",
              "unit=%d consumed every descriptor as it was queued (%u submitted into %u slots, "
              "IQH behind IQT after %u of them; QEMU processes the queue synchronously inside "
              "the IQT write): a full queue cannot be provoked here; covered by the host test",
              u->index, n, u->qi.entries, lagged);
}

void faults_qi_cases(struct fx *f)
{
    if (!f->u->qi.enabled) {
        const char *why = "register-based invalidation (ECAP.QI=0)";
        ktap_case(KTAP_SKIP, "qi_iqe_recovery", "%s", why);
        ktap_case(KTAP_SKIP, "qi_ite_recovery", "%s", why);
        ktap_case(KTAP_SKIP, "qi_queue_full", "%s", why);
        return;
    }
    case_iqe(f);
    case_ite(f);
    case_queue_full(f);
}
