/* Time: the TSC, calibrated against the ACPI PM timer (or the PIT), and
 * deadlines.  Every wait on hardware in vtdsync goes through WAIT_FOR so it
 * is bounded and says what it was waiting for when it gives up. */
#ifndef ARCH_X86_TSC_H
#define ARCH_X86_TSC_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cpu.h"

extern uint64_t tsc_hz; /* ticks per second; a 2 GHz guess until calibrated */
extern const char *tsc_source; /* what it was calibrated against */
extern uint64_t tsc_boot; /* TSC when kmain started */

/* Calibrate against the PM timer at I/O port pm_port (24- or 32-bit), or
 * against PIT channel 2 when pm_port is 0.  Returns the measured Hz. */
uint64_t tsc_calibrate(uint16_t pm_port, bool pm_32bit);
/* Measure the TSC against the PM timer over ms milliseconds (for the boot
 * suite's cross-check). Returns Hz, or 0 without a PM timer. */
uint64_t tsc_measure_against_pm(uint16_t pm_port, bool pm_32bit, uint32_t ms);

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
