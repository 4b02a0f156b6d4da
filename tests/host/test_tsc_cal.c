// HOST-DEPS: lib/printf.c arch/x86/tsc_cal.c acpi/fadt.c acpi/table.c acpi/diag.c
/* TSC calibration against simulated clocks: CPUID 15h/16h decoding, the
 * PM timer (24/32-bit, I/O or MMIO as the FADT places it), the HPET, the
 * PIT fallback, cross-checks, and the bounds that keep a dead or gated
 * timer from stalling start-up or yielding a rate no CPU has.
 *
 * The simulated machine keeps virtual time in nanoseconds; every clock read
 * costs time as a port or MMIO read does on hardware. */
#include "acpi/fadt.h"
#include "arch/x86/tsc_cal.h"
#include "tests/host/check.h"

#include <string.h>

CHECK_STATE_DEFINE;

struct sim {
    uint64_t now_ns;
    uint64_t tsc_hz;
    uint64_t pm_hz;       /* PM_TIMER_HZ when healthy; 0: stopped */
    uint32_t pm_start;    /* counter value at time 0 (wrap tests) */
    bool pm_32bit;
    uint64_t hpet_fs;     /* period; 0: no HPET */
    uint64_t hpet_start;
    uint64_t hpet_mask;
    bool hpet_stopped;
    bool pit;             /* a PIT exists */
    bool pit_gated;       /* its clock never runs */
    uint64_t pit_started_ns;
    unsigned pit_stops;
    /* A host that deschedules the CPU: a PM read that comes at least
     * pm_stall_period_ns after the previous stall ended waits pm_stall_ns
     * before it samples the counter (QEMU: an I/O read waiting for its lock
     * while the host runs something else). */
    uint64_t pm_stall_ns, pm_stall_period_ns, pm_next_stall_ns;
    unsigned pm_stalls;
    /* The same for HPET reads. */
    uint64_t hpet_stall_ns, hpet_stall_period_ns, hpet_next_stall_ns;
    unsigned hpet_stalls;
};

static uint64_t sim_rdtsc(void *ctx)
{
    struct sim *s = ctx;
    s->now_ns += 10;
    return (uint64_t)((unsigned __int128)s->now_ns * s->tsc_hz / 1000000000u);
}

static uint32_t sim_pm(void *ctx)
{
    struct sim *s = ctx;
    if (s->pm_stall_ns && s->now_ns >= s->pm_next_stall_ns) {
        s->now_ns += s->pm_stall_ns;
        s->pm_next_stall_ns = s->now_ns + s->pm_stall_period_ns;
        s->pm_stalls++;
    }
    s->now_ns += 700; /* an I/O read */
    uint64_t ticks = (uint64_t)((unsigned __int128)s->now_ns * s->pm_hz / 1000000000u);
    return (uint32_t)(s->pm_start + ticks) & (s->pm_32bit ? 0xffffffffu : 0xffffffu);
}

static uint64_t sim_hpet(void *ctx)
{
    struct sim *s = ctx;
    if (s->hpet_stall_ns && s->now_ns >= s->hpet_next_stall_ns) {
        s->now_ns += s->hpet_stall_ns;
        s->hpet_next_stall_ns = s->now_ns + s->hpet_stall_period_ns;
        s->hpet_stalls++;
    }
    s->now_ns += 200;
    uint64_t ticks = s->hpet_stopped ? 0 : s->now_ns * 1000000u / s->hpet_fs;
    return (s->hpet_start + ticks) & s->hpet_mask;
}

static void sim_pit_start(void *ctx)
{
    struct sim *s = ctx;
    s->now_ns += 4000;
    s->pit_started_ns = s->now_ns;
}

static bool sim_pit_done(void *ctx)
{
    struct sim *s = ctx;
    s->now_ns += 1000;
    if (s->pit_gated)
        return false;
    return (s->now_ns - s->pit_started_ns) * PIT_HZ / 1000000000u >= 0xffff;
}

static void sim_pit_stop(void *ctx)
{
    ((struct sim *)ctx)->pit_stops++;
}

/* A machine at 2.592 GHz with the clocks `s` describes. */
static struct tsc_clocks clocks(struct sim *s)
{
    struct tsc_clocks c = {.ctx = s, .rdtsc = sim_rdtsc};
    if (!s->tsc_hz)
        s->tsc_hz = 2592000000u;
    if (s->pm_hz || s->pm_32bit) {
        c.pm_read = sim_pm;
        c.pm_32bit = s->pm_32bit;
        c.pm_name = "ACPI PM timer at I/O 0x608";
    }
    if (s->hpet_fs) {
        c.hpet_read = sim_hpet;
        c.hpet_fs_per_tick = s->hpet_fs;
        if (!s->hpet_mask)
            s->hpet_mask = ~0ull;
        c.hpet_mask = s->hpet_mask;
    }
    if (s->pit) {
        c.pit_start = sim_pit_start;
        c.pit_done = sim_pit_done;
        c.pit_stop = sim_pit_stop;
    }
    return c;
}

static bool within_permille(uint64_t got, uint64_t want, uint64_t permille)
{
    uint64_t d = got > want ? got - want : want - got;
    return d * 1000 <= want * permille;
}

/* ---- CPUID ------------------------------------------------------------------- */

TEST(cpuid_15h_ratio_and_crystal)
{
    const uint32_t l15[3] = {2, 216, 24000000}; /* 24 MHz crystal x 108 */
    CHECK_EQ_U64(tsc_hz_from_cpuid(true, l15, false, 0), 2592000000u);
}

TEST(cpuid_15h_without_crystal_uses_16h_base)
{
    const uint32_t l15[3] = {2, 216, 0};
    CHECK_EQ_U64(tsc_hz_from_cpuid(true, l15, true, 2592), 2592000000u);
    CHECK_EQ_U64(tsc_hz_from_cpuid(true, l15, false, 0), 0);
}

TEST(cpuid_16h_alone_and_nothing)
{
    const uint32_t none[3] = {0, 0, 0};
    CHECK_EQ_U64(tsc_hz_from_cpuid(false, none, true, 3000), 3000000000u);
    CHECK_EQ_U64(tsc_hz_from_cpuid(true, none, true, 0), 0);
    CHECK_EQ_U64(tsc_hz_from_cpuid(false, none, false, 0), 0);
}

TEST(cpuid_checked_by_pm_timer_agrees)
{
    struct sim s = {.pm_hz = PM_TIMER_HZ};
    struct tsc_clocks c = clocks(&s);
    c.has_leaf15 = true;
    memcpy(c.leaf15, (uint32_t[3]){2, 216, 24000000}, sizeof(c.leaf15));
    struct tsc_calibration cal;
    CHECK(tsc_calibrate_clocks(&c, &cal) == 0, "calibrates");
    CHECK_EQ_U64(cal.hz, 2592000000u); /* CPUID's exact figure is kept */
    CHECK(!strcmp(cal.source, "CPUID 15h/16h"), "source %s", cal.source);
    CHECK(strstr(cal.note, "ACPI PM timer at I/O 0x608 agrees"), "note %s", cal.note);
}

TEST(cpuid_that_disagrees_loses_to_the_measurement)
{
    struct sim s = {.pm_hz = PM_TIMER_HZ};
    struct tsc_clocks c = clocks(&s);
    c.has_leaf16 = true;
    c.leaf16_base_mhz = 3000; /* a hypervisor's leaf: the clock runs at 2.592 GHz */
    struct tsc_calibration cal;
    CHECK(tsc_calibrate_clocks(&c, &cal) == 0, "calibrates");
    CHECK(within_permille(cal.hz, s.tsc_hz, 5), "hz %llu", (unsigned long long)cal.hz);
    CHECK(strstr(cal.note, "CPUID says 3000000 kHz") && strstr(cal.note, "using the measurement"),
          "note %s", cal.note);
}

/* ---- timers ------------------------------------------------------------------- */

TEST(pm_timer_24bit_across_a_wrap)
{
    struct sim s = {.pm_hz = PM_TIMER_HZ, .pm_start = 0xfff000};
    struct tsc_clocks c = clocks(&s);
    struct tsc_calibration cal;
    CHECK(tsc_calibrate_clocks(&c, &cal) == 0, "calibrates");
    CHECK(within_permille(cal.hz, s.tsc_hz, 5), "hz %llu", (unsigned long long)cal.hz);
    CHECK(!strcmp(cal.source, "ACPI PM timer at I/O 0x608"), "source %s", cal.source);
    CHECK(strstr(cal.note, "no second clock"), "note %s", cal.note);
}

TEST(pm_timer_32bit_checked_by_hpet)
{
    struct sim s = {.pm_hz = PM_TIMER_HZ, .pm_32bit = true, .pm_start = 0xffffff00u,
                    .hpet_fs = 69841279 /* QEMU's 14.318 MHz */};
    struct tsc_clocks c = clocks(&s);
    struct tsc_calibration cal;
    CHECK(tsc_calibrate_clocks(&c, &cal) == 0, "calibrates");
    CHECK(within_permille(cal.hz, s.tsc_hz, 5), "hz %llu", (unsigned long long)cal.hz);
    CHECK(strstr(cal.note, "HPET agrees"), "note %s", cal.note);
}

/* smp-72 under load: 10 ms PM-timer windows read about half the rate while
 * the HPET was right.  A read that stalls (here every 6 ms, for 5 ms) must
 * not decide the rate: each end of a span is the quickest of several reads,
 * so the first 10 ms window is already right. */
TEST(disturbed_pm_reads_do_not_decide_the_rate)
{
    struct sim s = {.pm_hz = PM_TIMER_HZ, .hpet_fs = 69841279,
                    .pm_stall_ns = 5000000, .pm_stall_period_ns = 6000000};
    struct tsc_clocks c = clocks(&s);
    struct tsc_calibration cal;
    CHECK(tsc_calibrate_clocks(&c, &cal) == 0, "calibrates");
    CHECK(s.pm_stalls > 0, "the model disturbed the PM timer");
    CHECK(within_permille(cal.hz, s.tsc_hz, 5), "hz %llu, want %llu",
          (unsigned long long)cal.hz, (unsigned long long)s.tsc_hz);
    CHECK(strstr(cal.note, "HPET agrees") && strstr(cal.note, "over 10 ms)"), "note %s",
          cal.note);
}

/* A disturbance of fixed length that no re-read avoids (here an HPET read
 * stalls 2 ms before it samples, every 5 ms, the first read of each span
 * among them) weighs less in a longer window: the cross-check repeats over windows twice as long until
 * the timers agree, and keeps the PM timer's rate. */
TEST(disagreeing_timers_repeated_over_longer_windows)
{
    struct sim s = {.pm_hz = PM_TIMER_HZ, .hpet_fs = 69841279,
                    .hpet_stall_ns = 2000000, .hpet_stall_period_ns = 5000000};
    struct tsc_clocks c = clocks(&s);
    struct tsc_calibration cal;
    CHECK(tsc_calibrate_clocks(&c, &cal) == 0, "calibrates");
    CHECK(s.hpet_stalls > 1, "the model disturbed the HPET (%u stalls)", s.hpet_stalls);
    CHECK(within_permille(cal.hz, s.tsc_hz, 5), "hz %llu, want %llu",
          (unsigned long long)cal.hz, (unsigned long long)s.tsc_hz);
    CHECK(strstr(cal.note, "HPET agrees") && strstr(cal.note, "longer windows"), "note %s",
          cal.note);
}

TEST(hpet_32bit_counter_alone_across_a_wrap)
{
    struct sim s = {.hpet_fs = 41666667 /* 24 MHz */, .hpet_mask = 0xffffffffu,
                    .hpet_start = 0xfffff000u};
    struct tsc_clocks c = clocks(&s);
    struct tsc_calibration cal;
    CHECK(tsc_calibrate_clocks(&c, &cal) == 0, "calibrates");
    CHECK(within_permille(cal.hz, s.tsc_hz, 5), "hz %llu", (unsigned long long)cal.hz);
    CHECK(!strcmp(cal.source, "HPET"), "source %s", cal.source);
}

TEST(pit_fallback)
{
    struct sim s = {.pit = true};
    struct tsc_clocks c = clocks(&s);
    struct tsc_calibration cal;
    CHECK(tsc_calibrate_clocks(&c, &cal) == 0, "calibrates");
    CHECK(within_permille(cal.hz, s.tsc_hz, 10), "hz %llu", (unsigned long long)cal.hz);
    CHECK(!strcmp(cal.source, "PIT channel 2"), "source %s", cal.source);
    CHECK(s.pit_stops == 1, "speaker gate restored once, not %u", s.pit_stops);
}

/* A clock-gated PIT used to spin 10^8 port reads (about 100 s) and then
 * accept a rate of THz. */
TEST(gated_pit_is_bounded_and_refused)
{
    struct sim s = {.pit = true, .pit_gated = true};
    struct tsc_clocks c = clocks(&s);
    struct tsc_calibration cal;
    CHECK(tsc_calibrate_clocks(&c, &cal) == -1, "no clock: refused");
    CHECK(cal.hz == 0, "hz %llu", (unsigned long long)cal.hz);
    CHECK(strstr(cal.note, "no timer ticks"), "note %s", cal.note);
    CHECK(s.now_ns < 1000000000u, "gave up after %llu ms", (unsigned long long)s.now_ns / 1000000);
    CHECK(s.pit_stops == 1, "speaker gate restored");
}

TEST(gated_pit_with_cpuid_keeps_cpuid)
{
    struct sim s = {.pit = true, .pit_gated = true};
    struct tsc_clocks c = clocks(&s);
    c.has_leaf16 = true;
    c.leaf16_base_mhz = 2592;
    struct tsc_calibration cal;
    CHECK(tsc_calibrate_clocks(&c, &cal) == 0, "calibrates");
    CHECK_EQ_U64(cal.hz, 2592000000u);
    CHECK(strstr(cal.note, "no second clock"), "note %s", cal.note);
}

TEST(stopped_pm_timer_falls_back_within_bounds)
{
    struct sim s = {.pm_32bit = true /* present, pm_hz 0: stopped */, .pit = true};
    struct tsc_clocks c = clocks(&s);
    struct tsc_calibration cal;
    CHECK(tsc_calibrate_clocks(&c, &cal) == 0, "calibrates");
    CHECK(!strcmp(cal.source, "PIT channel 2"), "source %s", cal.source);
    CHECK(within_permille(cal.hz, s.tsc_hz, 10), "hz %llu", (unsigned long long)cal.hz);
    CHECK(s.now_ns < 1000000000u, "took %llu ms", (unsigned long long)s.now_ns / 1000000);
}

/* A timer that ticks 1000 times too slowly makes the TSC look like THz. */
TEST(absurd_rate_names_the_clock)
{
    struct sim s = {.pm_hz = PM_TIMER_HZ / 1000};
    struct tsc_clocks c = clocks(&s);
    struct tsc_calibration cal;
    CHECK(tsc_calibrate_clocks(&c, &cal) == -1, "refused");
    CHECK(strstr(cal.note, "ACPI PM timer at I/O 0x608 gives a TSC rate of") &&
              strstr(cal.note, "no CPU runs at that rate"),
          "note %s", cal.note);
    CHECK(s.now_ns < 5000000000u, "took %llu ms", (unsigned long long)s.now_ns / 1000000);
}

TEST(absurd_cpuid_is_ignored)
{
    struct sim s = {.pm_hz = PM_TIMER_HZ};
    struct tsc_clocks c = clocks(&s);
    c.has_leaf15 = true;
    memcpy(c.leaf15, (uint32_t[3]){1, 1000, 24000000}, sizeof(c.leaf15)); /* 24 GHz */
    struct tsc_calibration cal;
    CHECK(tsc_calibrate_clocks(&c, &cal) == 0, "calibrates");
    CHECK(within_permille(cal.hz, s.tsc_hz, 5), "hz %llu", (unsigned long long)cal.hz);
    CHECK(strstr(cal.note, "CPUID 15h/16h gave 24000000000 Hz, not a CPU's rate"), "note %s",
          cal.note);
}

/* ---- where the FADT puts the PM timer --------------------------------------------- */

static struct fadt_info fadt_with(uint8_t space, uint64_t address)
{
    struct fadt_info f = {0};
    f.pm_timer_present = true;
    f.pm_timer.space_id = space;
    f.pm_timer.address = address;
    return f;
}

TEST(pm_timer_in_io_space)
{
    uint16_t port;
    uint64_t mmio;
    struct fadt_info f = fadt_with(ACPI_GAS_IO, 0x608);
    CHECK(fadt_pm_timer_where(&f, &port, &mmio) && port == 0x608 && !mmio, "port %#x", port);
    f = fadt_with(ACPI_GAS_IO, 0x1fff8);
    CHECK(!fadt_pm_timer_where(&f, &port, &mmio), "port above 64 KiB refused");
}

TEST(pm_timer_in_memory_space)
{
    uint16_t port;
    uint64_t mmio;
    struct fadt_info f = fadt_with(ACPI_GAS_MEMORY, 0xfe00d008);
    CHECK(fadt_pm_timer_where(&f, &port, &mmio) && !port && mmio == 0xfe00d008, "mmio %#llx",
          (unsigned long long)mmio);
    f = fadt_with(ACPI_GAS_MEMORY, 0xfe00d00a);
    CHECK(!fadt_pm_timer_where(&f, &port, &mmio), "misaligned register refused");
    f = fadt_with(2 /* PCI config */, 0x608);
    CHECK(!fadt_pm_timer_where(&f, &port, &mmio), "other spaces refused");
    f.pm_timer_present = false;
    CHECK(!fadt_pm_timer_where(&f, &port, &mmio), "absent");
}

int main(void)
{
    RUN(cpuid_15h_ratio_and_crystal);
    RUN(cpuid_15h_without_crystal_uses_16h_base);
    RUN(cpuid_16h_alone_and_nothing);
    RUN(cpuid_checked_by_pm_timer_agrees);
    RUN(disturbed_pm_reads_do_not_decide_the_rate);
    RUN(disagreeing_timers_repeated_over_longer_windows);
    RUN(cpuid_that_disagrees_loses_to_the_measurement);
    RUN(pm_timer_24bit_across_a_wrap);
    RUN(pm_timer_32bit_checked_by_hpet);
    RUN(hpet_32bit_counter_alone_across_a_wrap);
    RUN(pit_fallback);
    RUN(gated_pit_is_bounded_and_refused);
    RUN(gated_pit_with_cpuid_keeps_cpuid);
    RUN(stopped_pm_timer_falls_back_within_bounds);
    RUN(absurd_rate_names_the_clock);
    RUN(absurd_cpuid_is_ignored);
    RUN(pm_timer_in_io_space);
    RUN(pm_timer_in_memory_space);
    return check_finish();
}
