/* Local APIC: enable, EOI, IPIs and the timer. */
#include "arch/x86/lapic.h"

#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"
#include "arch/x86/trap.h"
#include "arch/x86/tsc.h"
#include "lib/printf.h"

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_X2 (1ull << 10)

enum {
    REG_ID = 0x20,
    REG_EOI = 0xb0,
    REG_SVR = 0xf0,
    REG_ICR_LO = 0x300,
    REG_ICR_HI = 0x310,
    REG_LVT_TIMER = 0x320,
    REG_TIMER_INIT = 0x380,
    REG_TIMER_CUR = 0x390,
    REG_TIMER_DIV = 0x3e0,
};

bool lapic_x2apic;
uint64_t lapic_base;
uint64_t lapic_timer_hz;

static uint32_t rd(uint32_t reg)
{
    if (lapic_x2apic)
        return (uint32_t)rdmsr(0x800 + (reg >> 4));
    return mmio_read32(lapic_base + reg);
}

static void wr(uint32_t reg, uint32_t v)
{
    if (lapic_x2apic)
        wrmsr(0x800 + (reg >> 4), v);
    else
        mmio_write32(lapic_base + reg, v);
}

void lapic_init(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    lapic_base = base & 0xffffff000ull;
    if (cpu.x2apic) {
        lapic_x2apic = true;
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE | APIC_BASE_X2);
    } else {
        paging_map_mmio(lapic_base, 4096);
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
    }
    wr(REG_SVR, 0x100 | VEC_SPURIOUS); /* software enable */
    wr(REG_LVT_TIMER, 1u << 16);       /* masked until used */
}

uint32_t lapic_id(void)
{
    if (lapic_x2apic)
        return (uint32_t)rdmsr(0x802);
    if (!lapic_base)
        return 0;
    return mmio_read32(lapic_base + REG_ID) >> 24;
}

void lapic_eoi(void)
{
    wr(REG_EOI, 0);
}

bool lapic_ipi_wait(void)
{
    if (lapic_x2apic)
        return true;
    return WAIT_FOR(!(rd(REG_ICR_LO) & (1u << 12)), 10000, "LAPIC ICR delivery status");
}

static void send_icr(uint32_t apic_id, uint32_t lo)
{
    if (lapic_x2apic) {
        wrmsr(0x830, ((uint64_t)apic_id << 32) | lo);
        return;
    }
    lapic_ipi_wait();
    wr(REG_ICR_HI, apic_id << 24);
    wr(REG_ICR_LO, lo);
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
    send_icr(apic_id, vector | (1u << 14)); /* fixed, assert */
}

void lapic_send_self(uint8_t vector)
{
    if (lapic_x2apic) {
        wrmsr(0x83f, vector); /* SELF IPI register */
        return;
    }
    send_icr(0, vector | (1u << 14) | (1u << 18)); /* shorthand: self */
}

void lapic_send_init(uint32_t apic_id)
{
    send_icr(apic_id, 0x500 | (1u << 14));
}

void lapic_send_sipi(uint32_t apic_id, uint8_t page)
{
    send_icr(apic_id, 0x600 | page);
}

uint32_t lapic_msi_dest(uint32_t apic_id)
{
    return apic_id & 0xff;
}

void lapic_timer_calibrate(void)
{
    wr(REG_TIMER_DIV, 0x3); /* divide by 16 */
    wr(REG_LVT_TIMER, 1u << 16);
    wr(REG_TIMER_INIT, 0xffffffffu);
    udelay(10000);
    uint32_t elapsed = 0xffffffffu - rd(REG_TIMER_CUR);
    wr(REG_TIMER_INIT, 0);
    lapic_timer_hz = (uint64_t)elapsed * 100;
}

void lapic_timer_start(uint8_t vector, uint64_t us, bool periodic)
{
    if (!us || !lapic_timer_hz) {
        wr(REG_TIMER_INIT, 0);
        wr(REG_LVT_TIMER, 1u << 16);
        return;
    }
    uint64_t count = lapic_timer_hz * us / 1000000;
    if (count == 0)
        count = 1;
    if (count > 0xffffffffu)
        count = 0xffffffffu;
    wr(REG_TIMER_DIV, 0x3);
    wr(REG_LVT_TIMER, vector | (periodic ? (1u << 17) : 0));
    wr(REG_TIMER_INIT, (uint32_t)count);
}
