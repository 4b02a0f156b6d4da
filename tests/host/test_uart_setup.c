// HOST-DEPS: lib/printf.c lib/why.c acpi/diag.c acpi/table.c acpi/spcr.c drivers/uart_setup.c tests/host/acpi_testlib.c
/* The console UART as SPCR describes it: baud rate (code and precise),
 * UART input clock (revision 3+), register access width, and the 16550
 * divisor that results.  Each variant is an SPCR built the way firmware
 * ships it, parsed, then turned into UART settings. */
#include "acpi/spcr.h"
#include "drivers/uart_setup.h"
#include "tests/host/acpi_testlib.h"
#include "tests/host/check.h"

#include <string.h>

CHECK_STATE_DEFINE;

struct spcr_spec {
    uint8_t revision;
    uint8_t interface;
    uint8_t space;       /* 0 memory, 1 I/O */
    uint8_t access_size; /* GAS access size: 1 byte .. 3 dword */
    uint64_t address;
    uint8_t baud_code;
    uint32_t clock_hz;     /* revision 3+ */
    uint32_t precise_baud; /* revision 4+ */
};

/* An SPCR of the given revision with the fields of *s (80 bytes, 84 from
 * revision 4 on). */
static struct spcr_info parsed(const struct spcr_spec *s)
{
    struct tbuf tb = {0};
    tb_header(&tb, "SPCR", s->revision);
    tb_u8(&tb, s->interface);
    tb_u8(&tb, 0);
    tb_u16(&tb, 0);
    tb_u8(&tb, s->space);             /* GAS at 40 */
    tb_u8(&tb, s->access_size == 3 ? 32 : 8);
    tb_u8(&tb, 0);
    tb_u8(&tb, s->access_size);
    tb_u64(&tb, s->address);
    tb_u8(&tb, 0);                    /* 52 interrupt type */
    tb_u8(&tb, 0);                    /* 53 IRQ */
    tb_u32(&tb, 0);                   /* 54 GSI */
    tb_u8(&tb, s->baud_code);         /* 58 */
    tb_u8(&tb, 0);                    /* parity */
    tb_u8(&tb, 1);                    /* stop bits */
    tb_u8(&tb, 0);                    /* flow control */
    tb_u8(&tb, 0);                    /* terminal type */
    tb_u8(&tb, 0);                    /* 63 language */
    tb_u16(&tb, 0xffff);              /* 64 PCI device */
    tb_u16(&tb, 0xffff);              /* 66 PCI vendor */
    tb_u8(&tb, 0);
    tb_u8(&tb, 0);
    tb_u8(&tb, 0);
    tb_u32(&tb, 0);                   /* 71 PCI flags */
    tb_u8(&tb, 0);                    /* 75 PCI segment */
    tb_u32(&tb, s->revision >= 3 ? s->clock_hz : 0); /* 76 */
    if (s->revision >= 4)
        tb_u32(&tb, s->precise_baud); /* 80 */
    tb_seal(&tb);
    struct spcr_info info;
    struct diag_log log;
    diag_init(&log);
    CHECK(spcr_parse(tb.b, tb.len, &info, &log.diag) == 0, "SPCR parses");
    return info;
}

static bool uart_of(const struct spcr_spec *s, struct uart *u, struct why *why)
{
    struct spcr_info info = parsed(s);
    return uart_from_spcr(&info, u, why);
}

TEST(divisor_classic_clock)
{
    uint32_t actual;
    CHECK_EQ_U64(uart_divisor(1843200, 115200, &actual), 1);
    CHECK_EQ_U64(actual, 115200);
    CHECK_EQ_U64(uart_divisor(1843200, 9600, &actual), 12);
    CHECK_EQ_U64(uart_divisor(1843200, 57600, &actual), 2);
    CHECK_EQ_U64(uart_divisor(1843200, 50, &actual), 2304);
}

TEST(divisor_fast_clocks_round_to_nearest)
{
    uint32_t actual;
    /* 48 MHz / 16 / 115200 = 26.04 */
    CHECK_EQ_U64(uart_divisor(48000000, 115200, &actual), 26);
    CHECK_EQ_U64(actual, 115384);
    /* 24 MHz / 16 / 115200 = 13.02; 1.5 Mbaud exactly 1 */
    CHECK_EQ_U64(uart_divisor(24000000, 115200, &actual), 13);
    CHECK_EQ_U64(uart_divisor(24000000, 1500000, &actual), 1);
    CHECK_EQ_U64(actual, 1500000);
}

TEST(divisor_refuses_what_the_clock_cannot_make)
{
    uint32_t actual = 7;
    CHECK_EQ_U64(uart_divisor(1843200, 1500000, &actual), 0); /* faster than clock/16 */
    CHECK_EQ_U64(actual, 0);
    CHECK_EQ_U64(uart_divisor(1843200, 921600, &actual), 0);  /* 1.8432M/16/921600 = 0.125 */
    CHECK_EQ_U64(uart_divisor(1843200, 80000, &actual), 0);   /* divisor 1 gives 115200: 44% off */
    CHECK_EQ_U64(uart_divisor(100000000, 1, &actual), 0);     /* divisor above 16 bits */
    CHECK_EQ_U64(uart_divisor(0, 115200, &actual), 0);
}

/* COM1 at 57600: the rate SPCR gives, not the 115200 vtdsync started with. */
TEST(spcr_com1_at_another_rate)
{
    struct spcr_spec s = {.revision = 2, .space = 1, .access_size = 1, .address = 0x3f8,
                          .baud_code = 6};
    struct uart u;
    struct why why;
    CHECK(uart_of(&s, &u, &why), "usable: %s", why.text);
    CHECK(!u.mmio && u.base == 0x3f8 && u.reg_width == 1, "COM1 bytewise");
    CHECK_EQ_U64(u.baud, 57600);
    CHECK_EQ_U64(u.clock_hz, UART_DEFAULT_CLOCK_HZ);
}

TEST(spcr_baud_as_is_keeps_the_firmware_rate)
{
    struct spcr_spec s = {.revision = 2, .space = 1, .access_size = 1, .address = 0x2f8};
    struct uart u;
    struct why why;
    CHECK(uart_of(&s, &u, &why), "usable: %s", why.text);
    CHECK_EQ_U64(u.baud, 0);
}

/* An LPSS/BMC UART: MMIO, 32-bit registers, 48 MHz clock, 115200. */
TEST(spcr_rev3_uart_clock_and_dword_access)
{
    struct spcr_spec s = {.revision = 3, .interface = SPCR_IF_16550_GAS, .space = 0,
                          .access_size = 3, .address = 0xfe032000, .baud_code = 7,
                          .clock_hz = 48000000};
    struct uart u;
    struct why why;
    CHECK(uart_of(&s, &u, &why), "usable: %s", why.text);
    CHECK(u.mmio && u.base == 0xfe032000 && u.reg_width == 4, "MMIO, 4-byte stride");
    CHECK_EQ_U64(u.clock_hz, 48000000);
    CHECK_EQ_U64(u.baud, 115200);
}

TEST(spcr_rev2_ignores_the_clock_field)
{
    struct spcr_spec s = {.revision = 2, .space = 0, .access_size = 1, .address = 0xfe030000,
                          .baud_code = 7, .clock_hz = 48000000};
    struct uart u;
    struct why why;
    CHECK(uart_of(&s, &u, &why), "usable: %s", why.text);
    CHECK_EQ_U64(u.clock_hz, UART_DEFAULT_CLOCK_HZ);
    CHECK_EQ_U64(u.reg_width, 1);
}

TEST(spcr_rev4_precise_baud)
{
    struct spcr_spec s = {.revision = 4, .space = 0, .access_size = 3, .address = 0xfe032000,
                          .baud_code = 7, .clock_hz = 24000000, .precise_baud = 1500000};
    struct uart u;
    struct why why;
    CHECK(uart_of(&s, &u, &why), "usable: %s", why.text);
    CHECK_EQ_U64(u.baud, 1500000);
    uint32_t actual;
    CHECK_EQ_U64(uart_divisor(u.clock_hz, u.baud, &actual), 1);
}

TEST(spcr_refusals_say_why)
{
    struct uart u;
    struct why why;
    struct spcr_spec fast = {.revision = 4, .space = 1, .access_size = 1, .address = 0x3f8,
                             .baud_code = 7, .precise_baud = 1500000};
    CHECK(!uart_of(&fast, &u, &why), "1.5 Mbaud on a 1.8432 MHz clock");
    CHECK(strstr(why.text, "1500000 baud") && strstr(why.text, "1843200 Hz"), "why: %s", why.text);

    struct spcr_spec word = {.revision = 2, .space = 0, .access_size = 2, .address = 0xfe030000,
                             .baud_code = 7};
    CHECK(!uart_of(&word, &u, &why), "16-bit registers");
    CHECK(strstr(why.text, "2-byte register access"), "why: %s", why.text);

    struct spcr_spec pl011 = {.revision = 2, .interface = SPCR_IF_PL011, .space = 0,
                              .access_size = 3, .address = 0x9000000, .baud_code = 7};
    CHECK(!uart_of(&pl011, &u, &why), "PL011");
    CHECK(strstr(why.text, "PL011 UART, not a 16550"), "why: %s", why.text);
}

int main(void)
{
    RUN(divisor_classic_clock);
    RUN(divisor_fast_clocks_round_to_nearest);
    RUN(divisor_refuses_what_the_clock_cannot_make);
    RUN(spcr_com1_at_another_rate);
    RUN(spcr_baud_as_is_keeps_the_firmware_rate);
    RUN(spcr_rev3_uart_clock_and_dword_access);
    RUN(spcr_rev2_ignores_the_clock_field);
    RUN(spcr_rev4_precise_baud);
    RUN(spcr_refusals_say_why);
    return check_finish();
}
