/* Diagnostics from the ACPI parsers.
 *
 * Every problem found in a table becomes one KTAP diagnostic line starting
 * with "# " that names the table, the structure (type and offset) and the
 * offending field's offset and value.  A caller that wants to collect or
 * count the lines passes a struct acpi_diag; with NULL (or a NULL fn) the
 * lines go to kprintf.
 *
 * Each line has a severity.  A DEFECT is a table that is wrong: the
 * platform suite fails on it.  A NOTE is something a person should know
 * (an absent scope device, a structure vtdsync does not use, a limit of
 * vtdsync) on which real firmware ships and Linux runs: it is printed
 * only.  A printed defect says "defect:" after the table name, so that the
 * two can be told apart in a log. */
#ifndef ACPI_DIAG_H
#define ACPI_DIAG_H

#include "lib/printf.h"

enum acpi_severity { ACPI_NOTE = 0, ACPI_DEFECT = 1 };

/* line is "# ..." without a trailing newline and without the "defect:"
 * marker: the severity is the argument. */
typedef void (*acpi_diag_fn)(void *ctx, enum acpi_severity sev, const char *line);

struct acpi_diag {
    acpi_diag_fn fn; /* NULL: print with kprintf */
    void *ctx;
    unsigned count;   /* lines reported so far (defects + notes) */
    unsigned defects; /* of which defects */
};

/* A defect (every finding was one before severities existed). */
void acpi_diagf(struct acpi_diag *d, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* A note. */
void acpi_notef(struct acpi_diag *d, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Prints a line as a NULL sink does: a defect's says "defect:" after the
 * table name ("# DMAR: defect: ..."). */
void acpi_diag_print(enum acpi_severity sev, const char *line);

#endif
