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

/* One PM-timer read, with the TSC read just before and just after it: the
 * read happened somewhere in [*before, *after].  A wide bracket means the
 * CPU was interrupted (an SMI, or the host preempting a virtual CPU). */
static uint32_t pm_read_bracketed(uint16_t port, bool is32, uint64_t *before, uint64_t *after)
{
    *before = rdtsc();
    uint32_t v = pm_read(port, is32);
    *after = rdtsc();
    return v;
}

/* TSC ticks between two PM-timer reads `pm_ticks` apart (at least), and
 * how uncertain that count is (the two brackets' widths).  The loop is
 * bounded by an iteration count too, so a dead timer cannot hang start-up.
 * Preemption between the reads does not matter, both clocks keep running;
 * preemption inside a bracket shows up in *uncertainty. */
static uint64_t tsc_over_pm(uint16_t port, bool is32, uint32_t pm_ticks, uint32_t *elapsed,
                            uint64_t *uncertainty)
{
    uint32_t mask = is32 ? 0xffffffffu : 0xffffffu;
    uint64_t a0, b0, a1 = 0, b1 = 0;
    uint32_t start = pm_read_bracketed(port, is32, &a0, &b0);
    uint32_t now = start;
    for (uint64_t spins = 0; spins < 200000000ull; spins++) {
        now = pm_read_bracketed(port, is32, &a1, &b1);
        if (((now - start) & mask) >= pm_ticks)
            break;
    }
    *elapsed = (now - start) & mask;
    *uncertainty = (b0 - a0) + (b1 - a1);
    return (a1 + b1) / 2 - (a0 + b0) / 2;
}

/* Attempts per measurement, and the bracket width (in parts per thousand
 * of the measured span) above which an attempt is retried. */
#define PM_ATTEMPTS 5
#define PM_MAX_UNCERTAINTY_PERMILLE 5

uint64_t tsc_measure_against_pm(uint16_t port, bool is32, uint32_t ms)
{
    if (!port)
        return 0;
    uint64_t best_hz = 0, best_unc = ~0ull;
    for (int i = 0; i < PM_ATTEMPTS; i++) {
        uint32_t elapsed;
        uint64_t unc;
        uint64_t ticks = tsc_over_pm(port, is32, (uint32_t)(PM_TIMER_HZ * ms / 1000), &elapsed,
                                     &unc);
        if (!elapsed || !ticks)
            return 0;
        uint64_t hz = ticks * PM_TIMER_HZ / elapsed;
        if (unc * 1000 <= ticks * PM_MAX_UNCERTAINTY_PERMILLE)
            return hz;
        if (unc < best_unc) {
            best_unc = unc;
            best_hz = hz;
        }
    }
    return best_hz; /* every attempt was disturbed: the least disturbed one */
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
        /* Each measurement retries when an SMI or a busy host interrupted
         * one of its timer reads; the median of three shrugs off the rest. */
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
