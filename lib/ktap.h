/* KTAP version 1 reporter.
 *
 * The run is one top-level KTAP document whose tests are the suites; each
 * suite is a subtest whose tests are the cases, indented four spaces as
 * KUnit prints them (the KTAP spec says two; parsers accept both).  Each
 * plan comes right after its version line, or is left out where the count
 * is not known up front (KTAP v1 has no trailing plan).  The run ends with one line "N passed, N failed, N skipped"
 * counting cases.  Output goes through kprintf, so the same code runs on
 * the host. */
#ifndef LIB_KTAP_H
#define LIB_KTAP_H

#include <stdbool.h>

#include "lib/printf.h"

enum ktap_result { KTAP_PASS, KTAP_FAIL, KTAP_SKIP };

struct ktap_totals {
    int passed, failed, skipped;
};

/* The first line of the run; header diagnostics may follow it. */
void ktap_version(void);
/* The plan: how many suites follow. */
void ktap_begin(int nsuites);
/* ncases < 0: the count is not known up front, and the suite has no plan. */
void ktap_suite_begin(const char *name, int ncases);
/* Reason: for SKIP the skip reason, for FAIL an optional short cause. */
void ktap_case(enum ktap_result r, const char *name, const char *reason_fmt, ...)
    PRINTF_LIKE(3, 4);
/* A whole suite skipped without cases (e.g. no IOMMU). */
void ktap_suite_skip(const char *name, const char *reason);
/* A suite that could not run for a reason that is a failure of its own
 * (e.g. a remapping unit the firmware lists would not come up). */
void ktap_suite_fail(const char *name, const char *reason);
void ktap_suite_end(void);
/* "# " diagnostic at the current nesting level. */
void ktap_diag(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Ends the run early.  The case in progress is reported "not ok" with the
 * KTAP directive given (TIMEOUT for the watchdog, ERROR for a crash) and the
 * reason (a top-level test of its own between suites), then its suite; the
 * tests a plan promised that never ran are skipped, then "Bail out! reason". */
void ktap_bail_out(const char *directive, const char *reason);
void ktap_totals(struct ktap_totals *t);
/* Name of the suite/case in progress, for crash and watchdog reports. */
const char *ktap_current_suite(void);
/* Prints the final "N passed, N failed, N skipped" line. */
void ktap_end(void);
/* Reset all state (host tests). */
void ktap_reset(void);

#endif
