// HOST-DEPS: lib/printf.c acpi/diag.c
/* Severities of ACPI findings: counted apart, handed to the sink with the
 * severity, and printed with "defect:" after the table name only for
 * defects. */
#include "acpi/diag.h"
#include "tests/host/check.h"

#include <string.h>

CHECK_STATE_DEFINE;

static char printed[1024];

static void capture(const char *s, size_t len)
{
    size_t have = strlen(printed);
    if (have + len < sizeof(printed)) {
        memcpy(printed + have, s, len);
        printed[have + len] = 0;
    }
}

struct seen {
    unsigned n;
    enum acpi_severity sev[4];
    char line[4][240];
};

static void sink(void *ctx, enum acpi_severity sev, const char *line)
{
    struct seen *s = ctx;
    if (s->n < 4) {
        s->sev[s->n] = sev;
        snprintf(s->line[s->n], sizeof(s->line[0]), "%s", line);
    }
    s->n++;
}

TEST(sink_gets_severity_and_plain_line)
{
    struct seen s = {0};
    struct acpi_diag d = {sink, &s, 0, 0};
    acpi_diagf(&d, "DMAR: structure type 0 (DRHD) at offset 0x30: register base 0x0 at %s", "0x38");
    acpi_notef(&d, "DMAR: structure type %u (SATC) at offset 0x90: not used", 5u);
    CHECK(d.count == 2 && d.defects == 1, "count %u defects %u", d.count, d.defects);
    CHECK(s.n == 2 && s.sev[0] == ACPI_DEFECT && s.sev[1] == ACPI_NOTE, "severities");
    CHECK(!strcmp(s.line[0],
                  "# DMAR: structure type 0 (DRHD) at offset 0x30: register base 0x0 at 0x38"),
          "defect line '%s'", s.line[0]);
    CHECK(!strcmp(s.line[1], "# DMAR: structure type 5 (SATC) at offset 0x90: not used"),
          "note line '%s'", s.line[1]);
}

TEST(printed_defects_say_defect)
{
    printed[0] = 0;
    printf_set_sink(capture);
    acpi_diagf(NULL, "DMAR: structure type 0 (DRHD) at offset 0x30: register base 0x0");
    acpi_notef(NULL, "DMAR: structure type 5 (SATC) at offset 0x90: not used");
    acpi_diagf(NULL, "no table name here");
    struct acpi_diag d = {0};
    acpi_notef(&d, "RSDP: note via a NULL fn");
    printf_set_sink(NULL);
    CHECK(d.count == 1 && d.defects == 0, "count %u defects %u", d.count, d.defects);
    const char *want = "# DMAR: defect: structure type 0 (DRHD) at offset 0x30: register base 0x0\n"
                       "# DMAR: structure type 5 (SATC) at offset 0x90: not used\n"
                       "# defect: no table name here\n"
                       "# RSDP: note via a NULL fn\n";
    CHECK(!strcmp(printed, want), "printed:\n%s", printed);
}

int main(void)
{
    RUN(sink_gets_severity_and_plain_line);
    RUN(printed_defects_say_defect);
    return check_finish();
}
