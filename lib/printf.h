/* Freestanding formatted output.
 *
 * Supports %d %i %u %x %X %o %c %s %p %% with flags '-', '0', ' ', '+', '#',
 * width and precision (also '*'), and the length modifiers hh h l ll z t j.
 * kprintf() sends its output to the console sink set by printf_set_sink();
 * host builds set the sink to stdout. */
#ifndef LIB_PRINTF_H
#define LIB_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);

typedef void (*print_sink_fn)(const char *s, size_t len);
void printf_set_sink(print_sink_fn sink);
int kvprintf(const char *fmt, va_list ap);
int kprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);

#endif
