/* State of one vtdsync run, shared by the runner and the suites. */
#ifndef APP_RUN_H
#define APP_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "boot/boot_info.h"
#include "lib/config.h"

/* isa-debug-exit codes; QEMU's process status is (code << 1) | 1.
 * tools/qemu-run.py maps them back (33 pass, 35 fail, 37 all skipped,
 * 39 crash, 41 timeout). */
enum exit_code {
    EXIT_PASS = 0x10,
    EXIT_FAIL = 0x11,
    EXIT_ALL_SKIPPED = 0x12,
    EXIT_CRASH = 0x13,
    EXIT_TIMEOUT = 0x14,
};

extern struct config cfg;
extern struct boot_info *boot;

/* End the run: summary, result variable, screen banner, end action. */
void run_finish(void) __attribute__((noreturn));
/* End the run as a crash or a timeout with `reason` (any CPU, any context). */
void run_abort(enum exit_code code, const char *reason) __attribute__((noreturn));

/* Watchdog: a run-wide deadline and a per-suite deadline on the LAPIC
 * timer; when one passes, the run ends as a timeout with a report. */
void watchdog_start(uint32_t run_seconds);
void watchdog_suite(const char *suite, uint32_t seconds);
/* Push the run-wide and suite deadlines (those set) `seconds` later: a
 * soak runs as long as it was asked to. */
void watchdog_extend(uint32_t seconds);

/* Suites register themselves with SUITE() from app/suite.h; the runner
 * never needs editing to add one. */
void suite_boot(void);
void suite_devices(void);

#endif
