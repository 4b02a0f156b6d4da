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

/* One 10 ms measurement of the timer's rate (divided by 16) against the
 * TSC.  Both register accesses are bracketed by TSC reads and the rate is
 * taken between the brackets' midpoints, so a CPU descheduled between the
 * accesses (a busy host: smp-72 under load read 3.5 and 8.2 GHz when the
 * count was divided by a nominal 10 ms) stretches both clocks alike; only a
 * stall inside an access counts, and *bracket says how long they took. */
static uint64_t measure_timer_hz(uint64_t *bracket)
{
    wr(REG_TIMER_DIV, 0x3); /* divide by 16 */
    wr(REG_LVT_TIMER, 1u << 16);
    uint64_t a0 = rdtsc();
    wr(REG_TIMER_INIT, 0xffffffffu);
    uint64_t b0 = rdtsc();
    udelay(10000);
    uint64_t a1 = rdtsc();
    uint32_t cur = rd(REG_TIMER_CUR);
    uint64_t b1 = rdtsc();
    wr(REG_TIMER_INIT, 0);
    uint64_t tsc_ticks = (a1 / 2 + b1 / 2) - (a0 / 2 + b0 / 2);
    *bracket = (b0 - a0) + (b1 - a1);
    /* In kHz of TSC: a count below 2^32 times a rate below 2^24 kHz stays
     * far from 2^64, with no 128-bit division (no libgcc here). */
    uint64_t tsc_khz = tsc_hz / 1000, tsc_kticks = tsc_ticks / 1000;
    if (!tsc_kticks)
        return 0;
    return (uint64_t)(0xffffffffu - cur) * tsc_khz / tsc_kticks;
}

/* The measurement whose register accesses were quickest of up to five;
 * one whose brackets take under 0.5% of the span is taken at once. */
#define TIMER_CAL_ATTEMPTS 5

void lapic_timer_calibrate(void)
{
    uint64_t best_bracket = ~0ull, span = tsc_hz / 100;
    for (int i = 0; i < TIMER_CAL_ATTEMPTS; i++) {
        uint64_t bracket;
        uint64_t hz = measure_timer_hz(&bracket);
        if (hz && bracket < best_bracket) {
            best_bracket = bracket;
            lapic_timer_hz = hz;
        }
        if (best_bracket * 1000 <= span * 5)
            break;
    }
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
