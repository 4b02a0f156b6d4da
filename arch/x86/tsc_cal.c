/* TSC rate from CPUID and timers, cross-checked and bounded (tsc_cal.h). */
#include "arch/x86/tsc_cal.h"
#include "lib/printf.h"

/* Every timer loop stops after this many reads, or after the TSC has run
 * for four times the wanted span at TSC_MAX_HZ, whichever comes first. */
#define MAX_TIMER_READS 20000000ull
#define SPAN_SLACK 4

/* Attempts per PM-timer measurement, and the TSC bracket width (parts per
 * thousand of the span) above which an attempt counts as disturbed. */
#define PM_ATTEMPTS 5
#define PM_MAX_UNCERTAINTY_PERMILLE 5

/* The first measurement's window; the cross-check doubles it. */
#define FIRST_WINDOW_MS 10

/* CPUID and a measurement farther apart than this disagree. */
#define AGREE_PERMILLE 20

uint64_t tsc_hz_from_cpuid(bool has15, const uint32_t leaf15[3], bool has16, uint32_t base_mhz)
{
    if (!has15 || !leaf15[0] || !leaf15[1]) {
        /* Without the ratio, 16h's base frequency is the nominal TSC rate
         * on the CPUs that have an invariant TSC (SDM Vol. 3, 18.7.3). */
        return has16 && base_mhz ? (uint64_t)base_mhz * 1000000ull : 0;
    }
    uint64_t crystal = leaf15[2];
    if (!crystal && has16 && base_mhz)
        /* Crystal not enumerated: base = crystal * num / den. */
        crystal = (uint64_t)base_mhz * 1000000ull * leaf15[0] / leaf15[1];
    return crystal * leaf15[1] / leaf15[0];
}

static uint64_t span_limit_ticks(uint32_t ms)
{
    return TSC_MAX_HZ / 1000 * ms * SPAN_SLACK;
}

/* A PM-timer value stamped with the TSC: the quickest of STAMP_READS reads
 * (narrowest TSC bracket).  A CPU stalled inside a read leaves the sample
 * anywhere in its bracket, and the read that ends a span is the one most
 * likely to have stalled (a long stall is what carries the count past the
 * goal), so both ends are re-read and the tightest read kept. */
#define STAMP_READS 8

struct pm_stamp {
    uint64_t tsc;   /* midpoint of the read's TSC bracket */
    uint64_t width; /* the bracket */
    uint32_t pm;
};

static struct pm_stamp pm_stamp(const struct tsc_clocks *c, uint32_t mask)
{
    struct pm_stamp best = {.width = ~0ull};
    for (int i = 0; i < STAMP_READS; i++) {
        uint64_t a = c->rdtsc(c->ctx);
        uint32_t v = c->pm_read(c->ctx) & mask;
        uint64_t b = c->rdtsc(c->ctx);
        if (b - a < best.width)
            best = (struct pm_stamp){.tsc = a / 2 + b / 2, .width = b - a, .pm = v};
    }
    return best;
}

/* TSC ticks between two PM-timer stamps at least pm_ticks apart, and how
 * uncertain the count is (the two stamps' brackets). */
static uint64_t tsc_over_pm(const struct tsc_clocks *c, uint32_t pm_ticks, uint32_t ms,
                            uint32_t *elapsed, uint64_t *uncertainty)
{
    uint32_t mask = c->pm_32bit ? 0xffffffffu : 0xffffffu;
    struct pm_stamp start = pm_stamp(c, mask);
    for (uint64_t reads = 0; reads < MAX_TIMER_READS; reads++) {
        uint32_t now = c->pm_read(c->ctx) & mask;
        if (((now - start.pm) & mask) >= pm_ticks ||
            c->rdtsc(c->ctx) - start.tsc > span_limit_ticks(ms))
            break;
    }
    struct pm_stamp end = pm_stamp(c, mask);
    *elapsed = (end.pm - start.pm) & mask;
    *uncertainty = start.width + end.width;
    return end.tsc - start.tsc;
}

uint64_t tsc_measure_pm(const struct tsc_clocks *c, uint32_t ms)
{
    if (!c->pm_read)
        return 0;
    uint32_t want = (uint32_t)(PM_TIMER_HZ * ms / 1000);
    uint64_t best_hz = 0, best_unc = ~0ull;
    for (int i = 0; i < PM_ATTEMPTS; i++) {
        uint32_t elapsed;
        uint64_t unc;
        uint64_t ticks = tsc_over_pm(c, want, ms, &elapsed, &unc);
        /* A stopped timer says nothing; a slow one gives a rate that the
         * caller refuses by name. */
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

/* Median of three PM-timer measurements of ms each. */
static uint64_t measure_pm_median(const struct tsc_clocks *c, uint32_t ms)
{
    uint64_t m[3];
    for (int i = 0; i < 3; i++)
        m[i] = tsc_measure_pm(c, ms);
    uint64_t lo = m[0] < m[1] ? m[0] : m[1], hi = m[0] < m[1] ? m[1] : m[0];
    return m[2] < lo ? lo : m[2] > hi ? hi : m[2];
}

static uint64_t measure_hpet(const struct tsc_clocks *c, uint32_t ms)
{
    if (!c->hpet_read || !c->hpet_fs_per_tick || c->hpet_fs_per_tick > 100000000ull)
        return 0; /* the spec caps the period at 100 ns */
    uint64_t want = 1000000000000ull * ms / c->hpet_fs_per_tick; /* 1e15 fs/s * ms / 1000 */
    uint64_t mask = c->hpet_mask ? c->hpet_mask : ~0ull;
    uint64_t t0 = c->rdtsc(c->ctx), h0 = c->hpet_read(c->ctx), t1 = t0, ticks = 0;
    for (uint64_t reads = 0; reads < MAX_TIMER_READS; reads++) {
        ticks = (c->hpet_read(c->ctx) - h0) & mask;
        t1 = c->rdtsc(c->ctx);
        if (ticks >= want || t1 - t0 > span_limit_ticks(ms))
            break;
    }
    if (!ticks)
        return 0;
    /* In nanoseconds, the span (at most 4x 160 ms, see span_limit_ticks and
     * CROSS_ATTEMPTS) times 1e9 stays far below 2^64. */
    uint64_t ns = ticks * c->hpet_fs_per_tick / 1000000ull;
    return ns ? (t1 - t0) * 1000000000ull / ns : 0;
}

/* One PIT channel-2 countdown of 0xffff ticks (55 ms); 0 when it never
 * ends within the bound (a clock-gated PIT). */
static uint64_t measure_pit(const struct tsc_clocks *c)
{
    if (!c->pit_start)
        return 0;
    c->pit_start(c->ctx);
    uint64_t t0 = c->rdtsc(c->ctx), t1 = t0;
    bool done = false;
    for (uint64_t reads = 0; reads < MAX_TIMER_READS && !done; reads++) {
        done = c->pit_done(c->ctx);
        t1 = c->rdtsc(c->ctx);
        if (t1 - t0 > span_limit_ticks(55))
            break;
    }
    c->pit_stop(c->ctx);
    return done ? (t1 - t0) * PIT_HZ / 0xffff : 0;
}

static bool plausible(uint64_t hz)
{
    return hz >= TSC_MIN_HZ && hz <= TSC_MAX_HZ;
}

static uint64_t permille_apart(uint64_t a, uint64_t b)
{
    uint64_t d = a > b ? a - b : b - a;
    return d * 1000 / (a > b ? a : b);
}

/* The measurement by the best timer the machine has. */
static void measure(const struct tsc_clocks *c, struct tsc_calibration *o)
{
    if ((o->measured_hz = measure_pm_median(c, FIRST_WINDOW_MS))) {
        o->timer = c->pm_name ? c->pm_name : "ACPI PM timer";
    } else if ((o->measured_hz = measure_hpet(c, FIRST_WINDOW_MS))) {
        o->timer = "HPET";
    } else if ((o->measured_hz = measure_pit(c))) {
        o->timer = "PIT channel 2";
    }
}

/* CPUID said nothing: a PM-timer measurement is checked against the HPET
 * when there is one.  Two timers that disagree mean a disturbed measurement:
 * an SMI, or a hypervisor that descheduled the CPU in the middle of a timer
 * read (QEMU with 72 vCPUs on 2 busy host cores read 1.41 GHz over 10 ms,
 * every time, where 50 ms read 2.60).  Such a disturbance costs a fixed
 * time, so both timers are measured again over a window twice as long each
 * time, which shrinks its share; if they never agree, that is said and the
 * PM timer's longest measurement (a fixed, spec-defined rate) is kept. */
#define CROSS_ATTEMPTS 5 /* windows of 10, 20, 40, 80, 160 ms */

static void cross_check_timers(const struct tsc_clocks *c, struct tsc_calibration *o)
{
    if (!c->hpet_read || !c->pm_read || o->source != o->timer) {
        ksnprintf(o->note, sizeof(o->note), "no second clock to cross-check it");
        return;
    }
    uint64_t hpet_hz = 0, apart = 0;
    uint32_t ms = FIRST_WINDOW_MS;
    unsigned attempt;
    for (attempt = 1; attempt <= CROSS_ATTEMPTS; attempt++, ms *= 2) {
        if (attempt > 1) {
            uint64_t pm_hz = measure_pm_median(c, ms);
            if (plausible(pm_hz))
                o->hz = o->measured_hz = pm_hz;
        }
        hpet_hz = measure_hpet(c, ms);
        if (!hpet_hz) {
            ksnprintf(o->note, sizeof(o->note), "no second clock to cross-check it");
            return;
        }
        apart = permille_apart(hpet_hz, o->measured_hz);
        if (apart <= AGREE_PERMILLE)
            break;
    }
    bool agree = apart <= AGREE_PERMILLE;
    if (!agree)
        ms /= 2; /* the loop stepped past the last window */
    ksnprintf(o->note, sizeof(o->note), "HPET %s (%llu kHz, %llu.%llu%% apart over %u ms%s)",
              agree ? "agrees" : "DISAGREES", (unsigned long long)(hpet_hz / 1000),
              (unsigned long long)apart / 10, (unsigned long long)apart % 10, (unsigned)ms,
              attempt > 1 ? (agree ? ", after disturbed measurements were repeated over longer windows"
                                   : ", at every window from 10 ms")
                          : "");
}

int tsc_calibrate_clocks(const struct tsc_clocks *c, struct tsc_calibration *o)
{
    *o = (struct tsc_calibration){0};
    o->cpuid_hz = tsc_hz_from_cpuid(c->has_leaf15, c->leaf15, c->has_leaf16, c->leaf16_base_mhz);
    measure(c, o);
    bool cpuid_ok = plausible(o->cpuid_hz), timer_ok = plausible(o->measured_hz);
    if (cpuid_ok && timer_ok) {
        uint64_t apart = permille_apart(o->cpuid_hz, o->measured_hz);
        if (apart <= AGREE_PERMILLE) {
            o->hz = o->cpuid_hz;
            o->source = "CPUID 15h/16h";
            ksnprintf(o->note, sizeof(o->note), "%s agrees (%llu.%llu%% apart)", o->timer,
                      (unsigned long long)apart / 10, (unsigned long long)apart % 10);
        } else {
            /* A clock measured beats a number reported: hypervisors and
             * some firmware report leaves that do not match the TSC. */
            o->hz = o->measured_hz;
            o->source = o->timer;
            ksnprintf(o->note, sizeof(o->note),
                      "CPUID says %llu kHz but %s measures %llu kHz: using the measurement",
                      (unsigned long long)(o->cpuid_hz / 1000), o->timer,
                      (unsigned long long)(o->measured_hz / 1000));
        }
        return 0;
    }
    if (cpuid_ok || timer_ok) {
        o->hz = cpuid_ok ? o->cpuid_hz : o->measured_hz;
        o->source = cpuid_ok ? "CPUID 15h/16h" : o->timer;
        const char *other = cpuid_ok ? o->timer : (o->cpuid_hz ? "CPUID 15h/16h" : NULL);
        uint64_t other_hz = cpuid_ok ? o->measured_hz : o->cpuid_hz;
        if (other)
            ksnprintf(o->note, sizeof(o->note), "%s gave %llu Hz, not a CPU's rate: ignored",
                      other, (unsigned long long)other_hz);
        else
            cross_check_timers(c, o);
        return 0;
    }
    if (o->timer)
        ksnprintf(o->note, sizeof(o->note),
                  "%s gives a TSC rate of %llu Hz%s%s: no CPU runs at that rate, the clock is "
                  "broken",
                  o->timer, (unsigned long long)o->measured_hz,
                  o->cpuid_hz ? " and CPUID says " : "",
                  o->cpuid_hz ? "another impossible rate" : "");
    else if (o->cpuid_hz)
        ksnprintf(o->note, sizeof(o->note),
                  "CPUID 15h/16h gives %llu Hz and no timer ticks (PM timer, HPET, PIT)",
                  (unsigned long long)o->cpuid_hz);
    else
        ksnprintf(o->note, sizeof(o->note),
                  "no clock: CPUID 15h/16h say nothing and no timer ticks (PM timer, HPET, PIT)");
    return -1;
}
