/* What a 16550 console needs before it is touched: the divisor for a baud
 * rate from the UART's input clock, and the settings ACPI SPCR gives.
 * Portable (no port or MMIO access), so tests/host checks every variant. */
#ifndef DRIVERS_UART_SETUP_H
#define DRIVERS_UART_SETUP_H

#include <stddef.h>
#include <stdint.h>

#include "acpi/spcr.h"
#include "drivers/serial.h"
#include "lib/why.h"

/* The PC's classic UART clock (16 x 115200 Hz); SPCR revision 3+ may give
 * another one (LPSS and BMC UARTs run at tens of MHz). */
#define UART_DEFAULT_CLOCK_HZ 1843200u
/* Farther than this from the wanted rate, the far end reads garbage. */
#define UART_MAX_ERROR_PERMILLE 30

/* The divisor latch value for `baud` with a `clock_hz` input clock (16x
 * oversampling), rounded to the nearest; *actual gets the rate it gives.
 * 0 when no 16-bit divisor comes within UART_MAX_ERROR_PERMILLE. */
uint32_t uart_divisor(uint32_t clock_hz, uint32_t baud, uint32_t *actual);

/* The UART an SPCR describes: port or MMIO address, register stride from the
 * access width, baud rate (0: keep the firmware's), input clock.  False,
 * with why, when the console cannot be driven as described. */
bool uart_from_spcr(const struct spcr_info *s, struct uart *u, struct why *why);

#endif
