/* TSC calibration and delays. */
#include "arch/x86/tsc.h"
#include "lib/printf.h"

uint64_t tsc_hz = 2000000000ull;
const char *tsc_source = "assumed 2 GHz";
uint64_t tsc_boot;
const char *volatile wait_last_what = "nothing yet";

#define PM_TIMER_HZ 3579545ull
#define PIT_HZ 1193182ull

void udelay(uint64_t us)
{
    uint64_t dl = deadline_after_us(us);
    while (!deadline_passed(dl))
        cpu_relax();
}

void wait_timed_out(const char *what, uint64_t us)
{
    kprintf("# timeout after %llu us waiting for %s\n", (unsigned long long)us, what);
}

static uint32_t pm_read(uint16_t port, bool is32)
{
    return inl(port) & (is32 ? 0xffffffffu : 0xffffffu);
}

/* Count TSC ticks across `pm_ticks` PM-timer ticks.  The loop is bounded
 * by an iteration count too, so a dead timer cannot hang the start-up. */
static uint64_t tsc_over_pm(uint16_t port, bool is32, uint32_t pm_ticks, uint32_t *elapsed)
{
    uint32_t mask = is32 ? 0xffffffffu : 0xffffffu;
    uint32_t start = pm_read(port, is32);
    uint32_t now = start;
    uint64_t t0 = rdtsc();
    for (uint64_t spins = 0; spins < 200000000ull; spins++) {
        now = pm_read(port, is32);
        if (((now - start) & mask) >= pm_ticks)
            break;
    }
    *elapsed = (now - start) & mask;
    return rdtsc() - t0;
}

uint64_t tsc_measure_against_pm(uint16_t port, bool is32, uint32_t ms)
{
    uint32_t elapsed;
    if (!port)
        return 0;
    uint64_t ticks = tsc_over_pm(port, is32, (uint32_t)(PM_TIMER_HZ * ms / 1000), &elapsed);
    if (!elapsed)
        return 0;
    return ticks * PM_TIMER_HZ / elapsed;
}

/* PIT channel 2 counting down once from 0xffff with the speaker gate. */
static uint64_t calibrate_pit(void)
{
    uint8_t gate = inb(0x61);
    outb(0x61, (gate & ~0x02) | 0x01);
    outb(0x43, 0xb0); /* channel 2, lobyte/hibyte, mode 0 */
    outb(0x42, 0xff);
    outb(0x42, 0xff);
    uint64_t t0 = rdtsc();
    uint64_t spins = 0;
    while (!(inb(0x61) & 0x20) && spins++ < 100000000ull)
        ;
    uint64_t ticks = rdtsc() - t0;
    outb(0x61, gate);
    return ticks * PIT_HZ / 0xffff;
}

uint64_t tsc_calibrate(uint16_t pm_port, bool pm_32bit)
{
    uint64_t hz = 0;
    if (pm_port) {
        /* The median of three short measurements shrugs off one that an
         * SMI (or, under emulation, a busy host) stretched. */
        uint64_t m[3];
        for (int i = 0; i < 3; i++)
            m[i] = tsc_measure_against_pm(pm_port, pm_32bit, 10);
        uint64_t lo = m[0] < m[1] ? m[0] : m[1], hi = m[0] < m[1] ? m[1] : m[0];
        hz = m[2] < lo ? lo : m[2] > hi ? hi : m[2];
        tsc_source = "ACPI PM timer";
    }
    if (!hz) {
        hz = calibrate_pit();
        tsc_source = "PIT channel 2";
    }
    if (hz < 100000000ull) { /* < 100 MHz: the timer lied; keep the guess */
        kprintf("# tsc: calibration against %s gave %llu Hz; keeping %llu Hz\n", tsc_source,
                (unsigned long long)hz, (unsigned long long)tsc_hz);
        tsc_source = "assumed 2 GHz (calibration failed)";
        return tsc_hz;
    }
    tsc_hz = hz;
    return hz;
}
