/* Suite `vtd`: the engine on every remapping unit, without DMA.
 *
 * Per unit: CAP/ECAP decoded (one structured line), the root table
 * latched, the invalidation queue completing a wait, a deliberately bad
 * descriptor reported with its contents and recovered from, the fault
 * event interrupt armed (and seen, when the unit signals the queue error
 * through it), and translation switched on and off again on every unit
 * that translates a device under test (app/leave_alone.h). */
#include "arch/x86/trap.h"
#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "lib/ktap.h"
#include "app/run.h"
#include "app/suite.h"
#include "suites/vtd_device_tlb.h"
#include "app/vtd_setup.h"

/* irq_count() of each unit's fault vector before the queue-error case. */
static uint64_t irqs_before[VTD_MAX_UNITS];

/* Every unit the DMAR lists came up (the failure is reported once in the
 * run: here, or by the first suite that could not run because of it). */
static void case_bring_up(void)
{
    struct why failure;
    if (vtd_setup_claim_failure(&failure))
        ktap_case(KTAP_FAIL, "bring_up", "%s", failure.text);
    else
        ktap_case(KTAP_PASS, "bring_up", NULL);
}

/* The capabilities scenarios check (QEMU was configured as intended). */
static void caps_json(const struct vtd_unit *u)
{
    const struct vtd_caps *c = &u->caps;
    kprintf("json: {\"case\":\"caps\",\"unit\":%d,\"mode\":\"%s\",\"mgaw\":%u,\"cm\":%d,"
            "\"sc\":%d,\"pt\":%d,\"dt\":%d,\"smts\":%d,\"slts\":%d,\"flts\":%d,"
            "\"levels\":%u,\"fs_levels\":%u,\"iova_bits\":%u,\"qi_256\":%d}\n",
            u->index, u->mode == VTD_MODE_SCALABLE ? "scalable" : "legacy", c->mgaw, c->cm, c->sc,
            c->pt, c->dt, c->smts, c->slts, c->flts, u->plan.ss_levels, u->plan.fs_levels,
            u->plan.iova_bits, u->qi.wide);
}

static void case_caps(void)
{
    char line[512];
    for (unsigned i = 0; i < vtd_nunits; i++) {
        vtd_caps_format(vtd_units[i], line, sizeof(line));
        ktap_diag("vtd: %s", line);
        if (cfg.json)
            caps_json(vtd_units[i]);
    }
    ktap_case(KTAP_PASS, "caps", NULL);
}

static void case_root_table(void)
{
    for (unsigned i = 0; i < vtd_nunits; i++) {
        struct vtd_unit *u = vtd_units[i];
        uint64_t want = u->ops->virt_to_phys(u->ops->ctx, u->root) |
                        (u->mode == VTD_MODE_SCALABLE ? VTD_RTADDR_TTM_SCALABLE : 0);
        uint64_t got = vtd_read64(u, VTD_REG_RTADDR);
        uint32_t gsts = vtd_read32(u, VTD_REG_GSTS);
        if ((got & ~0x3ffULL) != want || !(gsts & VTD_GCMD_SRTP)) {
            ktap_case(KTAP_FAIL, "root_table", "unit=%d RTADDR=%#llx (want %#llx) GSTS=%#x",
                      u->index, (unsigned long long)got, (unsigned long long)want, gsts);
            return;
        }
        ktap_diag("vtd: unit=%d root table %#llx (%s), GSTS=%#x", u->index, (unsigned long long)got,
                  u->mode == VTD_MODE_SCALABLE ? "scalable" : "legacy", gsts);
    }
    ktap_case(KTAP_PASS, "root_table", NULL);
}

static void case_qi_wait(void)
{
    for (unsigned i = 0; i < vtd_nunits; i++) {
        struct vtd_unit *u = vtd_units[i];
        if (!u->qi.enabled) {
            ktap_case(KTAP_SKIP, "qi_wait", "unit=%d register-based invalidation (ECAP.QI=0)",
                      u->index);
            return;
        }
        if (vtd_inv_all(u) || vtd_inv_wait(u)) {
            ktap_case(KTAP_FAIL, "qi_wait", "unit=%d invalidation wait did not complete", u->index);
            return;
        }
        ktap_diag("vtd: unit=%d queue %s descriptors, %u submitted, %u waits, status=%u", u->index,
                  u->qi.wide ? "256-bit" : "128-bit", u->qi.submitted, u->qi.waits, *u->qi.status);
    }
    ktap_case(KTAP_PASS, "qi_wait", NULL);
}

static void case_qi_error(void)
{
    for (unsigned i = 0; i < vtd_nunits; i++) {
        struct vtd_unit *u = vtd_units[i];
        if (!u->qi.enabled) {
            ktap_case(KTAP_SKIP, "qi_error_recovery",
                      "unit=%d register-based invalidation (ECAP.QI=0)", u->index);
            return;
        }
        irqs_before[i] = irq_count((uint8_t)(VEC_IOMMU_FAULT + u->index));
        /* Type 0 is reserved in every revision (6.5.2): the unit must stop
         * at it with FSTS.IQE.  The marker in the upper bits identifies it
         * in the report. */
        uint64_t bad[4] = {0x00000bad00000000ULL, 0x1234ULL, 0, 0};
        uint32_t iqe = u->qi.iqe;
        vtd_qi_submit(u, bad);
        int wait_rc = vtd_inv_wait(u);
        if (u->qi.iqe == iqe) {
            /* Hardware may report it only while processing the wait. */
            ktap_case(KTAP_FAIL, "qi_error_recovery",
                      "unit=%d a reserved descriptor type did not raise FSTS.IQE", u->index);
            return;
        }
        if (u->qi.last_error_desc[0] != bad[0] || u->qi.last_error_desc[1] != bad[1]) {
            ktap_case(KTAP_FAIL, "qi_error_recovery",
                      "unit=%d IQH did not point at the bad descriptor (found %#llx)", u->index,
                      (unsigned long long)u->qi.last_error_desc[0]);
            return;
        }
        (void)wait_rc;
        if (vtd_inv_all(u)) {
            ktap_case(KTAP_FAIL, "qi_error_recovery", "unit=%d queue unusable after IQE recovery",
                      u->index);
            return;
        }
        if (vtd_read32(u, VTD_REG_FSTS) & VTD_FSTS_IQE) {
            ktap_case(KTAP_FAIL, "qi_error_recovery", "unit=%d FSTS.IQE still set", u->index);
            return;
        }
    }
    ktap_case(KTAP_PASS, "qi_error_recovery", NULL);
}

static void case_fault_interrupt(void)
{
    for (unsigned i = 0; i < vtd_nunits; i++) {
        struct vtd_unit *u = vtd_units[i];
        if (!u->fault.msi_armed) {
            ktap_case(KTAP_SKIP, "fault_interrupt", "unit=%d has no fault vector (polled)",
                      u->index);
            return;
        }
        uint32_t fectl = vtd_read32(u, VTD_REG_FECTL);
        uint32_t data = vtd_read32(u, VTD_REG_FEDATA);
        if ((fectl & VTD_ECTL_IM) || (data & 0xff) != u->fault.vector) {
            ktap_case(KTAP_FAIL, "fault_interrupt", "unit=%d FECTL=%#x FEDATA=%#x", u->index, fectl,
                      data);
            return;
        }
        uint64_t seen = irq_count(u->fault.vector) - irqs_before[i];
        ktap_diag("vtd: unit=%d fault event MSI vector %#x addr %#x; %llu event(s) during the "
                  "queue-error case%s",
                  u->index, u->fault.vector, vtd_read32(u, VTD_REG_FEADDR),
                  (unsigned long long)seen, seen ? "" : " (IQE not signalled by interrupt)");
    }
    ktap_case(KTAP_PASS, "fault_interrupt", NULL);
}

/* Only units with a device under test: the others are left alone (their
 * TE is held, the reason was said at bring-up). */
static void case_translation_toggle(void)
{
    uint32_t seq = vtd_fault_seq();
    unsigned toggled = 0;
    for (unsigned i = 0; i < vtd_nunits; i++) {
        struct vtd_unit *u = vtd_units[i];
        if (u->te_hold[0]) {
            ktap_diag("vtd: unit=%d not toggled: %s", u->index, u->te_hold);
            continue;
        }
        toggled++;
        bool was_on = u->translating;
        if (!vtd_enable_translation(u) || !(vtd_read32(u, VTD_REG_GSTS) & VTD_GCMD_TE)) {
            ktap_case(KTAP_FAIL, "translation_toggle", "unit=%d TE did not set", u->index);
            return;
        }
        if (!was_on &&
            (!vtd_disable_translation(u) || (vtd_read32(u, VTD_REG_GSTS) & VTD_GCMD_TE))) {
            ktap_case(KTAP_FAIL, "translation_toggle", "unit=%d TE did not clear", u->index);
            return;
        }
    }
    if (!toggled) {
        ktap_case(KTAP_SKIP, "translation_toggle",
                  "no unit translates a device under test (NVMe, edu or ATS function): "
                  "every unit is left alone");
        return;
    }
    vtd_fault_poll();
    unsigned n = vtd_faults_since(seq, -1, NULL, 0);
    if (n)
        ktap_diag("vtd: %u foreign fault(s) while translation was on (devices the tests do not "
                  "own: only RMRR ranges are mapped where a unit lacks pass-through)",
                  n);
    ktap_case(KTAP_PASS, "translation_toggle", NULL);
}

static void suite_vtd(void)
{
    struct why why;
    if (!vtd_setup(&why)) {
        vtd_suite_unavailable("vtd", why.text);
        return;
    }
    ktap_suite_begin("vtd", 8);
    case_bring_up();
    case_caps();
    case_root_table();
    case_qi_wait();
    case_qi_error();
    case_fault_interrupt();
    case_translation_toggle();
    vtd_case_device_tlb();
    vtd_fault_poll();
    ktap_suite_end();
}

SUITE("vtd", 30, suite_vtd);
