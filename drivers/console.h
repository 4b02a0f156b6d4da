/* The console: every line goes to the serial port(s) and the screen. */
#ifndef DRIVERS_CONSOLE_H
#define DRIVERS_CONSOLE_H

#include <stddef.h>

#include "boot/boot_info.h"
#include "drivers/serial.h"

/* Start with COM1 so that anything printed before ACPI is parsed is seen. */
void console_early_init(void);
/* Switch to `u` (from console= or SPCR); COM1 stays if u is NULL. */
void console_use_uart(const struct uart *u);
void console_attach_fb(const struct framebuffer *fb);
void console_write(const char *s, size_t len);
/* Wait (bounded) until the UART has sent everything. */
void console_flush(void);
/* Describes the serial console for the log header. */
const char *console_describe(void);
/* Show a large banner line on screen only (the final PASS/FAIL). */
void console_screen_banner(const char *text, int good);

#endif
