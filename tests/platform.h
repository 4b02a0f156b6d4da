/* Platform discovery glue: what ACPI and PCI told us, kept for the suites. */
#ifndef TESTS_PLATFORM_H
#define TESTS_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

struct platform_info {
    uint16_t pm_timer_port;
    bool pm_timer_32bit;
    bool acpi_ok;
};
extern struct platform_info platform;

/* ACPI tables, the console choice (console= or SPCR) and TSC calibration. */
void platform_early_init(void);

#endif
