/* Suite `foreign`: a device the tests do not own keeps working while
 * translation is on.
 *
 * vtd_setup gives every function a unit translates a foreign entry
 * (pass-through, or an identity map of its RMRRs) before translation is
 * first enabled, so that a lab machine's USB keyboard and GPU survive the
 * run (../shared/design/real-hardware.md).  Under QEMU the edu device
 * stands in for such a device when no earlier suite took it: with
 * translation on, it copies to and from physical addresses (no mapping of
 * ours) and must do so with no fault and the data intact.  Left blocked,
 * as every device was before foreign entries, the same DMA faults.
 *
 * Without ECAP.PT the foreign entry maps only the device's RMRRs: then the
 * copies target the RMRR (when the firmware's map called it free memory,
 * so nothing else lives there) and a copy to any other page must fault and
 * land nowhere.  QEMU builds no RMRRs; scenario foreign-rmrr injects one.
 * Last, every function no suite took must still hold its foreign entry in
 * the live tables, on every unit. */
#include "drivers/edu.h"
#include "drivers/pci.h"
#include "iommu/fault.h"
#include "iommu/vtd.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/page.h"
#include "app/platform.h"
#include "app/suite.h"
#include "app/vtd_setup.h"

#define XFER 256u

/* The first RMRR in d's scope that discovery took from free memory, or -1
 * (*any: d has an RMRR at all). */
static int usable_rmrr_of(const struct pci_dev *d, bool *any)
{
    *any = false;
    for (unsigned r = 0; r < platform.dmar.nrmrrs; r++) {
        const struct dmar_rmrr *rm = &platform.dmar.rmrrs[r];
        if (!platform_rmrr_covers(rm, d))
            continue;
        *any = true;
        if (platform.rmrr_was_free && platform.rmrr_was_free[r] &&
            rm->limit - rm->base + 1 >= PAGE_SIZE && rm->limit < EDU_DMA_LIMIT)
            return (int)r;
    }
    return -1;
}

/* The edu copies XFER bytes from phys to its memory and back to phys+2048. */
static void copy_round_trip(struct edu *edu, uint16_t sid, uint8_t *buf, uint64_t phys)
{
    for (unsigned i = 0; i < XFER; i++) {
        buf[i] = (uint8_t)(0xa5 ^ i * 7);
        buf[2048 + i] = 0;
    }
    uint32_t mark = vtd_fault_seq();
    enum edu_status st = edu_dma_to_device(edu, phys, 0, XFER);
    vtd_fault_poll();
    unsigned faults = vtd_faults_since(mark, sid, NULL, 0);
    ktap_case(st == EDU_OK && !faults ? KTAP_PASS : KTAP_FAIL, "foreign_dma_to_device",
              "read of phys %#llx: %s, %u faults", (unsigned long long)phys, edu_status_name(st),
              faults);

    mark = vtd_fault_seq();
    st = edu_dma_from_device(edu, phys + 2048, 0, XFER);
    vtd_fault_poll();
    faults = vtd_faults_since(mark, sid, NULL, 0);
    unsigned bad = 0;
    for (unsigned i = 0; i < XFER; i++)
        bad += buf[2048 + i] != buf[i];
    ktap_case(st == EDU_OK && !faults && !bad ? KTAP_PASS : KTAP_FAIL, "foreign_dma_from_device",
              "write to phys %#llx: %s, %u faults, %u of %u bytes wrong",
              (unsigned long long)phys + 2048, edu_status_name(st), faults, bad, XFER);
}

/* With an RMRR-only entry, a write to a page outside the RMRR must fault
 * and leave the page as it was. */
static void write_outside_rmrr(struct edu *edu, uint16_t sid, uint8_t *page)
{
    uint64_t phys = virt_to_phys(page);
    memset(page, 0x3c, PAGE_SIZE);
    uint32_t mark = vtd_fault_seq();
    enum edu_status st = edu_dma_from_device(edu, phys, 0, XFER);
    vtd_fault_poll();
    unsigned faults = vtd_faults_since(mark, sid, NULL, 0);
    unsigned changed = 0;
    for (unsigned i = 0; i < PAGE_SIZE; i++)
        changed += page[i] != 0x3c;
    ktap_case(faults && !changed ? KTAP_PASS : KTAP_FAIL, "foreign_dma_outside_rmrr",
              "write to phys %#llx outside its RMRR: %s, %u faults, %u bytes changed",
              (unsigned long long)phys, edu_status_name(st), faults, changed);
}

/* Every function no suite took still holds its foreign entry in the live
 * tables, on every unit: whatever ran before (suites, translation
 * toggles, detaches of the devices they took) left them alone. */
static void case_entries_kept(void)
{
    unsigned checked;
    char first[24];
    unsigned lost = vtd_setup_foreign_lost(&checked, first, sizeof(first));
    if (!checked) {
        ktap_case(KTAP_SKIP, "foreign_entries_kept", "no function holds a foreign entry");
        return;
    }
    if (lost) {
        ktap_case(KTAP_FAIL, "foreign_entries_kept",
                  "%u of %u foreign functions lost their entry (first: %s)", lost, checked, first);
        return;
    }
    ktap_diag("foreign: all %u foreign entries intact", checked);
    ktap_case(KTAP_PASS, "foreign_entries_kept", NULL);
}

static void suite_foreign(void)
{
    struct why why;
    struct pci_dev *d = pci_find_id(EDU_VENDOR, EDU_DEVICE, NULL);
    if (!d) {
        ktap_suite_skip("foreign", "no edu device (QEMU -device edu) to stand in for one");
        return;
    }
    /* Peek, not take: taking the edu would end its foreign entry. */
    struct vtd_unit *u = vtd_setup_unit_peek(d->seg, d->bus, d->dev, d->fn, &why);
    if (!u) {
        vtd_suite_unavailable("foreign", why.text);
        return;
    }
    uint16_t sid = vtd_sid(d->bus, d->dev, d->fn);
    if (!vtd_setup_has_foreign_entry(u, sid)) {
        ktap_suite_skip("foreign", "an earlier suite took the edu for its own tests, or it "
                                   "has no foreign entry (see the # vtd: lines)");
        return;
    }
    struct edu edu;
    enum edu_status st = edu_init(&edu, d);
    if (st != EDU_OK) {
        ktap_suite_skip("foreign", edu_status_name(st));
        return;
    }
    /* Pass-through reaches every page; an RMRR-only entry (no ECAP.PT)
     * reaches the RMRR alone. */
    bool any_rmrr = false;
    int rmrr = u->caps.pt ? -1 : usable_rmrr_of(d, &any_rmrr);
    if (!u->caps.pt && rmrr < 0) {
        ktap_suite_skip("foreign", any_rmrr ? "the edu's RMRR is not free memory below 256 MiB "
                                              "(a test writes only where nothing else lives)"
                                            : "no ECAP.PT and the edu has no RMRR: it stays "
                                              "blocked, nothing to check");
        return;
    }
    uint8_t *page = page_alloc_constrained(1, PAGE_SIZE, EDU_DMA_LIMIT);
    if (!page) {
        ktap_suite_skip("foreign", "no memory below 256 MiB for the DMA buffer");
        return;
    }
    uint8_t *buf = rmrr >= 0 ? phys_to_virt(platform.dmar.rmrrs[rmrr].base) : page;
    ktap_suite_begin("foreign", 5);
    char b[8];
    /* Translation stays as the earlier suites left it; when none turned
     * it on, turn it on here so the case still means something. */
    bool enabled_here = false;
    if (!u->translating) {
        if (!vtd_enable_translation(u)) {
            ktap_case(KTAP_FAIL, "translation_on", "unit %d did not enable translation", u->index);
            ktap_case(KTAP_SKIP, "foreign_dma_to_device", "translation is not on");
            ktap_case(KTAP_SKIP, "foreign_dma_from_device", "translation is not on");
            ktap_case(KTAP_SKIP, "foreign_dma_outside_rmrr", "translation is not on");
            case_entries_kept();
            ktap_suite_end();
            page_free(page, 1);
            return;
        }
        enabled_here = true;
    }
    ktap_case(KTAP_PASS, "translation_on", NULL);
    ktap_diag("foreign: edu %s on unit %d (%s mode, translation %s), %s, buffer at phys %#llx",
              vtd_sid_str(sid, b), u->index, u->mode == VTD_MODE_SCALABLE ? "scalable" : "legacy",
              enabled_here ? "enabled here" : "left on by earlier suites",
              rmrr >= 0 ? "RMRR identity map (no ECAP.PT)" : "pass-through",
              (unsigned long long)virt_to_phys(buf));
    copy_round_trip(&edu, sid, buf, virt_to_phys(buf));
    if (rmrr >= 0)
        write_outside_rmrr(&edu, sid, page);
    else
        ktap_case(KTAP_SKIP, "foreign_dma_outside_rmrr",
                  "pass-through (ECAP.PT) reaches every page");
    if (enabled_here)
        vtd_disable_translation(u);
    page_free(page, 1);
    case_entries_kept();
    ktap_suite_end();
}

SUITE("foreign", 62, suite_foreign);
