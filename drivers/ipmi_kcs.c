/* KCS transactions and Get Watchdog Timer: see ipmi_kcs.h. */
#include "drivers/ipmi_kcs.h"

#include "arch/x86/tsc.h"
#include "lib/why.h"

static uint8_t status(const struct kcs_port *p)
{
    return p->io->in(p->io->ctx, p->status);
}

static bool ibf_clear(const struct kcs_port *p, uint8_t *s)
{
    *s = status(p);
    return !(*s & KCS_IBF);
}

static bool obf_set(const struct kcs_port *p, uint8_t *s)
{
    *s = status(p);
    return *s & KCS_OBF;
}

/* Wait until the BMC took the last byte, then check it is in `state` and
 * drop whatever it left in the output buffer (9.15: clear OBF). */
static bool settle(const struct kcs_port *p, int state, struct why *why)
{
    uint8_t s;
    if (!WAIT_FOR(ibf_clear(p, &s), p->timeout_us, "IPMI KCS IBF=0"))
        return why_set(why, "the BMC did not take a byte (IBF stayed set)");
    if (KCS_STATE(s) != state)
        return why_set(why, "%s",
                       KCS_STATE(s) == KCS_ERROR_STATE
                           ? "the BMC's KCS interface is in its error state"
                           : "the BMC's KCS interface is in an unexpected state");
    if (s & KCS_OBF)
        p->io->in(p->io->ctx, p->data);
    return true;
}

static void command(const struct kcs_port *p, uint8_t c)
{
    p->io->out(p->io->ctx, p->status, c);
}

static void data(const struct kcs_port *p, uint8_t b)
{
    p->io->out(p->io->ctx, p->data, b);
}

static bool write_request(const struct kcs_port *p, const uint8_t *req, size_t n,
                          struct why *why)
{
    uint8_t s;
    if (!WAIT_FOR(ibf_clear(p, &s), p->timeout_us, "IPMI KCS IBF=0"))
        return why_set(why, "the BMC's KCS interface stays busy (IBF set)");
    if (s & KCS_OBF)
        p->io->in(p->io->ctx, p->data);
    command(p, KCS_WRITE_START);
    if (!settle(p, KCS_WRITE_STATE, why))
        return false;
    for (size_t i = 0; i + 1 < n; i++) {
        data(p, req[i]);
        if (!settle(p, KCS_WRITE_STATE, why))
            return false;
    }
    command(p, KCS_WRITE_END);
    if (!settle(p, KCS_WRITE_STATE, why))
        return false;
    data(p, req[n - 1]);
    return true;
}

int kcs_transact(const struct kcs_port *p, const uint8_t *req, size_t n, uint8_t *rsp,
                 size_t max, struct why *why)
{
    if (n < 2) {
        why_set(why, "request too short");
        return -1;
    }
    if (!write_request(p, req, n, why))
        return -1;
    size_t got = 0;
    /* Each response byte: IBF clear, state READ, OBF set, read it, ask for
     * the next; state IDLE ends it with a dummy byte.  At most max + 1
     * rounds, so a BMC that never stops talking is cut off. */
    for (size_t round = 0; round <= max; round++) {
        uint8_t s;
        if (!WAIT_FOR(ibf_clear(p, &s), p->timeout_us, "IPMI KCS IBF=0")) {
            why_set(why, "the BMC did not answer (IBF stayed set)");
            return -1;
        }
        int st = KCS_STATE(s);
        if (st != KCS_READ_STATE && st != KCS_IDLE) {
            why_set(why, "the BMC's KCS interface left the read phase in an error");
            return -1;
        }
        if (!WAIT_FOR(obf_set(p, &s), p->timeout_us, "IPMI KCS OBF=1")) {
            why_set(why, "the BMC did not answer (OBF stayed clear)");
            return -1;
        }
        uint8_t b = p->io->in(p->io->ctx, p->data);
        if (st == KCS_IDLE)
            return (int)got;
        if (got < max)
            rsp[got++] = b;
        data(p, KCS_READ);
    }
    why_set(why, "the BMC's response is longer than expected");
    return -1;
}

bool ipmi_get_watchdog(const struct kcs_port *p, struct ipmi_watchdog *w, struct why *why)
{
    static const uint8_t req[] = {0x06 << 2, 0x25}; /* netfn App, LUN 0; Get Watchdog Timer */
    uint8_t r[16];
    int n = kcs_transact(p, req, sizeof(req), r, sizeof(r), why);
    if (n < 0)
        return false;
    if (n < 3 || r[0] != (0x07 << 2) || r[1] != 0x25)
        return why_set(why, "the BMC's response is not one to Get Watchdog Timer");
    if (r[2] != 0)
        return why_set(why, "the BMC refused Get Watchdog Timer (completion code not 0)");
    if (n < 11)
        return why_set(why, "the BMC's Get Watchdog Timer response is short");
    /* Timer use bit 6: running; action bits 2:0; countdowns in 100 ms. */
    w->running = r[3] & 0x40;
    w->use = r[3] & 7;
    w->action = r[4] & 7;
    w->initial = (uint16_t)(r[7] | r[8] << 8);
    w->present = (uint16_t)(r[9] | r[10] << 8);
    return true;
}

bool kcs_ports_from_smbios(uint8_t interface, uint64_t base, uint8_t modifier, uint16_t *data,
                           uint16_t *status)
{
    static const uint8_t spacing[4] = {1, 4, 16, 0};
    uint64_t addr = (base & ~1ull) | (modifier >> 4 & 1);
    uint8_t step = spacing[modifier >> 6];
    if (interface != 1 || !(base & 1) || !step || addr > (uint64_t)(0xffff - step))
        return false;
    *data = (uint16_t)addr;
    *status = (uint16_t)(addr + step);
    return true;
}
