/* Diagnostics from the ACPI parsers.
 *
 * Every problem found in a table becomes one KTAP diagnostic line starting
 * with "# " that names the table, the structure (type and offset) and the
 * offending field's offset and value.  A caller that wants to collect or
 * count the lines passes a struct acpi_diag; with NULL (or a NULL fn) the
 * lines go to kprintf. */
#ifndef ACPI_DIAG_H
#define ACPI_DIAG_H

#include "lib/printf.h"

/* line is "# ..." without a trailing newline. */
typedef void (*acpi_diag_fn)(void *ctx, const char *line);

struct acpi_diag {
    acpi_diag_fn fn; /* NULL: print with kprintf */
    void *ctx;
    unsigned count; /* lines reported so far */
};

void acpi_diagf(struct acpi_diag *d, const char *fmt, ...) PRINTF_LIKE(2, 3);

#endif
