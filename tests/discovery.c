/* Discovery at start-up: choose the console, find the timers. */
#include "arch/x86/tsc.h"
#include "drivers/console.h"
#include "drivers/serial.h"
#include "lib/kstring.h"
#include "lib/printf.h"
#include "tests/platform.h"
#include "tests/run.h"

struct platform_info platform;

static void choose_console(void)
{
    struct uart u;
    if (!strcmp(cfg.console, "auto") || !strcmp(cfg.console, "com1") ||
        !strcmp(cfg.console, "spcr"))
        return; /* COM1 already; SPCR handled with ACPI */
    if (!strcmp(cfg.console, "none"))
        return;
    if (serial_parse(cfg.console, &u))
        console_use_uart(&u);
}

void platform_early_init(void)
{
    choose_console();
    tsc_calibrate(platform.pm_timer_port, platform.pm_timer_32bit);
}
