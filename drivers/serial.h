/* 16550-compatible UART on I/O ports or MMIO (ACPI SPCR describes both). */
#ifndef DRIVERS_SERIAL_H
#define DRIVERS_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

struct uart {
    bool mmio;
    uint64_t base;      /* I/O port or physical address */
    uint32_t reg_width; /* MMIO register stride in bytes: 1 or 4 */
    uint32_t baud;      /* 0: leave the divisor as the firmware set it */
    uint32_t clock_hz;  /* UART input clock; 0: the PC's 1.8432 MHz */
    bool present;
    char desc[80];
};

/* Program 8N1 and the baud rate; detects whether a UART answers.  With
 * baud 0 the firmware's divisor stays (u->baud then says what it gives),
 * unless it is 0: then 115200. */
bool serial_init(struct uart *u);
void serial_write(struct uart *u, const char *s, uint64_t len);
/* Wait until the transmitter is empty (bounded: ~20 ms). */
void serial_flush(struct uart *u);
/* Parse "com1", "com2", "io:0x3f8[,115200]", "mmio:0xfe030000[,115200[,4]]". */
bool serial_parse(const char *spec, struct uart *u);

#endif
