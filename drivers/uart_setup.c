/* 16550 divisor and SPCR console settings (uart_setup.h). */
#include "drivers/uart_setup.h"

#include "lib/kstring.h"

uint32_t uart_divisor(uint32_t clock_hz, uint32_t baud, uint32_t *actual)
{
    *actual = 0;
    if (!clock_hz || !baud)
        return 0;
    uint64_t sixteen = 16ull * baud;
    uint64_t div = ((uint64_t)clock_hz + sixteen / 2) / sixteen;
    if (!div || div > 0xffff)
        return 0;
    uint64_t got = clock_hz / (16 * div);
    uint64_t err = got > baud ? got - baud : baud - got;
    if (err * 1000 > (uint64_t)baud * UART_MAX_ERROR_PERMILLE)
        return 0;
    *actual = (uint32_t)got;
    return (uint32_t)div;
}

bool uart_from_spcr(const struct spcr_info *s, struct uart *u, struct why *why)
{
    memset(u, 0, sizeof(*u));
    why_clear(why);
    if (!s->valid || !s->is_16550)
        return why_set(why, "SPCR describes a %s UART, not a 16550",
                       spcr_interface_name(s->interface_type));
    u->mmio = s->mmio;
    u->base = s->base.address;
    /* On MMIO the access width is also the register stride (DesignWare
     * UARTs: 32-bit registers 4 bytes apart); port I/O is bytewise. */
    u->reg_width = s->mmio ? s->access_bytes : 1;
    if (u->reg_width != 1 && u->reg_width != 4)
        return why_set(why, "SPCR gives %u-byte register access: vtdsync drives 1 or 4",
                       u->reg_width);
    u->clock_hz = s->uart_clock_hz ? s->uart_clock_hz : UART_DEFAULT_CLOCK_HZ;
    u->baud = s->baud;
    uint32_t actual;
    if (u->baud && !uart_divisor(u->clock_hz, u->baud, &actual))
        return why_set(why, "SPCR asks for %u baud, which a %u Hz UART clock cannot make",
                       u->baud, u->clock_hz);
    return true;
}
