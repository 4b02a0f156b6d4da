// HOST-DEPS: lib/printf.c lib/ktap.c iommu/vtd.c iommu/vtd_unit.c iommu/vtd_takeover.c iommu/qi.c iommu/fault.c iommu/context_entry.c tests/host/vtd_fake.c iommu/vtd_alias.c lib/why.c
/* The engine against hardware that answers badly (tests/host/vtd_fake.c):
 * a unit whose registers read all ones (or all zeros: QEMU's unassigned
 * MMIO) is refused with a message and no wait; GSTS bits that never set
 * or never clear end in a bounded timeout naming the bit; a device-TLB
 * invalidation that times out (ITE) is reported with its descriptor, the
 * wait behind it fails at once and the queue recovers; a queue the unit
 * never consumes fills, the refused descriptor is named, and the queue
 * works again once the unit resumes; a fault storm is counted, its lines
 * rate limited and summarised, PFO counted. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "tests/host/check.h"
#include "tests/host/vtd_fake.h"

CHECK_STATE_DEFINE;

static struct vtd_unit unit;
static struct why why;

static int bring_up(uint64_t ecap_extra, void (*setup)(void))
{
    return fake_bring_up(&unit, QEMU_CAP, QEMU_ECAP | ecap_extra, VTD_WANT_AUTO, setup, &why);
}

/* The bring-up must give up within its budget: one register handshake
 * (plus the few clock reads around it), never an unbounded spin. */
static bool bounded(void)
{
    return fk.now <= VTD_REG_TIMEOUT_US + 50000;
}

static void set_all_ones(void)
{
    fk.all_ones = true;
}

TEST(all_ones_unit_refused)
{
    CHECK(bring_up(0, set_all_ones) != 0, "a unit reading all ones must be refused");
    CHECK(strstr(why.text, "reads CAP=0xffffffffffffffff: no registers there"), "why: %s",
          why.text);
    CHECK(vtd_nunits == 0, "not registered");
    CHECK(fk.ngcmd == 0, "no command written to a unit that is not there");
    CHECK(fk.now == 0, "no wait at all (clock read %llu us)", (unsigned long long)fk.now);
}

static void set_zero(void)
{
    fk.cap = fk.ecap = 0;
}

TEST(zero_unit_refused)
{
    CHECK(bring_up(0, set_zero) != 0, "a unit reading zeros (QEMU's unassigned MMIO) is refused");
    CHECK(strstr(why.text, "reads CAP=0: no registers there"), "why: %s", why.text);
    CHECK(vtd_nunits == 0, "not registered");
}

static uint32_t stuck_bit;

static void stick(void)
{
    fk.stuck = stuck_bit;
}

/* A GSTS bit the bring-up waits for never follows GCMD: refused, with a
 * timeout line naming the bit, within one handshake's budget. */
TEST(status_bit_never_set_at_bring_up)
{
    static const struct {
        uint32_t bit;
        const char *why, *line;
    } cases[] = {
        {VTD_GCMD_SRTP, "root table pointer not latched (GSTS.RTPS)", "unit=0 GSTS.RTPS=1"},
        {VTD_GCMD_QIE, "invalidation queue did not start", "unit=0 GSTS.QIES=1"},
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        stuck_bit = cases[i].bit;
        CHECK(bring_up(0, stick) != 0, "%s: refused", cases[i].line);
        CHECK(strstr(why.text, cases[i].why), "why: %s", why.text);
        CHECK(strstr(fake_out, "timeout after") && strstr(fake_out, cases[i].line),
              "timeout line names the bit: %s", fake_out);
        CHECK(bounded(), "gave up after %llu us", (unsigned long long)fk.now);
        CHECK(vtd_nunits == 0, "not registered");
    }
}

TEST(translation_never_turns_off)
{
    CHECK(bring_up(0, NULL) == 0, "bring-up: %s", why.text);
    CHECK(vtd_enable_translation(&unit), "TE on");
    fk.stuck = VTD_GCMD_TE;
    fake_out_clear();
    uint64_t t0 = fk.now;
    vtd_shutdown_all();
    CHECK(strstr(fake_out, "unit=0 GSTS.TES=0"), "timeout names TES=0: %s", fake_out);
    CHECK(strstr(fake_out, "unit=0 left safe: translation STILL ON"), "said: %s", fake_out);
    CHECK(fk.now - t0 <= 2 * VTD_INV_TIMEOUT_US, "bounded: %llu us",
          (unsigned long long)(fk.now - t0));
    CHECK(!unit.up, "unit marked down");
}

static void no_ats(void)
{
    fk.no_ats_sid = 0x18; /* 00:03.0 */
}

TEST(ite_reported_with_descriptor_and_recovered)
{
    CHECK(bring_up(ECAP_DT, no_ats) == 0, "bring-up: %s", why.text);
    fake_out_clear();
    uint64_t t0 = fk.now;
    struct vtd_devtlb_target t = {.sid = 0x18, .pf_sid = 0x18};
    CHECK(vtd_inv_devtlb(&unit, &t, 0x5000, 0) == 0, "queued");
    CHECK(vtd_inv_wait(&unit) != 0, "the wait behind a timed-out invalidation fails");
    CHECK(unit.qi.ite == 1, "ITE counted: %u", unit.qi.ite);
    CHECK(fk.aborted == 1, "the unit aborted the wait");
    CHECK(strstr(fake_out, "ITE (device-TLB invalidation time-out) sid=00:03.0"), "report: %s",
          fake_out);
    CHECK(strstr(fake_out, "type=0x3 (device-tlb)") && strstr(fake_out, "0x5000"),
          "the descriptor is named: %s", fake_out);
    CHECK(strstr(fake_out, "aborted by the ITE"), "the wait says why: %s", fake_out);
    CHECK(!strstr(fake_out, "timeout after"), "no need to wait out the budget: %s", fake_out);
    CHECK(fk.now - t0 < VTD_INV_TIMEOUT_US, "returned after %llu us",
          (unsigned long long)(fk.now - t0));
    CHECK(!(fk.fsts & VTD_FSTS_ITE), "ITE cleared");
    CHECK((unit.qi.last_error_desc[0] & 0xf) == VTD_DESC_DEVTLB, "descriptor kept");
    CHECK(vtd_inv_all(&unit) == 0, "queue usable afterwards");
    CHECK(fk.iqh == fk.iqt, "drained");
}

/* The same with the PASID-based device-TLB descriptor, whose SID sits at
 * bits 31:16 (its 47:32 belong to the PASID): the report still finds the
 * descriptor of the source IQERCD names, and shows its PASID. */
TEST(ite_on_pasid_based_devtlb_names_its_descriptor)
{
    CHECK(bring_up(ECAP_DT, no_ats) == 0, "bring-up: %s", why.text);
    CHECK(unit.mode == VTD_MODE_SCALABLE, "scalable mode");
    fake_out_clear();
    struct vtd_devtlb_target t = {.sid = 0x18, .pf_sid = 0x18, .qdep = 3};
    CHECK(vtd_inv_pasid_devtlb(&unit, &t, 0x2a5, 0x5000, 0) == 0, "queued");
    CHECK(vtd_inv_wait(&unit) != 0, "the wait behind a timed-out invalidation fails");
    CHECK(unit.qi.ite == 1, "ITE counted: %u", unit.qi.ite);
    CHECK(strstr(fake_out, "ITE (device-TLB invalidation time-out) sid=00:03.0"), "report: %s",
          fake_out);
    CHECK(strstr(fake_out, "type=0x8 (pasid-device-tlb) sid=00:03.0 pfsid=0 mip=3 pasid=677"),
          "the descriptor is named and decoded: %s", fake_out);
    CHECK(!strstr(fake_out, "no device-TLB descriptor for it"), "found it: %s", fake_out);
    CHECK(vtd_inv_all(&unit) == 0, "queue usable afterwards");
}

TEST(queue_full_reported_and_recovered)
{
    CHECK(bring_up(0, NULL) == 0, "bring-up: %s", why.text);
    fk.stall = true; /* the unit stops fetching: nothing is consumed */
    fake_out_clear();
    unsigned ok = 0;
    int rc = 0;
    for (unsigned i = 0; i < unit.qi.entries + 4 && !rc; i++) {
        rc = vtd_inv_iotlb(&unit, VTD_IOTLB_DOMAIN, 7, 0, 0, false);
        ok += !rc;
    }
    CHECK(rc != 0, "a full queue refuses the descriptor");
    CHECK(ok == unit.qi.entries - 1, "%u queued into %u slots (one stays free)", ok,
          unit.qi.entries);
    CHECK(unit.qi.full_waits == 1, "full_waits %u", unit.qi.full_waits);
    CHECK(strstr(fake_out, "waiting for unit=0 invalidation queue space"), "report: %s", fake_out);
    CHECK(strstr(fake_out, "descriptor not queued") && strstr(fake_out, "(iotlb) g=2 did=7"),
          "the refused descriptor is named: %s", fake_out);
    fk.stall = false; /* the unit resumes */
    fake_process_queue();
    CHECK(vtd_inv_all(&unit) == 0, "usable after the unit resumed");
    CHECK(fk.iqh == fk.iqt, "drained");
}

TEST(storm_counted_rate_limited_summarised)
{
    CHECK(bring_up(0, NULL) == 0, "bring-up: %s", why.text);
    fake_out_clear();
    for (int i = 0; i < 100; i++) {
        fk.frcd_lo = 0x12d000;
        fk.frcd_hi = VTD_FRCD_F | (0x91ULL << 32) | 0x10; /* 00:02.0 write */
        if (i % 30 == 29)
            fk.fsts |= VTD_FSTS_PFO; /* the register stayed full meanwhile */
        vtd_fault_poll();
    }
    vtd_fault_summary(true);
    CHECK(!(fk.fsts & VTD_FSTS_PFO), "PFO cleared");
    /* One window: 32 lines in all, the first overflow line among them. */
    CHECK(strstr(fake_out, "primary fault overflow (FSTS.PFO) 1 time(s)"), "PFO said: %s",
          fake_out);
    CHECK(strstr(fake_out, "faults: 69 more fault lines suppressed (rate limit 32/s)"),
          "suppressed count said: %s", fake_out);
    CHECK(strstr(fake_out, "faults: 100 recorded, 31 printed, 69 suppressed, PFO seen 3 times"),
          "summary: %s", fake_out);
    unsigned lines = 0;
    for (const char *p = fake_out; (p = strstr(p, "# fault: unit=0")); p++)
        lines++;
    CHECK(lines == VTD_FAULT_PRINT_BURST - 1, "%u fault lines printed", lines);
    /* The next window prints again. */
    fk.now += 1000000;
    fake_out_clear();
    fk.frcd_hi = VTD_FRCD_F | (0x91ULL << 32) | 0x10;
    vtd_fault_poll();
    CHECK(strstr(fake_out, "# fault: unit=0 sid=00:02.0"), "printing resumed: %s", fake_out);
}

int main(void)
{
    fake_init();
    RUN(all_ones_unit_refused);
    RUN(zero_unit_refused);
    RUN(status_bit_never_set_at_bring_up);
    RUN(translation_never_turns_off);
    RUN(ite_reported_with_descriptor_and_recovered);
    RUN(ite_on_pasid_based_devtlb_names_its_descriptor);
    RUN(queue_full_reported_and_recovered);
    RUN(storm_counted_rate_limited_summarised);
    fake_free_all();
    return check_finish();
}
