/* A text console on the GOP framebuffer (32 bits per pixel). */
#ifndef DRIVERS_FBCON_H
#define DRIVERS_FBCON_H

#include <stdbool.h>
#include <stddef.h>

#include "boot/boot_info.h"

bool fbcon_init(const struct framebuffer *fb);
void fbcon_write(const char *s, size_t len);
/* A large one-line banner at the bottom of the screen. */
void fbcon_banner(const char *text, bool good);
/* Fixed header rows under the status line (machine, firmware, CPU, units);
 * the log wraps below them. */
void fbcon_header(const char *const *lines, unsigned n);
/* Fixed status line at the top (live progress); NULL clears it. */
void fbcon_status(const char *text);

#endif
