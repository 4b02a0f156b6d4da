/* The result summary kept in an EFI variable (VtdsyncResult). */
#ifndef TESTS_RESULTS_H
#define TESTS_RESULTS_H

#include "tests/run.h"

/* Record a case failure name for the summary (first few are kept). */
void results_note_failure(const char *suite, const char *name);
void results_save(enum exit_code code, const char *reason);
/* Print the previous run's variable, if any, as diagnostics. */
void results_print_previous(void);

#endif
