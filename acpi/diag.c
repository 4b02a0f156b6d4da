/* One diagnostic line: format, prefix "# ", hand to the sink. */
#include "acpi/diag.h"

#include <stdarg.h>

void acpi_diagf(struct acpi_diag *d, const char *fmt, ...)
{
    char line[240];
    va_list ap;

    line[0] = '#';
    line[1] = ' ';
    va_start(ap, fmt);
    kvsnprintf(line + 2, sizeof(line) - 2, fmt, ap);
    va_end(ap);

    if (d)
        d->count++;
    if (d && d->fn)
        d->fn(d->ctx, line);
    else
        kprintf("%s\n", line);
}
