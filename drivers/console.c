/* Console multiplexer: serial first (the machine-read log), then screen. */
#include "drivers/console.h"

#include "arch/x86/spinlock.h"
#include "drivers/fbcon.h"
#include "lib/printf.h"

static struct uart uart;
static spinlock_t lock;
static bool fb_on;

void console_write(const char *s, size_t len)
{
    /* Bounded: an exception inside a locked section must still print. */
    bool locked = spin_lock_bounded(&lock, 10000000);
    serial_write(&uart, s, len);
    if (fb_on)
        fbcon_write(s, len);
    if (locked)
        spin_unlock(&lock);
}

void console_early_init(void)
{
    serial_parse("com1", &uart);
    serial_init(&uart);
    printf_set_sink(console_write);
}

void console_use_uart(const struct uart *u)
{
    struct uart next = *u;
    if (serial_init(&next)) {
        spin_lock(&lock);
        uart = next;
        spin_unlock(&lock);
    } else {
        kprintf("# console: no UART answers at %s 0x%llx; staying on %s\n",
                u->mmio ? "mmio" : "io", (unsigned long long)u->base,
                uart.present ? uart.desc : "screen only");
    }
}

void console_attach_fb(const struct framebuffer *fb)
{
    if (fb->base && fbcon_init(fb))
        fb_on = true;
}

void console_flush(void)
{
    serial_flush(&uart);
}

const char *console_describe(void)
{
    return uart.present ? uart.desc : "none (screen only)";
}

void console_screen_banner(const char *text, int good)
{
    if (fb_on)
        fbcon_banner(text, good);
}
