/* TSC rate: where it comes from and whether it can be believed.
 *
 * Every deadline and the watchdog hang on this one number, so it is taken
 * from the best source a machine has and checked against a second one:
 *
 *   1. CPUID 15h (TSC/crystal ratio and crystal clock), with CPUID 16h's
 *      base frequency standing in for a crystal clock of 0;
 *   2. a measurement against a fixed-rate timer: the ACPI PM timer (I/O or
 *      MMIO, 3.579545 MHz), else the HPET main counter, else PIT channel 2.
 *
 * When both exist, the measurement checks CPUID (hypervisors are known to
 * report leaves that do not match the clock they give).  Every timer loop is
 * bounded in iterations and in TSC ticks at the fastest rate a CPU could
 * have, so a clock-gated PIT or a stopped PM timer costs milliseconds, not
 * minutes.  A result outside TSC_MIN_HZ..TSC_MAX_HZ is refused with a
 * message that names the clock that gave it.
 *
 * Portable: the caller supplies the clocks through struct tsc_clocks
 * (arch/x86/tsc.c on the machine, simulated clocks in tests/host). */
#ifndef ARCH_X86_TSC_CAL_H
#define ARCH_X86_TSC_CAL_H

#include <stdbool.h>
#include <stdint.h>

#define TSC_MIN_HZ 100000000ull    /* 100 MHz: slower than any x86 with a TSC */
#define TSC_MAX_HZ 10000000000ull  /* 10 GHz: faster than any shipping CPU */
#define PM_TIMER_HZ 3579545ull
#define PIT_HZ 1193182ull

struct tsc_clocks {
    void *ctx;
    uint64_t (*rdtsc)(void *ctx);
    /* CPUID leaves 15h (eax denominator, ebx numerator, ecx crystal Hz) and
     * 16h (eax base MHz); has_* false when the CPU's maximum leaf is lower. */
    bool has_leaf15, has_leaf16;
    uint32_t leaf15[3];
    uint32_t leaf16_base_mhz;
    /* ACPI PM timer, NULL when the FADT gives none. */
    uint32_t (*pm_read)(void *ctx);
    bool pm_32bit;
    const char *pm_name; /* e.g. "ACPI PM timer (I/O 0x608)" */
    /* HPET main counter (already running), NULL when absent. */
    uint64_t (*hpet_read)(void *ctx);
    uint64_t hpet_fs_per_tick; /* femtoseconds per counter tick (GCAP_ID 63:32) */
    uint64_t hpet_mask;        /* counter width: ~0 for 64 bits, 0xffffffff for 32 */
    /* PIT channel 2 one-shot of 0xffff ticks: start it, then poll for its
     * output going high; stop restores the speaker gate.  NULL: no PIT. */
    void (*pit_start)(void *ctx);
    bool (*pit_done)(void *ctx);
    void (*pit_stop)(void *ctx);
};

struct tsc_calibration {
    uint64_t hz;          /* the rate to use; 0 when none could be believed */
    const char *source;   /* the clock hz came from */
    uint64_t cpuid_hz;    /* what CPUID says, 0 when it says nothing */
    uint64_t measured_hz; /* what the timer measured, 0 when none did */
    const char *timer;    /* the timer that measured, NULL when none */
    char note[200];       /* the cross-check, or why the rate was refused */
};

/* TSC Hz from CPUID 15h/16h, 0 when they do not determine it. */
uint64_t tsc_hz_from_cpuid(bool has15, const uint32_t leaf15[3], bool has16, uint32_t base_mhz);

/* TSC ticks per second against the PM timer over about `ms`, retrying
 * reads disturbed by SMIs or a busy host; 0 when the timer does not move. */
uint64_t tsc_measure_pm(const struct tsc_clocks *c, uint32_t ms);

/* Fills *out; returns 0, or -1 when no believable rate was found (out->note
 * says which clock gave what). */
int tsc_calibrate_clocks(const struct tsc_clocks *c, struct tsc_calibration *out);

#endif
