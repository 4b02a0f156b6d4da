/* Describing the hardware watchdogs found (portable; see hw_watchdog.h). */
#include "drivers/hw_watchdog.h"

#include <stdarg.h>

#include "lib/printf.h"

bool hw_watchdog_tco_armed(const struct tco_state *t)
{
    return t->found && !(t->cnt1 & TCO1_CNT_TMR_HLT) && (t->rld & TCO_COUNT_MASK);
}

struct text {
    char *buf;
    size_t len, n;
};

static void add(struct text *t, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void add(struct text *t, const char *fmt, ...)
{
    if (t->n + 1 >= t->len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = kvsnprintf(t->buf + t->n, t->len - t->n, fmt, ap);
    va_end(ap);
    t->n += k > 0 ? (size_t)k : 0;
    if (t->n >= t->len)
        t->n = t->len - 1; /* truncated */
}

/* Ticks of 0.6 s as seconds with one decimal. */
static void add_seconds(struct text *t, unsigned ticks)
{
    unsigned tenths = ticks * TCO_TICK_MS / 100;
    add(t, "%u.%u s", tenths / 10, tenths % 10);
}

static void describe_tco(struct text *o, const struct tco_state *t)
{
    if (!t->found) {
        add(o, "no Intel TCO timer found");
        return;
    }
    unsigned rld = t->rld & TCO_COUNT_MASK, tmr = t->tmr & TCO_COUNT_MASK;
    const char *lock = t->cnt1 & TCO1_CNT_LOCK ? " and locked" : "";
    add(o, "Intel TCO at I/O %#x (%s)", t->base, t->where);
    if (t->cnt1 & TCO1_CNT_TMR_HLT) {
        add(o, " halted%s", lock);
        return;
    }
    if (!rld) {
        add(o, " not halted but not counting (count 0, initial %u ticks)", tmr);
        return;
    }
    add(o, " RUNNING%s: %u of %u ticks left (", lock, rld, tmr);
    add_seconds(o, rld);
    add(o, " of ");
    add_seconds(o, tmr);
    add(o, ")");
    if (t->no_reboot == 1) {
        add(o, ", NO_REBOOT set: its expiries only raise an SMI or NMI");
        return;
    }
    /* The first expiry raises an SMI or NMI and reloads the count; the
     * second resets the machine. */
    add(o, ": it %s the machine about ", t->no_reboot ? "may reset (NO_REBOOT unknown)" : "resets");
    add_seconds(o, rld + (t->sts1 & TCO1_STS_TIMEOUT ? 0 : tmr));
    add(o, " from now unless something reloads it, and vtdsync does not");
}

static const char *ipmi_interface(uint8_t i)
{
    switch (i) {
    case 1:
        return "KCS";
    case 2:
        return "SMIC";
    case 3:
        return "BT";
    case 4:
        return "SSIF";
    default:
        return "unknown interface";
    }
}

const char *ipmi_watchdog_action(uint8_t action)
{
    switch (action) {
    case 0:
        return "no action";
    case 1:
        return "hard reset";
    case 2:
        return "power down";
    case 3:
        return "power cycle";
    default:
        return "a reserved action";
    }
}

/* Countdown in 100 ms units as seconds with one decimal. */
static void add_countdown(struct text *t, uint16_t c)
{
    add(t, "%u.%u s", c / 10u, c % 10u);
}

static void describe_ipmi(struct text *o, const struct smbios_ipmi *p, const struct ipmi_probe *q)
{
    if (!p || !p->present) {
        add(o, "no IPMI BMC in SMBIOS");
        return;
    }
    add(o, "IPMI %u.%u BMC (%s", p->spec_rev >> 4, p->spec_rev & 15, ipmi_interface(p->interface));
    /* Base address bit 0 selects I/O space; the modifier's bit 4 is the
     * address's least significant bit (SMBIOS 7.39). */
    uint64_t lsb = p->modifier >> 4 & 1;
    if (p->interface == 4)
        add(o, " at SMBus address %#x", p->i2c_addr);
    else if (p->base & 1)
        add(o, " at I/O %#llx", (unsigned long long)((p->base & ~1ull) | lsb));
    else
        add(o, " at MMIO %#llx", (unsigned long long)(p->base | lsb));
    if (q && q->state > 0 && q->w.running) {
        add(o, "): watchdog RUNNING: ");
        add_countdown(o, q->w.present);
        add(o, " of ");
        add_countdown(o, q->w.initial);
        add(o, " left, then %s, unless something resets it, and vtdsync does not",
            ipmi_watchdog_action(q->w.action));
        return;
    }
    if (q && q->state > 0) {
        add(o, "): watchdog stopped (on expiry: %s; countdown ", ipmi_watchdog_action(q->w.action));
        add_countdown(o, q->w.initial);
        add(o, ")");
        return;
    }
    if (q && q->state < 0)
        add(o, "; Get Watchdog Timer failed: %s", q->why.text);
    add(o, "): its watchdog may reset the machine during a long run (vtdsync does not %s)",
        q && q->state < 0 ? "know its state" : "talk to it");
}

int hw_watchdog_describe(const struct tco_state *t, const struct smbios_ipmi *ipmi,
                         const struct ipmi_probe *q, char *buf, size_t len)
{
    struct text o = {buf, len, 0};
    if (len)
        buf[0] = '\0';
    describe_tco(&o, t);
    add(&o, "; ");
    describe_ipmi(&o, ipmi, q);
    return (int)o.n;
}
