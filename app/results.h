/* The result summary kept in an EFI variable (VtdsyncResult): this run's
 * verdict and counts, the report of a previous run that did not finish, and
 * the last RESULTS_HISTORY_MAX runs' verdicts (history= lines). */
#ifndef APP_RESULTS_H
#define APP_RESULTS_H

#include "app/run.h"

/* Record a case failure name for the summary (first few are kept). */
void results_note_failure(const char *suite, const char *name);
void results_save(enum exit_code code, const char *reason);
/* Print the previous run's variable, if any, as diagnostics. */
void results_print_previous(void);
/* The previous run's variable as text ("" when there is none). */
const char *results_previous(void);
/* A previous run did not finish (checkpoint.c): keep `report` for this
 * run's results and add `entry` to the history now, so that it survives
 * even if this run dies too. */
void results_keep_unfinished(const char *report, const char *entry);
/* The soak's figures, for this run's history entry ("4191 updates, 0
 * failed, 803 resets"). */
void results_note_soak(const char *figures);

#endif
