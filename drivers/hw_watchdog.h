/* Hardware watchdogs that could reset the machine under a long run: the
 * Intel TCO timer of the chipset and an IPMI BMC's watchdog.  vtdsync
 * neither reloads nor stops them; it says, in one `# watchdog:` header
 * line, what it found, so a run that ends in a reset can be explained.
 * The BMC is only asked (Get Watchdog Timer), never told anything. */
#ifndef DRIVERS_HW_WATCHDOG_H
#define DRIVERS_HW_WATCHDOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acpi/smbios.h"
#include "drivers/ipmi_kcs.h"

/* TCO registers (offsets from TCOBASE; ICH9 and later PCHs, iTCO v2+). */
enum {
    TCO_RLD = 0x00,  /* reads the current count, in ticks */
    TCO1_STS = 0x04,
    TCO1_CNT = 0x08,
    TCO_TMR = 0x12,  /* the initial count, in ticks */
};
#define TCO_COUNT_MASK 0x3ffu
#define TCO1_CNT_NO_REBOOT_NEW (1u << 0) /* NO_REBOOT on PCHs with the TCO behind SMBus */
#define TCO1_CNT_TMR_HLT (1u << 11)
#define TCO1_CNT_LOCK (1u << 12)
#define TCO1_STS_TIMEOUT (1u << 3) /* the first expiry happened */
#define TCO_TICK_MS 600u

struct tco_state {
    bool found;
    const char *where;   /* how TCOBASE was found */
    uint16_t base;       /* TCOBASE (I/O port) */
    uint16_t rld, sts1, cnt1, tmr;
    int no_reboot;       /* 1: a second expiry does not reset; 0: it does; -1: unknown */
};

/* What asking the BMC about its watchdog gave. */
struct ipmi_probe {
    int state;         /* 0: not asked (no KCS in I/O space), 1: answered, -1: failed */
    struct ipmi_watchdog w;
    struct why why;    /* state -1 */
};

/* Find and read the TCO (firmware: PCI configuration and I/O ports). */
void hw_watchdog_probe_tco(struct tco_state *t);
/* Ask a BMC on KCS in I/O space for its watchdog (bounded waits). */
void hw_watchdog_probe_ipmi(const struct smbios_ipmi *p, struct ipmi_probe *out);
/* True when the TCO counts towards a reset: not halted, count nonzero. */
bool hw_watchdog_tco_armed(const struct tco_state *t);
/* "hard reset", "power down", ... for an IPMI watchdog's timeout action. */
const char *ipmi_watchdog_action(uint8_t action);
/* The text of the `# watchdog:` line (without the prefix); q may be NULL
 * (the BMC was not asked). */
int hw_watchdog_describe(const struct tco_state *t, const struct smbios_ipmi *ipmi,
                         const struct ipmi_probe *q, char *buf, size_t len);

#endif
