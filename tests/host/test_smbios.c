// HOST-DEPS: lib/printf.c acpi/smbios.c acpi/diag.c
/* SMBIOS structure walking: strings by index, truncated and malformed
 * tables rejected with a diagnostic, never read past the end. */
#include "acpi/smbios.h"
#include "tests/host/check.h"

#include <stdlib.h>
#include <string.h>

CHECK_STATE_DEFINE;

/* type 0 (BIOS), type 1 (system), type 2 (board), type 127 (end). */
static const uint8_t table[] = {
    0, 0x18, 0, 0, 1, 2, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    'E', 'D', 'K', ' ', 'I', 'I', 0, '1', '.', '0', 0, '0', '2', '/', '0', '6', '/', '2', '0', '1', '5', 0, 0,
    1, 0x1b, 1, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    'Q', 'E', 'M', 'U', 0, 'S', 't', 'a', 'n', 'd', 'a', 'r', 'd', ' ', 'P', 'C', ' ', ' ', 0, 'p', 'c', '-', 'q', '3', '5', 0, 0,
    2, 0x08, 2, 0, 1, 2, 0, 0, 'B', 'V', 0, 0,
    127, 4, 3, 0, 0, 0,
};

TEST(strings_by_index)
{
    struct smbios_info s = { 0 };
    CHECK(smbios_parse_table(table, sizeof(table), &s, NULL) == 0, "parse");
    CHECK(!strcmp(s.bios_vendor, "EDK II") && !strcmp(s.bios_version, "1.0") &&
              !strcmp(s.bios_date, "02/06/2015"),
          "bios '%s' '%s' '%s'", s.bios_vendor, s.bios_version, s.bios_date);
    CHECK(!strcmp(s.sys_vendor, "QEMU") && !strcmp(s.sys_product, "Standard PC") &&
              !strcmp(s.sys_version, "pc-q35"),
          "system '%s' '%s' '%s'", s.sys_vendor, s.sys_product, s.sys_version);
    CHECK(!strcmp(s.board_vendor, "B") || !strcmp(s.board_vendor, "BV"), "board '%s'",
          s.board_vendor);
    CHECK(s.board_product[0] == 0, "missing string 2 of a one-string set is empty: '%s'",
          s.board_product);
    CHECK(s.structures == 4, "%u structures", s.structures);
}

TEST(every_truncation_is_safe)
{
    for (size_t n = 0; n < sizeof(table); n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, table, n);
        struct smbios_info s = { 0 };
        struct acpi_diag d = { 0 };
        smbios_parse_table(copy, n, &s, &d); /* ASan checks every read */
        free(copy);
    }
}

TEST(bad_length_reported)
{
    uint8_t bad[sizeof(table)];
    memcpy(bad, table, sizeof(table));
    bad[1] = 0xff;
    struct smbios_info s = { 0 };
    struct acpi_diag d = { 0 };
    CHECK(smbios_parse_table(bad, sizeof(bad), &s, &d) == -1 && d.count == 1, "count %u", d.count);
}

int main(void)
{
    RUN(strings_by_index);
    RUN(every_truncation_is_safe);
    RUN(bad_length_reported);
    return check_finish();
}
