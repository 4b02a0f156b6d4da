// HOST-DEPS: lib/printf.c lib/ktap.c iommu/fault.c iommu/vtd.c iommu/vtd_alias.c
/* The fault log (iommu/fault.c) on the units it is given and nothing else:
 * this test links neither the unit list nor the bring-up (iommu/vtd_unit.c),
 * so a fault log that reached for vtd_units[] would not even link.  Each
 * unit is a hand-made fake with one fault recording register and a clock
 * of its own: the run-wide calls scan only the units passed in, the rate
 * limit runs on the first one's clock, and a fault at a DMA alias belongs
 * to the device that owned the alias when the fault was logged. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/vtd.h"
#include "iommu/vtd_alias.h"
#include "iommu/vtd_regs.h"
#include "tests/host/capture.h"
#include "tests/host/check.h"

CHECK_STATE_DEFINE;

#define FRO 0x200 /* the fault recording register's offset (CAP.FRO * 16) */
#define EDU 0x0108
#define NVME 0x0110
#define ALIAS 0x0100

/* One unit's registers: one FRCD and FSTS, both RW1C where the spec says. */
struct fake {
    uint64_t base;
    uint64_t frcd_lo, frcd_hi;
    uint32_t fsts;
    uint64_t now_us;
    struct vtd_ops ops;
};

static unsigned off_of(void *ctx, uint64_t addr)
{
    return (unsigned)(addr - ((struct fake *)ctx)->base);
}

static uint32_t r32(void *ctx, uint64_t addr)
{
    return off_of(ctx, addr) == VTD_REG_FSTS ? ((struct fake *)ctx)->fsts : 0;
}

static uint64_t r64(void *ctx, uint64_t addr)
{
    struct fake *f = ctx;
    unsigned off = off_of(ctx, addr);
    return off == FRO ? f->frcd_lo : off == FRO + 8 ? f->frcd_hi : 0;
}

static void w32(void *ctx, uint64_t addr, uint32_t v)
{
    struct fake *f = ctx;
    unsigned off = off_of(ctx, addr);
    if (off == FRO + 12)
        f->frcd_hi &= ~((uint64_t)v << 32);
    else if (off == VTD_REG_FSTS)
        f->fsts &= ~v;
}

static void w64(void *ctx, uint64_t addr, uint64_t v)
{
    (void)ctx, (void)addr, (void)v;
}

static uint64_t now(void *ctx)
{
    return ((struct fake *)ctx)->now_us;
}

static void *pages(void *ctx, unsigned n)
{
    (void)ctx;
    void *p = aligned_alloc(4096, (size_t)n * 4096);
    if (p)
        memset(p, 0, (size_t)n * 4096);
    return p;
}

static struct fake fakes[2];
static struct vtd_unit units[2];
static struct vtd_unit *const list[2] = {&units[0], &units[1]};

static void setup(void)
{
    vtd_fault_reset();
    for (unsigned i = 0; i < 2; i++) {
        struct fake *f = &fakes[i];
        *f = (struct fake){.base = 0xfed90000 + i * 0x1000, .now_us = 5000000};
        f->ops = (struct vtd_ops){.read32 = r32,
                                  .read64 = r64,
                                  .write32 = w32,
                                  .write64 = w64,
                                  .now_us = now,
                                  .alloc_pages = pages,
                                  .ctx = f};
        units[i] = (struct vtd_unit){.index = (int)i, .base = f->base, .ops = &f->ops};
        units[i].caps.fro = FRO / 16;
        units[i].caps.nfr = 1;
    }
}

/* A write fault recorded by unit i from sid, not read yet. */
static void fault_at(unsigned i, uint16_t sid)
{
    fakes[i].frcd_lo = 0x5000;
    fakes[i].frcd_hi = VTD_FRCD_F | (0x05ULL << 32) | sid;
}

TEST(poll_scans_only_the_units_passed_in)
{
    setup();
    uint32_t mark = vtd_fault_seq();
    fault_at(0, EDU);
    fault_at(1, NVME);
    start_capture();
    vtd_fault_poll_units(&list[1], 1);
    stop_capture();
    struct vtd_fault_record r;
    CHECK(vtd_faults_since(mark, -1, &r, 1) == 1 && r.unit == 1 && r.sid == NVME,
          "unit 1's fault only");
    CHECK(fakes[0].frcd_hi & VTD_FRCD_F, "unit 0 not scanned");
    CHECK(strstr(out, "fault: unit=1 sid=01:02.0") && !strstr(out, "unit=0"), "printed: %s", out);
    start_capture();
    vtd_fault_poll_units(list, 2);
    stop_capture();
    CHECK(vtd_faults_since(mark, -1, NULL, 0) == 2, "then unit 0's too");
    struct vtd_fault_totals t;
    vtd_fault_totals_of(list, 1, &t);
    CHECK(t.recorded == 1, "unit 0 alone recorded %llu", (unsigned long long)t.recorded);
    vtd_fault_totals_of(list, 2, &t);
    CHECK(t.recorded == 2 && t.printed == 2, "both: %llu recorded, %llu printed",
          (unsigned long long)t.recorded, (unsigned long long)t.printed);
}

TEST(rate_limit_runs_on_the_first_units_clock)
{
    setup();
    start_capture();
    for (unsigned i = 0; i < VTD_FAULT_PRINT_BURST + 8; i++) {
        fault_at(0, EDU);
        vtd_fault_poll_units(list, 2);
    }
    struct vtd_fault_totals t;
    vtd_fault_totals_of(list, 2, &t);
    CHECK(t.printed == VTD_FAULT_PRINT_BURST && t.suppressed == 8, "%llu printed, %llu suppressed",
          (unsigned long long)t.printed, (unsigned long long)t.suppressed);
    fakes[1].now_us += 2000000; /* not the clock the log runs on */
    vtd_fault_poll_units(list, 2);
    CHECK(!strstr(out, "more fault lines suppressed"), "window closed early: %s", out);
    fakes[0].now_us += 1000000;
    vtd_fault_poll_units(list, 2);
    stop_capture();
    CHECK(strstr(out, "faults: 8 more fault lines suppressed"),
          "window closed on unit 0's clock: %s", out);
}

TEST(alias_fault_is_the_owners_when_logged)
{
    setup();
    struct vtd_unit *u = &units[0];
    CHECK(vtd_alias_add(u, EDU, ALIAS) == 0 && vtd_alias_add(u, NVME, ALIAS) == 0, "aliases");
    vtd_alias_set_owner(u, EDU, ALIAS);
    uint32_t mark = vtd_fault_seq();
    fault_at(0, ALIAS);
    start_capture();
    vtd_fault_poll_units(list, 1);
    stop_capture();
    /* The NVMe takes the alias over after the fault: the fault stays the edu's. */
    vtd_alias_set_owner(u, NVME, ALIAS);
    CHECK(vtd_faults_since(mark, EDU, NULL, 0) == 1, "the edu's");
    CHECK(vtd_faults_since(mark, NVME, NULL, 0) == 0, "not the new owner's");
    CHECK(vtd_faults_since(mark, ALIAS, NULL, 0) == 1, "and the alias's own");
    CHECK(strstr(out, "sid=01:00.0 ") && strstr(out, " alias-of=01:01.0"), "line: %s", out);
    /* A fault at a source-id nobody owns names no owner. */
    vtd_alias_set_owner(u, 0x0200, ALIAS);
    mark = vtd_fault_seq();
    fault_at(0, ALIAS);
    start_capture();
    vtd_fault_poll_units(list, 1);
    stop_capture();
    CHECK(vtd_faults_since(mark, -1, NULL, 0) == 1 && !strstr(out, "alias-of"), "line: %s", out);
}

int main(void)
{
    RUN(poll_scans_only_the_units_passed_in);
    RUN(rate_limit_runs_on_the_first_units_clock);
    RUN(alias_fault_is_the_owners_when_logged);
    return check_finish();
}
