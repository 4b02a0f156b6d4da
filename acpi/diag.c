/* One diagnostic line: format, prefix "# ", hand to the sink or print it. */
#include "acpi/diag.h"

#include <stdarg.h>

/* Length of a leading "NAME: " (a table or parser name, no spaces), or 0. */
static size_t name_prefix_len(const char *s)
{
    for (size_t i = 0; s[i] && i < 12; i++) {
        if (s[i] == ' ')
            return 0;
        if (s[i] == ':' && s[i + 1] == ' ')
            return i + 2;
    }
    return 0;
}

void acpi_diag_print(enum acpi_severity sev, const char *line)
{
    if (sev != ACPI_DEFECT || line[0] != '#' || line[1] != ' ') {
        kprintf("%s\n", line);
        return;
    }
    const char *t = line + 2;
    size_t n = name_prefix_len(t);
    kprintf("# %.*sdefect: %s\n", (int)n, t, t + n);
}

static void emit(struct acpi_diag *d, enum acpi_severity sev, const char *fmt, va_list ap)
{
    char line[240];

    line[0] = '#';
    line[1] = ' ';
    kvsnprintf(line + 2, sizeof(line) - 2, fmt, ap);

    if (d) {
        d->count++;
        if (sev == ACPI_DEFECT)
            d->defects++;
    }
    if (d && d->fn)
        d->fn(d->ctx, sev, line);
    else
        acpi_diag_print(sev, line);
}

void acpi_diagf(struct acpi_diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(d, ACPI_DEFECT, fmt, ap);
    va_end(ap);
}

void acpi_notef(struct acpi_diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(d, ACPI_NOTE, fmt, ap);
    va_end(ap);
}
