/* 16550 UART driver: polled transmit with a bounded wait per character. */
#include "drivers/serial.h"
#include "drivers/uart_setup.h"

#include "arch/x86/cpu.h"
#include "lib/kstring.h"
#include "lib/printf.h"
#include "lib/parse.h"

enum { THR = 0, DLL = 0, IER = 1, DLM = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5, SCR = 7 };
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

static uint8_t reg_read(struct uart *u, int reg)
{
    if (!u->mmio)
        return inb((uint16_t)(u->base + reg));
    if (u->reg_width == 4)
        return (uint8_t)mmio_read32(u->base + reg * 4);
    return mmio_read8(u->base + reg);
}

static void reg_write(struct uart *u, int reg, uint8_t v)
{
    if (!u->mmio)
        outb((uint16_t)(u->base + reg), v);
    else if (u->reg_width == 4)
        mmio_write32(u->base + reg * 4, v);
    else
        mmio_write8(u->base + reg, v);
}

bool serial_init(struct uart *u)
{
    if (!u->reg_width)
        u->reg_width = 1;
    /* The scratch register holds what we write when a UART is there. */
    reg_write(u, SCR, 0x5a);
    bool present = reg_read(u, SCR) == 0x5a;
    reg_write(u, SCR, 0xa5);
    present = present && reg_read(u, SCR) == 0xa5;
    u->present = present;
    if (!present)
        return false;
    reg_write(u, IER, 0x00);
    if (!u->clock_hz)
        u->clock_hz = UART_DEFAULT_CLOCK_HZ;
    reg_write(u, LCR, 0x80); /* DLAB: the divisor latch */
    uint32_t div = (uint32_t)reg_read(u, DLL) | (uint32_t)reg_read(u, DLM) << 8, actual = 0;
    if (u->baud)
        div = uart_divisor(u->clock_hz, u->baud, &actual);
    else if (div)
        u->baud = u->clock_hz / 16 / div; /* what the firmware set */
    if (!div) /* unprogrammed, or a rate the clock cannot make */
        div = uart_divisor(u->clock_hz, u->baud = 115200, &actual);
    if (div) {
        reg_write(u, DLL, div & 0xff);
        reg_write(u, DLM, (div >> 8) & 0xff);
    }
    reg_write(u, LCR, 0x03); /* 8N1, DLAB off */
    reg_write(u, FCR, 0x07); /* FIFOs on and cleared */
    reg_write(u, MCR, 0x03); /* DTR, RTS */
    ksnprintf(u->desc, sizeof(u->desc), "%s 0x%llx%s, %u baud%s", u->mmio ? "mmio" : "io",
              (unsigned long long)u->base, u->mmio && u->reg_width == 4 ? " (32-bit regs)" : "",
              u->baud, u->clock_hz != UART_DEFAULT_CLOCK_HZ ? " (custom clock)" : "");
    return true;
}

static void put_char(struct uart *u, char c)
{
    /* ~1 ms at 115200 baud per character at most; a stuck UART costs a
     * bounded delay per character, never a hang. */
    for (int spins = 0; spins < 100000; spins++) {
        if (reg_read(u, LSR) & LSR_THRE)
            break;
        cpu_relax();
    }
    reg_write(u, THR, (uint8_t)c);
}

void serial_flush(struct uart *u)
{
    if (!u->present)
        return;
    for (int spins = 0; spins < 20000 && !(reg_read(u, LSR) & LSR_TEMT); spins++)
        cpu_relax();
}

void serial_write(struct uart *u, const char *s, uint64_t len)
{
    if (!u->present)
        return;
    for (uint64_t i = 0; i < len; i++) {
        if (s[i] == '\n')
            put_char(u, '\r');
        put_char(u, s[i]);
    }
}

bool serial_parse(const char *spec, struct uart *u)
{
    uint64_t v[3] = { 0, 115200, 1 };
    memset(u, 0, sizeof(*u));
    if (!strcmp(spec, "com1") || !strcmp(spec, "com2")) {
        u->base = spec[3] == '1' ? 0x3f8 : 0x2f8;
        u->baud = 115200;
        return true;
    }
    const char *rest;
    if (!strncmp(spec, "io:", 3)) {
        rest = spec + 3;
    } else if (!strncmp(spec, "mmio:", 5)) {
        rest = spec + 5;
        u->mmio = true;
    } else {
        return false;
    }
    int n = parse_u64_list(rest, ',', v, 3);
    if (n < 1 || (!u->mmio && v[0] > 0xffff) || (v[2] != 1 && v[2] != 4))
        return false;
    u->base = v[0];
    u->baud = (uint32_t)v[1];
    u->reg_width = (uint32_t)v[2];
    return true;
}
