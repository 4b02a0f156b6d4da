/* Console multiplexer: serial first (the machine-read log), then screen. */
#include "drivers/console.h"

#include "arch/x86/spinlock.h"
#include "drivers/fbcon.h"
#include "lib/printf.h"

static struct uart uart;
static spinlock_t lock;
static bool fb_on;
static bool mid_line; /* the last character written was not a newline */

/* About a second of spinning: far longer than any line takes to print. */
#define CONSOLE_LOCK_SPINS 10000000u

void console_write(const char *s, size_t len)
{
    /* Interrupts stay off while the lock is held, so that a report from an
     * interrupt handler (watchdog, fault event) taken on this CPU waits for
     * the line in progress instead of landing in the middle of it. */
    bool irqs_were_on = irq_enabled();
    irq_disable();
    /* An exception taken while this CPU held the lock cannot wait for it:
     * after a bounded spin the lock is taken over, and the report starts on a
     * fresh line so that the log stays machine-readable. */
    bool taken_over = !spin_lock_bounded(&lock, CONSOLE_LOCK_SPINS);
    if (taken_over && mid_line) {
        serial_write(&uart, "\n", 1);
        if (fb_on)
            fbcon_write("\n", 1);
    }
    serial_write(&uart, s, len);
    if (fb_on)
        fbcon_write(s, len);
    if (len)
        mid_line = s[len - 1] != '\n';
    spin_unlock(&lock);
    if (irqs_were_on)
        irq_enable();
}

void console_early_init(void)
{
    serial_parse("com1", &uart);
    /* Until SPCR is read, COM1 keeps the rate the firmware's console used
     * (the one the lab's terminal expects); 115200 when it set none. */
    uart.baud = 0;
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
