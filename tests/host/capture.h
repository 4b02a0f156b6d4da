/* Capturing what the code under test prints through kprintf (host tests). */
#ifndef TESTS_HOST_CAPTURE_H
#define TESTS_HOST_CAPTURE_H

#include <string.h>

#include "lib/printf.h"

static char out[16384];
static size_t out_len;

static inline void capture(const char *s, size_t len)
{
    if (out_len + len < sizeof(out)) {
        memcpy(out + out_len, s, len);
        out_len += len;
        out[out_len] = '\0';
    }
}

static inline void start_capture(void)
{
    out_len = 0;
    out[0] = '\0';
    printf_set_sink(capture);
}

static inline void stop_capture(void)
{
    printf_set_sink(NULL);
}

#endif
