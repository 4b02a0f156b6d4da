/* Host tests: collect everything kprintf prints, for checks on the exact
 * output.  Header-only; one buffer per test program. */
#ifndef TESTS_HOST_CAPTURE_H
#define TESTS_HOST_CAPTURE_H

#include <stdbool.h>
#include <string.h>

#include "lib/printf.h"

static char capture_out[8192];
static size_t capture_len;

static void capture_sink(const char *s, size_t len)
{
    if (capture_len + len < sizeof(capture_out)) {
        memcpy(capture_out + capture_len, s, len);
        capture_len += len;
        capture_out[capture_len] = '\0';
    }
}

static inline void capture_start(void)
{
    capture_len = 0;
    capture_out[0] = '\0';
    printf_set_sink(capture_sink);
}

static inline void capture_stop(void)
{
    printf_set_sink(NULL);
}

/* line (without its newline) is one whole line of the captured output. */
static inline bool capture_has_line(const char *line)
{
    size_t n = strlen(line);
    for (const char *p = capture_out; (p = strstr(p, line)) != NULL; p++)
        if ((p == capture_out || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

#endif
