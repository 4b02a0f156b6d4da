// HOST-DEPS: drivers/ipmi_kcs.c lib/why.c drivers/hw_watchdog_desc.c lib/printf.c
/* Get Watchdog Timer over KCS (drivers/ipmi_kcs.c) against a fake BMC that
 * follows the KCS state machine of IPMI 2.0 chapter 9: the request bytes
 * the BMC receives, a running and a stopped watchdog decoded and described,
 * a completion code, a BMC that never takes a byte (bounded), one that
 * never stops answering (cut off), a wrong response, and the ports derived
 * from SMBIOS type 38 (spacing, address bit, not KCS, not I/O). */
#include <stdio.h>
#include <string.h>

#include "drivers/hw_watchdog.h"
#include "drivers/ipmi_kcs.h"
#include "tests/host/check.h"

CHECK_STATE_DEFINE;

/* ---- what arch/x86/tsc.c provides on target -------------------------------- */

uint64_t tsc_hz = 100000000; /* a 100 MHz "TSC": waits pass quickly */
uint64_t tsc_boot;
const char *volatile wait_last_what = "nothing yet";
static unsigned timeouts;
void wait_timed_out(const char *what, uint64_t us)
{
    (void)what, (void)us;
    timeouts++;
}

/* ---- the fake BMC ------------------------------------------------------------ */

#define DATA 0xca2
#define STATUS 0xca3

static struct bmc {
    int state;             /* KCS_IDLE, KCS_READ_STATE, KCS_WRITE_STATE */
    bool obf, stuck, endless, last;
    uint8_t out;           /* output data register */
    uint8_t req[32];
    size_t nreq;
    uint8_t rsp[32];
    size_t nrsp, pos;
} bmc;

static void respond(void)
{
    bmc.state = KCS_READ_STATE;
    bmc.pos = 0;
    bmc.out = bmc.rsp[0];
    bmc.obf = true;
}

static uint8_t fake_in(void *ctx, uint16_t port)
{
    (void)ctx;
    if (port == STATUS)
        return (uint8_t)(bmc.state << 6 | (bmc.stuck ? KCS_IBF : 0) | (bmc.obf ? KCS_OBF : 0));
    bmc.obf = false;
    return bmc.out;
}

static void fake_out(void *ctx, uint16_t port, uint8_t v)
{
    (void)ctx;
    if (bmc.stuck)
        return;
    if (port == STATUS) {
        if (v == KCS_WRITE_START) {
            bmc.state = KCS_WRITE_STATE;
            bmc.nreq = 0;
            bmc.last = false;
            bmc.out = 0;
            bmc.obf = true; /* a stale byte the host must drop */
        } else if (v == KCS_WRITE_END) {
            bmc.last = true;
        }
        return;
    }
    if (bmc.state == KCS_WRITE_STATE) {
        if (bmc.nreq < sizeof(bmc.req))
            bmc.req[bmc.nreq++] = v;
        if (bmc.last)
            respond();
    } else if (bmc.state == KCS_READ_STATE && v == KCS_READ) {
        if (bmc.endless || ++bmc.pos < bmc.nrsp) {
            bmc.out = bmc.rsp[bmc.endless ? 0 : bmc.pos];
        } else {
            bmc.state = KCS_IDLE;
            bmc.out = 0; /* the dummy byte */
        }
        bmc.obf = true;
    }
}

static const struct kcs_io io = {fake_in, fake_out, NULL};
static const struct kcs_port port = {&io, DATA, STATUS, 1000};

static void bmc_reset(const uint8_t *rsp, size_t n)
{
    memset(&bmc, 0, sizeof(bmc));
    memcpy(bmc.rsp, rsp, n);
    bmc.nrsp = n;
    timeouts = 0;
}

/* Get Watchdog Timer response: netfn 0x07, cmd 0x25, cc, use, action,
 * pre-timeout, flags, initial LSB/MSB, present LSB/MSB. */
static const uint8_t running[] = {0x1c, 0x25, 0x00, 0x44, 0x01, 0x00, 0x00,
                                  0x58, 0x02, 0x7b, 0x00};

TEST(running_watchdog)
{
    bmc_reset(running, sizeof(running));
    struct ipmi_watchdog w;
    struct why why = {"unset"};
    CHECK(ipmi_get_watchdog(&port, &w, &why), "failed: %s", why.text);
    CHECK(bmc.nreq == 2 && bmc.req[0] == 0x18 && bmc.req[1] == 0x25, "request %zu bytes %#x %#x",
          bmc.nreq, bmc.req[0], bmc.req[1]);
    CHECK(w.running && w.use == 4 && w.action == 1 && w.initial == 600 && w.present == 123,
          "running %d use %u action %u initial %u present %u", w.running, w.use, w.action,
          w.initial, w.present);
    CHECK(bmc.state == KCS_IDLE && timeouts == 0, "state %d, %u timeouts", bmc.state, timeouts);

    struct smbios_ipmi p = {.present = true, .interface = 1, .spec_rev = 0x20, .base = 0xca3};
    struct ipmi_probe q = {.state = 1, .w = w};
    struct tco_state t = {.no_reboot = -1};
    char line[400];
    hw_watchdog_describe(&t, &p, &q, line, sizeof(line));
    CHECK(strstr(line, "IPMI 2.0 BMC (KCS at I/O 0xca2): watchdog RUNNING: 12.3 s of 60.0 s "
                       "left, then hard reset, unless something resets it, and vtdsync does not"),
          "%s", line);
}

TEST(stopped_watchdog)
{
    uint8_t r[sizeof(running)];
    memcpy(r, running, sizeof(r));
    r[3] = 0x04; /* not running */
    r[4] = 0x02; /* power down */
    bmc_reset(r, sizeof(r));
    struct ipmi_watchdog w;
    struct why why = {""};
    CHECK(ipmi_get_watchdog(&port, &w, &why), "failed: %s", why.text);
    struct smbios_ipmi p = {.present = true, .interface = 1, .spec_rev = 0x20, .base = 0xca3};
    struct ipmi_probe q = {.state = 1, .w = w};
    struct tco_state t = {.no_reboot = -1};
    char line[400];
    hw_watchdog_describe(&t, &p, &q, line, sizeof(line));
    CHECK(strstr(line, "(KCS at I/O 0xca2): watchdog stopped (on expiry: power down; countdown "
                       "60.0 s)"), "%s", line);
    q = (struct ipmi_probe){.state = -1, .why = {"the BMC did not answer (OBF stayed clear)"}};
    hw_watchdog_describe(&t, &p, &q, line, sizeof(line));
    CHECK(strstr(line, "(KCS at I/O 0xca2; Get Watchdog Timer failed: the BMC did not answer "
                       "(OBF stayed clear)): its watchdog may reset the machine during a long "
                       "run (vtdsync does not know its state)"), "%s", line);
}

TEST(completion_code)
{
    static const uint8_t r[] = {0x1c, 0x25, 0xc1};
    bmc_reset(r, sizeof(r));
    struct ipmi_watchdog w;
    struct why why = {""};
    CHECK(!ipmi_get_watchdog(&port, &w, &why) && strstr(why.text, "refused"), "why: %s", why.text);
}

TEST(wrong_response)
{
    static const uint8_t r[] = {0x1c, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
    bmc_reset(r, sizeof(r));
    struct ipmi_watchdog w;
    struct why why = {""};
    CHECK(!ipmi_get_watchdog(&port, &w, &why) && strstr(why.text, "not one to Get Watchdog"),
          "why: %s", why.text);
}

TEST(stuck_bmc_is_bounded)
{
    bmc_reset(running, sizeof(running));
    bmc.stuck = true;
    struct ipmi_watchdog w;
    struct why why = {""};
    CHECK(!ipmi_get_watchdog(&port, &w, &why) && strstr(why.text, "stays busy"), "why: %s",
          why.text);
    CHECK(timeouts == 1, "%u timeouts", timeouts);
}

TEST(endless_response_cut_off)
{
    bmc_reset(running, sizeof(running));
    bmc.endless = true;
    struct ipmi_watchdog w;
    struct why why = {""};
    CHECK(!ipmi_get_watchdog(&port, &w, &why) && strstr(why.text, "longer than expected"),
          "why: %s", why.text);
}

TEST(ports_from_smbios)
{
    uint16_t d = 0, s = 0;
    CHECK(kcs_ports_from_smbios(1, 0xca3, 0x00, &d, &s) && d == 0xca2 && s == 0xca3,
          "byte spacing: %#x %#x", d, s);
    CHECK(kcs_ports_from_smbios(1, 0xca3, 0x10, &d, &s) && d == 0xca3 && s == 0xca4,
          "address bit 0 from the modifier: %#x %#x", d, s);
    CHECK(kcs_ports_from_smbios(1, 0xca9, 0x40, &d, &s) && d == 0xca8 && s == 0xcac,
          "32-bit spacing: %#x %#x", d, s);
    CHECK(kcs_ports_from_smbios(1, 0xca1, 0x80, &d, &s) && d == 0xca0 && s == 0xcb0,
          "16-byte spacing: %#x %#x", d, s);
    CHECK(!kcs_ports_from_smbios(1, 0xfe000000, 0, &d, &s), "MMIO taken");
    CHECK(!kcs_ports_from_smbios(4, 0xca3, 0, &d, &s), "SSIF taken");
    CHECK(!kcs_ports_from_smbios(1, 0xca3, 0xc0, &d, &s), "reserved spacing taken");
    CHECK(!kcs_ports_from_smbios(1, 0x1ffff, 0, &d, &s), "beyond I/O space taken");
}

int main(void)
{
    RUN(running_watchdog);
    RUN(stopped_watchdog);
    RUN(completion_code);
    RUN(wrong_response);
    RUN(stuck_bmc_is_bounded);
    RUN(endless_response_cut_off);
    RUN(ports_from_smbios);
    return check_finish();
}
