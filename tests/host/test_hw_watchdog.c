// HOST-DEPS: drivers/hw_watchdog_desc.c lib/printf.c acpi/smbios.c acpi/diag.c
/* The `# watchdog:` header line: the TCO timer's state decoded from its
 * registers (halted, locked, idle, running with and without NO_REBOOT,
 * after its first expiry, unknown NO_REBOOT), the IPMI BMC from an SMBIOS
 * type 38 structure (KCS in I/O space with the modifier's address bit,
 * MMIO, SSIF), short structures ignored, and truncation to the buffer. */
#include <string.h>

#include "acpi/smbios.h"
#include "drivers/hw_watchdog.h"
#include "tests/host/check.h"

CHECK_STATE_DEFINE;

static char line[400];

static const char *describe(const struct tco_state *t, const struct smbios_ipmi *p)
{
    memset(line, 0x55, sizeof(line));
    int n = hw_watchdog_describe(t, p, NULL, line, sizeof(line));
    CHECK(n == (int)strlen(line), "returned %d for %zu characters", n, strlen(line));
    return line;
}

static struct tco_state ich9(uint16_t cnt1, uint16_t rld, uint16_t tmr, int no_reboot)
{
    return (struct tco_state){.found = true, .where = "PMBASE+0x60 of LPC 00:1f.0",
                              .base = 0x660, .cnt1 = cnt1, .rld = rld, .tmr = tmr,
                              .no_reboot = no_reboot};
}

TEST(none)
{
    struct tco_state t = {.no_reboot = -1};
    CHECK(!strcmp(describe(&t, NULL), "no Intel TCO timer found; no IPMI BMC in SMBIOS"), "%s",
          line);
    CHECK(!hw_watchdog_tco_armed(&t), "armed");
}

TEST(halted)
{
    struct tco_state t = ich9(TCO1_CNT_TMR_HLT, 0, 4, 1);
    CHECK(strstr(describe(&t, NULL), "Intel TCO at I/O 0x660 (PMBASE+0x60 of LPC 00:1f.0) "
                                     "halted; no IPMI"), "%s", line);
    CHECK(!hw_watchdog_tco_armed(&t), "armed");
    t.cnt1 |= TCO1_CNT_LOCK;
    CHECK(strstr(describe(&t, NULL), " halted and locked;"), "%s", line);
}

/* HLT clear but nothing started it (QEMU after reset): not armed. */
TEST(idle)
{
    struct tco_state t = ich9(0, 0, 4, 1);
    CHECK(strstr(describe(&t, NULL), "not halted but not counting (count 0, initial 4 ticks)"),
          "%s", line);
    CHECK(!hw_watchdog_tco_armed(&t), "armed");
}

TEST(running_resets)
{
    /* 50 of 100 ticks left: reset after this count and one more full one. */
    struct tco_state t = ich9(0, 50, 100, 0);
    CHECK(hw_watchdog_tco_armed(&t), "not armed");
    CHECK(strstr(describe(&t, NULL), " RUNNING: 50 of 100 ticks left (30.0 s of 60.0 s): it "
                                     "resets the machine about 90.0 s from now unless something "
                                     "reloads it, and vtdsync does not;"), "%s", line);
    /* After the first expiry the next one resets. */
    t.sts1 = TCO1_STS_TIMEOUT;
    CHECK(strstr(describe(&t, NULL), "about 30.0 s from now"), "%s", line);
    /* Only the count's ten bits. */
    t.rld = 0xfc00 | 3;
    CHECK(strstr(describe(&t, NULL), "RUNNING: 3 of 100 ticks left (1.8 s of"), "%s", line);
}

TEST(running_no_reboot_and_unknown)
{
    struct tco_state t = ich9(TCO1_CNT_LOCK, 7, 9, 1);
    CHECK(strstr(describe(&t, NULL), " RUNNING and locked: 7 of 9 ticks left (4.2 s of 5.4 s), "
                                     "NO_REBOOT set: its expiries only raise an SMI or NMI;"),
          "%s", line);
    t.no_reboot = -1;
    CHECK(strstr(describe(&t, NULL), "it may reset (NO_REBOOT unknown) the machine about 9.6 s"),
          "%s", line);
}

/* Type 38 (IPMI device information) after a type 1, then end. */
static const uint8_t kcs_table[] = {
    1, 0x08, 1, 0, 0, 0, 0, 0, 0, 0,
    38, 0x12, 2, 0, 1, 0x20, 0x20, 0xff, 0xa3, 0x0c, 0, 0, 0, 0, 0, 0, 0x00, 0, 0, 0,
    127, 4, 3, 0, 0, 0,
};

TEST(smbios_type38_kcs)
{
    struct smbios_info s = {0};
    CHECK(smbios_parse_table(kcs_table, sizeof(kcs_table), &s, NULL) == 0, "parse");
    CHECK(s.ipmi.present && s.ipmi.interface == 1 && s.ipmi.spec_rev == 0x20 &&
              s.ipmi.base == 0xca3,
          "ipmi %d if %u rev %#x base %#llx", s.ipmi.present, s.ipmi.interface, s.ipmi.spec_rev,
          (unsigned long long)s.ipmi.base);
    struct tco_state t = {.no_reboot = -1};
    CHECK(strstr(describe(&t, &s.ipmi),
                 "; IPMI 2.0 BMC (KCS at I/O 0xca2): its watchdog may reset the machine during "
                 "a long run (vtdsync does not talk to it)"), "%s", line);
    /* The modifier's bit 4 is the address's least significant bit. */
    s.ipmi.modifier = 0x10;
    CHECK(strstr(describe(&t, &s.ipmi), "(KCS at I/O 0xca3)"), "%s", line);
}

TEST(ipmi_mmio_and_ssif)
{
    struct smbios_ipmi p = {.present = true, .interface = 3, .spec_rev = 0x15,
                            .base = 0xfe000000};
    struct tco_state t = {.no_reboot = -1};
    CHECK(strstr(describe(&t, &p), "IPMI 1.5 BMC (BT at MMIO 0xfe000000)"), "%s", line);
    p.interface = 4;
    p.i2c_addr = 0x20;
    CHECK(strstr(describe(&t, &p), "IPMI 1.5 BMC (SSIF at SMBus address 0x20)"), "%s", line);
}

TEST(short_type38_ignored)
{
    uint8_t t[] = {38, 0x0c, 2, 0, 1, 0x20, 0x20, 0xff, 0xa3, 0x0c, 0, 0, 0, 0,
                   127, 4, 3, 0, 0, 0};
    struct smbios_info s = {0};
    CHECK(smbios_parse_table(t, sizeof(t), &s, NULL) == 0, "parse");
    CHECK(!s.ipmi.present, "a type 38 too short for its base address was taken");
}

TEST(truncated_to_the_buffer)
{
    struct tco_state t = ich9(0, 50, 100, 0);
    struct smbios_ipmi p = {.present = true, .interface = 1, .spec_rev = 0x20, .base = 0xca3};
    char small[40];
    memset(small, 0x55, sizeof(small));
    int n = hw_watchdog_describe(&t, &p, NULL, small, sizeof(small));
    CHECK(n == (int)sizeof(small) - 1 && small[sizeof(small) - 1] == '\0', "n %d", n);
    CHECK(!strncmp(small, "Intel TCO at I/O 0x660", 22), "%s", small);
}

int main(void)
{
    RUN(none);
    RUN(halted);
    RUN(idle);
    RUN(running_resets);
    RUN(running_no_reboot_and_unknown);
    RUN(smbios_type38_kcs);
    RUN(ipmi_mmio_and_ssif);
    RUN(short_type38_ignored);
    RUN(truncated_to_the_buffer);
    return check_finish();
}
