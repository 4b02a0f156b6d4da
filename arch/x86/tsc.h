/* Time: the TSC, calibrated against the ACPI PM timer (or the PIT), and
 * deadlines.  Every wait on hardware in vtdsync goes through WAIT_FOR so it
 * is bounded and says what it was waiting for when it gives up. */
#ifndef ARCH_X86_TSC_H
#define ARCH_X86_TSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/cpu.h"
#include "lib/why.h"

extern uint64_t tsc_hz; /* ticks per second; a 2 GHz guess until calibrated */
extern const char *tsc_source; /* what it was calibrated against */
extern uint64_t tsc_boot; /* TSC when kmain started */

/* The fixed-rate timers ACPI describes (mapped where they are MMIO). */
struct tsc_timers {
    uint16_t pm_port; /* ACPI PM timer in I/O space, 0 if not there */
    uint64_t pm_mmio; /* ACPI PM timer in memory space, 0 if not there */
    bool pm_32bit;    /* 32-bit counter (FADT TMR_VAL_EXT), else 24-bit */
    uint64_t hpet_base; /* HPET register block, 0 if none */
};

/* Sets tsc_hz and tsc_source from CPUID 15h/16h and the best timer, cross-
 * checked (arch/x86/tsc_cal.h).  False, with why naming the clock, when no
 * believable rate exists: every deadline would be wrong, so the caller
 * must end the run. */
bool tsc_calibrate(const struct tsc_timers *t, struct why *why);
/* Measure the TSC against the PM timer over ms milliseconds (for the boot
 * suite's cross-check). Returns Hz, or 0 without a PM timer. */
uint64_t tsc_measure_against_pm(const struct tsc_timers *t, uint32_t ms);

static inline uint64_t us_to_ticks(uint64_t us)
{
    return us * (tsc_hz / 1000000);
}
static inline uint64_t ticks_to_us(uint64_t ticks)
{
    return ticks / (tsc_hz / 1000000 ? tsc_hz / 1000000 : 1);
}
static inline uint64_t deadline_after_us(uint64_t us)
{
    return rdtsc() + us_to_ticks(us);
}
static inline bool deadline_passed(uint64_t deadline)
{
    return (int64_t)(rdtsc() - deadline) >= 0;
}
static inline uint64_t uptime_us(void)
{
    return ticks_to_us(rdtsc() - tsc_boot);
}
void udelay(uint64_t us);

/* The last hardware wait that started, for the watchdog's report. */
extern const char *volatile wait_last_what;
void wait_timed_out(const char *what, uint64_t us);

/* Poll `cond` until it holds or `us` microseconds pass; true if it held.
 * On a timeout, prints "# timeout after N us waiting for <what>". */
#define WAIT_FOR(cond, us, what)                                               \
    ({                                                                         \
        uint64_t wait_dl_ = deadline_after_us(us);                             \
        bool wait_ok_;                                                         \
        wait_last_what = (what);                                               \
        while (!(wait_ok_ = (cond)) && !deadline_passed(wait_dl_))             \
            cpu_relax();                                                       \
        if (!wait_ok_)                                                         \
            wait_ok_ = (cond);                                                 \
        if (!wait_ok_)                                                         \
            wait_timed_out((what), (us));                                      \
        wait_ok_;                                                              \
    })

#endif
