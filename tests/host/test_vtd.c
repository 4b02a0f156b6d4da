// HOST-DEPS: lib/printf.c lib/ktap.c iommu/vtd.c iommu/vtd_unit.c iommu/vtd_takeover.c iommu/qi.c iommu/fault.c iommu/context_entry.c tests/host/vtd_fake.c iommu/vtd_alias.c lib/why.c
// iommu/pasid_entry.c iommu/entry_sync.c iommu/pasid_write.c
/* The VT-d engine against a fake register file: the GCMD/GSTS protocol
 * (persistent bits kept, one-shot bits awaited, a status bit that never
 * sets times out with a message naming it), the invalidation queue (waits
 * complete, a reserved descriptor raises IQE, is reported with its
 * contents, and the queue stays usable), fault recording (records read,
 * logged, cleared by writing F) and reason names. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "lib/printf.h"
#include "tests/host/check.h"
#include "tests/host/vtd_fake.h"

CHECK_STATE_DEFINE;

static struct vtd_unit unit;

static int bring_up(uint64_t cap, uint64_t ecap, enum vtd_mode_request want)
{
    struct why why;
    int rc = fake_bring_up(&unit, cap, ecap, want, NULL, &why);
    if (rc)
        printf("    # bring-up: %s\n", why.text);
    return rc;
}

TEST(caps_decode_qemu)
{
    struct vtd_caps c;
    vtd_caps_decode(QEMU_CAP, QEMU_ECAP, &c);
    CHECK_EQ_U64(c.mgaw, 48);
    CHECK_EQ_U64(c.sagaw, 6);
    CHECK_EQ_U64(c.fro * 16, 0x220);
    CHECK_EQ_U64(c.nfr, 1);
    CHECK_EQ_U64(c.iro * 16, 0xf0);
    CHECK_EQ_U64(c.mamv, 18);
    CHECK(c.qi && c.pt && c.smts && c.slts && c.pasid && !c.flts && !c.c && !c.cm, "flags");
    vtd_caps_decode(0x1d2008c222f0606ULL, 0x890000f00f4aULL, &c); /* x-flts */
    CHECK(c.flts && !c.slts && c.fs1gp && !c.srs, "x-flts flags");
}

TEST(gcmd_keeps_persistent_bits)
{
    CHECK(bring_up(QEMU_CAP, QEMU_ECAP, VTD_WANT_AUTO) == 0, "bring-up");
    CHECK(unit.mode == VTD_MODE_SCALABLE && unit.qi.enabled && unit.qi.wide, "scalable + QI");
    CHECK((fk.rtaddr & VTD_RTADDR_TTM_SCALABLE) != 0, "TTM scalable");
    CHECK(fk.ngcmd >= 2 && fk.gcmd_log[0] == VTD_GCMD_SRTP, "first command SRTP alone: %#x",
          fk.gcmd_log[0]);
    CHECK(fk.iqa & VTD_IQA_DW, "256-bit descriptors in scalable mode");
    fk.ngcmd = 0;
    CHECK(vtd_enable_translation(&unit), "TE on");
    CHECK(fk.gcmd_log[0] == (VTD_GCMD_QIE | VTD_GCMD_TE), "TE keeps QIE: %#x", fk.gcmd_log[0]);
    CHECK(vtd_gcmd_oneshot(&unit, VTD_GCMD_SRTP), "SRTP again");
    CHECK(fk.gcmd_log[1] == (VTD_GCMD_QIE | VTD_GCMD_TE | VTD_GCMD_SRTP),
          "one-shot keeps TE and QIE, and never repeats itself later: %#x", fk.gcmd_log[1]);
    CHECK(vtd_disable_translation(&unit), "TE off");
    CHECK(fk.gcmd_log[2] == VTD_GCMD_QIE, "TE off keeps QIE: %#x", fk.gcmd_log[2]);
}

TEST(stuck_status_bit_times_out_with_its_name)
{
    CHECK(bring_up(QEMU_CAP, QEMU_ECAP, VTD_WANT_AUTO) == 0, "bring-up");
    fk.stuck = VTD_GCMD_TE;
    fake_out_clear();
    CHECK(!vtd_enable_translation(&unit), "TES never sets: must fail");
    CHECK(strstr(fake_out, "timeout after") && strstr(fake_out, "unit=0 GSTS.TES=1"), "message: %s",
          fake_out);
    CHECK(!unit.translating, "not marked translating");
}

TEST(legacy_mode_uses_128bit_descriptors)
{
    CHECK(bring_up(QEMU_CAP, QEMU_ECAP, VTD_WANT_LEGACY) == 0, "bring-up");
    CHECK(unit.mode == VTD_MODE_LEGACY && !(fk.iqa & VTD_IQA_DW), "legacy, DW clear");
    CHECK(!(fk.rtaddr & VTD_RTADDR_TTM_SCALABLE), "TTM legacy");
    CHECK(vtd_inv_wait(&unit) == 0, "wait completes");
}

TEST(qi_wait_and_iqe_recovery)
{
    CHECK(bring_up(QEMU_CAP, QEMU_ECAP, VTD_WANT_AUTO) == 0, "bring-up");
    CHECK(vtd_inv_wait(&unit) == 0, "wait completes");
    uint64_t bad[4] = {0xbad00000000ULL, 0x1234, 0, 0};
    fake_out_clear();
    CHECK(vtd_qi_submit(&unit, bad) != 0, "bad descriptor reported");
    CHECK(unit.qi.iqe == 1, "IQE counted: %u", unit.qi.iqe);
    CHECK(unit.qi.last_error_desc[0] == bad[0], "offending descriptor kept");
    CHECK(strstr(fake_out, "IQE") && strstr(fake_out, "0xbad00000000"), "report names it: %s",
          fake_out);
    CHECK(!(fk.fsts & VTD_FSTS_IQE), "IQE cleared");
    CHECK(vtd_inv_all(&unit) == 0, "queue usable afterwards");
    CHECK(fk.iqh == fk.iqt, "queue drained");
}

TEST(qi_full_queue_wraps)
{
    CHECK(bring_up(QEMU_CAP, QEMU_ECAP, VTD_WANT_AUTO) == 0, "bring-up");
    for (int i = 0; i < 300; i++) /* 128 slots of 256 bits: wraps twice */
        CHECK(vtd_inv_iotlb(&unit, VTD_IOTLB_DOMAIN, 1, 0, 0, false) == 0, "submit %d", i);
    CHECK(vtd_inv_wait(&unit) == 0, "wait after wrapping");
}

TEST(fault_record_logged_and_cleared)
{
    CHECK(bring_up(QEMU_CAP, QEMU_ECAP, VTD_WANT_AUTO) == 0, "bring-up");
    uint32_t mark = vtd_fault_seq();
    fk.frcd_lo = 0x12345000;
    fk.frcd_hi = VTD_FRCD_F | (0x06ULL << 32) | 0x0018; /* 00:03.0, write, reason 6 */
    CHECK(vtd_fault_scan(&unit) == 1, "one record");
    CHECK(!(fk.frcd_hi & VTD_FRCD_F), "F cleared by writing 1");
    struct vtd_fault_record r;
    CHECK(vtd_faults_since(mark, 0x18, &r, 1) == 1, "found by sid");
    CHECK(vtd_faults_since(mark, 0x19, NULL, 0) == 0, "not for another sid");
    char line[200];
    vtd_fault_format(&r, line, sizeof(line));
    CHECK(!strcmp(line, "fault: unit=0 sid=00:03.0 pasid=- addr=0x12345000 type=write "
                        "reason=0x06 (read without read permission)"),
          "line: %s", line);
    CHECK(vtd_fault_count_sid(0x18) == 1, "per-device counter");
}

TEST(reason_names)
{
    CHECK(!strcmp(vtd_fault_reason_name(0x5b), "PASID entry programmed invalid (PGTT/AW/pointer)"),
          "0x5b");
    CHECK(vtd_fault_reason_class(0x71) == VTD_FAULT_NOT_PRESENT, "0x71 not present");
    CHECK(vtd_fault_reason_class(0x85) == VTD_FAULT_WRITE_DENIED, "0x85 write denied");
    CHECK(strstr(vtd_fault_reason_name(0x9f), "SSS") != NULL, "unlisted 0x9x named by group");
}

int main(void)
{
    fake_init();
    RUN(caps_decode_qemu);
    RUN(gcmd_keeps_persistent_bits);
    RUN(stuck_status_bit_times_out_with_its_name);
    RUN(legacy_mode_uses_128bit_descriptors);
    RUN(qi_wait_and_iqe_recovery);
    RUN(qi_full_queue_wraps);
    RUN(fault_record_logged_and_cleared);
    RUN(reason_names);
    fake_free_all();
    return check_finish();
}
