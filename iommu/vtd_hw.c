/* struct vtd_ops for the firmware, and unit bring-up with interrupts. */
#include "iommu/vtd_hw.h"

#include "arch/x86/atomic128.h"
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/paging.h"
#include "arch/x86/trap.h"
#include "arch/x86/tsc.h"
#include "lib/ktap.h"
#include "lib/page.h"
#include "lib/printf.h"

static uint32_t hw_read32(void *ctx, uint64_t addr)
{
    (void)ctx;
    return mmio_read32(addr);
}

static uint64_t hw_read64(void *ctx, uint64_t addr)
{
    (void)ctx;
    return mmio_read64(addr);
}

static void hw_write32(void *ctx, uint64_t addr, uint32_t v)
{
    (void)ctx;
    /* Table and queue stores must reach memory before the register write
     * that tells the unit to look at them. */
    mfence();
    mmio_write32(addr, v);
}

static void hw_write64(void *ctx, uint64_t addr, uint64_t v)
{
    (void)ctx;
    mfence();
    mmio_write64(addr, v);
}

static uint64_t hw_now_us(void *ctx)
{
    (void)ctx;
    return ticks_to_us(rdtsc());
}

static uint64_t hw_cycles(void *ctx)
{
    (void)ctx;
    return rdtsc();
}

static void hw_relax(void *ctx)
{
    (void)ctx;
    cpu_relax();
}

static void *hw_alloc_pages(void *ctx, unsigned n)
{
    (void)ctx;
    return page_alloc(n);
}

static uint64_t hw_virt_to_phys(void *ctx, const void *p)
{
    (void)ctx;
    return virt_to_phys(p);
}

static void *hw_phys_to_virt(void *ctx, uint64_t pa)
{
    (void)ctx;
    return phys_to_virt(pa);
}

static void hw_flush(void *ctx, const void *p, size_t len)
{
    (void)ctx;
    cache_flush_range(p, len);
}

static void hw_store128(void *ctx, volatile uint64_t *p, const uint64_t *v)
{
    (void)ctx;
    atomic128_store((volatile struct atomic128 *)p, (struct atomic128){v[0], v[1]});
}

/* The text wait_last_what points at: the caller's description lives on
 * its stack, so it is copied. */
static char last_wait[80];

static void hw_wait_begin(void *ctx, int unit, const char *what)
{
    (void)ctx;
    ksnprintf(last_wait, sizeof(last_wait) - 1, "VT-d unit=%d %s", unit, what);
    wait_last_what = last_wait;
}

const struct vtd_ops vtd_hw_ops = {
    .read32 = hw_read32,
    .read64 = hw_read64,
    .write32 = hw_write32,
    .write64 = hw_write64,
    .now_us = hw_now_us,
    .cycles = hw_cycles,
    .relax = hw_relax,
    .alloc_pages = hw_alloc_pages,
    .virt_to_phys = hw_virt_to_phys,
    .phys_to_virt = hw_phys_to_virt,
    .flush = hw_flush,
    .store128 = hw_store128,
    .wait_begin = hw_wait_begin,
};

/* Without CMPXCHG16B the ops have no store128: PASID work is refused. */
static struct vtd_ops ops_no_cx16;

static void fault_irq(struct trap_frame *f, void *ctx)
{
    (void)f;
    vtd_fault_irq(ctx);
}

int vtd_hw_unit_init(struct vtd_unit *u, int index, uint64_t reg_base, uint64_t reg_size,
                     uint16_t segment, enum vtd_mode_request want, struct why *why)
{
    if (!reg_size)
        reg_size = 4096;
    if (!paging_map_mmio(reg_base, reg_size)) {
        why_set(why, "cannot map registers at %#llx", (unsigned long long)reg_base);
        return -1;
    }
    const struct vtd_ops *ops = &vtd_hw_ops;
    if (!atomic128_supported()) {
        ops_no_cx16 = vtd_hw_ops;
        ops_no_cx16.store128 = NULL;
        ops = &ops_no_cx16;
    }
    /* The fault and IOTLB registers may lie beyond a size field that is
     * too small (seen on some firmware): map what CAP/ECAP say too. */
    uint64_t cap = mmio_read64(reg_base + 0x08), ecap = mmio_read64(reg_base + 0x10);
    uint64_t need = ((cap >> 24) & 0x3ff) * 16 + 16 * (((cap >> 40) & 0xff) + 1);
    uint64_t iotlb_end = ((ecap >> 8) & 0x3ff) * 16 + 16;
    if (iotlb_end > need)
        need = iotlb_end;
    if (need > reg_size && !paging_map_mmio(reg_base, (need + 4095) & ~4095ULL)) {
        why_set(why, "cannot map registers up to %#llx", (unsigned long long)need);
        return -1;
    }
    if (vtd_unit_init(u, index, reg_base, segment, ops, want, why))
        return -1;
    if (index < 16) {
        uint8_t vector = (uint8_t)(VEC_IOMMU_FAULT + index);
        irq_register(vector, fault_irq, u);
        vtd_fault_arm_msi(u, vector, lapic_msi_dest(lapic_id()));
    } else {
        ktap_diag("vtd: unit=%d has no fault vector: faults are polled", index);
    }
    return 0;
}
