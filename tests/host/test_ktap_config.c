// HOST-DEPS: lib/printf.c lib/ktap.c lib/config.c lib/why.c lib/parse.c
/* The KTAP reporter's exact output and counters, and the option parser:
 * defaults, precedence, diagnostics for unknown keys and bad values. */
#include "lib/config.h"
#include "lib/ktap.h"
#include "lib/parse.h"
#include "lib/printf.h"
#include "tests/host/capture.h"
#include "tests/host/check.h"

#include <string.h>

CHECK_STATE_DEFINE;

TEST(ktap_document)
{
    ktap_reset();
    start_capture();
    ktap_version();
    ktap_begin(3);
    ktap_suite_begin("alpha", 3);
    ktap_case(KTAP_PASS, "one", NULL);
    ktap_diag("value %d", 7);
    ktap_case(KTAP_SKIP, "two", "no %s", "device");
    ktap_case(KTAP_FAIL, "three", "mismatch at %#x", 0x40);
    ktap_suite_end();
    ktap_suite_begin("beta", -1);
    ktap_case(KTAP_SKIP, "only", "nothing to do");
    ktap_suite_end();
    ktap_suite_skip("gamma", "no DMAR table");
    ktap_end();
    stop_capture();
    const char *expect = "KTAP version 1\n"
                         "1..3\n"
                         "    KTAP version 1\n"
                         "    # Subtest: alpha\n"
                         "    1..3\n"
                         "    ok 1 one\n"
                         "    # value 7\n"
                         "    ok 2 two # SKIP no device\n"
                         "    # three: mismatch at 0x40\n"
                         "    not ok 3 three\n"
                         "not ok 1 alpha\n"
                         "    KTAP version 1\n"
                         "    # Subtest: beta\n"
                         "    ok 1 only # SKIP nothing to do\n"
                         "ok 2 beta # SKIP all cases skipped\n"
                         "ok 3 gamma # SKIP no DMAR table\n"
                         "1 passed, 1 failed, 3 skipped\n";
    CHECK(strcmp(out, expect) == 0, "got:\n%s", out);
    struct ktap_totals t;
    ktap_totals(&t);
    CHECK(t.passed == 1 && t.failed == 1 && t.skipped == 3, "totals %d/%d/%d", t.passed,
          t.failed, t.skipped);
}

TEST(ktap_plan_mismatch_and_bail_out)
{
    ktap_reset();
    start_capture();
    ktap_suite_begin("short", 2);
    ktap_case(KTAP_PASS, "only", NULL);
    ktap_suite_end();
    ktap_suite_begin("crashy", 2);
    ktap_case(KTAP_PASS, "first", NULL);
    ktap_bail_out("ERROR", "exception #PF");
    stop_capture();
    CHECK(strstr(out, "    # plan said 2 cases, ran 1\nnot ok 1 short\n") != NULL, "%s", out);
    CHECK(strstr(out, "    not ok 2 in-progress # ERROR exception #PF\nnot ok 2 crashy\nBail out! exception #PF\n"),
          "%s", out);
    struct ktap_totals t;
    ktap_totals(&t);
    CHECK(t.failed == 1 && t.passed == 2, "totals %d/%d", t.passed, t.failed);
}

TEST(config_defaults_and_precedence)
{
    struct config c;
    start_capture();
    config_defaults(&c);
    CHECK(c.iterations == 2 && c.strategy == STRATEGY_BOTH && c.end == END_AUTO, "defaults");
    CHECK(!strcmp(c.suites, "all") && !strcmp(c.nvme_write, "deny"), "string defaults");
    config_apply(&c, "# lab defaults\niterations=5 end=reboot\nsuites=boot,transitions\n",
                 "vtdsync.cfg");
    config_apply(&c, "iterations=7 strategy=clear help", "load options");
    stop_capture();
    CHECK(c.iterations == 7, "load options win: %u", c.iterations);
    CHECK(c.end == END_REBOOT, "file value kept: %u", c.end);
    CHECK(c.strategy == STRATEGY_CLEAR && c.help == 1, "strategy %u help %u", c.strategy, c.help);
    CHECK(!strcmp(c.suites, "boot,transitions"), "suites '%s'", c.suites);
    CHECK(c.problems == 0 && out_len == 0, "unexpected diagnostics: %s", out);
    CHECK(config_list_has(c.suites, "transitions") && !config_list_has(c.suites, "traffic"),
          "list membership");
    CHECK(config_list_has("all", "anything"), "all matches everything");
}

TEST(config_bad_input)
{
    struct config c;
    config_defaults(&c);
    start_capture();
    config_apply(&c,
                 "iterations=0 frobnicate=1 strategy=fast\nnoequals =x "
                 "device=00:1f.9 console=mmio:0xfe000000,115200,4 suites=boot,bogus "
                 "window_us=99999999999999999999999",
                 "vtdsync.cfg");
    stop_capture();
    CHECK(c.problems == 8, "problems %d:\n%s", c.problems, out);
    CHECK(c.iterations == 2 && c.strategy == STRATEGY_BOTH && c.window_us == 0,
          "defaults restored");
    CHECK(!strcmp(c.console, "mmio:0xfe000000,115200,4"), "console '%s'", c.console);
    CHECK(strstr(out, "# config: vtdsync.cfg line 1: unknown option 'frobnicate'; ignored") != NULL,
          "%s", out);
    CHECK(strstr(out, "bad value '0' for iterations= (out of range or not a number; expected an "
                      "integer 1..100000); using 2") != NULL,
          "%s", out);
    CHECK(strstr(out, "line 2: 'noequals' is not key=value") != NULL, "%s", out);
    CHECK(strstr(out, "bad value '00:1f.9' for device=") != NULL, "%s", out);
    CHECK(strstr(out, "bad value 'boot,bogus' for suites=") != NULL, "%s", out);
}

TEST(config_screen)
{
    static const struct {
        const char *v;
        bool ok;
        uint32_t w, h;
    } cases[] = {
        { "1024x768", true, 1024, 768 }, { "640x400", true, 640, 400 },
        { "3840x2160", true, 3840, 2160 }, { "auto", false, 0, 0 }, { "off", false, 0, 0 },
        { "639x480", false, 0, 0 },      { "1024x399", false, 0, 0 }, { "x768", false, 0, 0 },
        { "1024x", false, 0, 0 },        { "1024*768", false, 0, 0 }, { "123456x768", false, 0, 0 },
        { "1024x768x1", false, 0, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t w = 0, h = 0;
        bool ok = config_screen_size(cases[i].v, &w, &h);
        CHECK(ok == cases[i].ok && (!ok || (w == cases[i].w && h == cases[i].h)),
              "'%s': ok %d %ux%u", cases[i].v, ok, w, h);
    }
    struct config c;
    config_defaults(&c);
    CHECK(!strcmp(c.screen, "auto"), "default '%s'", c.screen);
    start_capture();
    config_apply(&c, "screen=off", "load options");
    config_apply(&c, "screen=1024x768", "vtdsync.cfg");
    CHECK(!strcmp(c.screen, "1024x768"), "'%s'", c.screen);
    config_apply(&c, "screen=huge", "load options");
    stop_capture();
    /* A bad value falls back to the default, as for every option. */
    CHECK(!strcmp(c.screen, "auto") && c.problems == 1, "'%s' problems %d: %s", c.screen,
          c.problems, out);
    CHECK(strstr(out, "bad value 'huge' for screen=") != NULL, "%s", out);
}

TEST(config_print_and_help)
{
    struct config c;
    config_defaults(&c);
    start_capture();
    config_print(&c);
    config_print_help();
    stop_capture();
    CHECK(strstr(out, "# config: suites=all iterations=2") != NULL, "%s", out);
    CHECK(strstr(out, "strategy=both") && strstr(out, "end=auto"), "%s", out);
    CHECK(strstr(out, "#   window_us=  (default '0')") != NULL, "%s", out);
    CHECK(strstr(out, "one of entry_sync|clear|both") != NULL, "%s", out);
}

TEST(parsers)
{
    uint64_t v, list[3];
    uint16_t seg;
    uint8_t b, d, f;
    CHECK(parse_u64("0x1f", &v) && v == 31, "hex");
    CHECK(parse_u64("18446744073709551615", &v) && v == UINT64_MAX, "max");
    CHECK(!parse_u64("18446744073709551616", &v), "overflow");
    CHECK(!parse_u64("12a", &v) && !parse_u64("", &v) && !parse_u64("0x", &v), "junk");
    CHECK(parse_u64_list("0x3f8,115200", ',', list, 3) == 2 && list[1] == 115200, "list");
    CHECK(parse_u64_list("1,2,3,4", ',', list, 3) == -1, "list too long");
    CHECK(parse_bdf("0001:3a:1f.7", &seg, &b, &d, &f) && seg == 1 && b == 0x3a && d == 0x1f &&
              f == 7,
          "full bdf");
    CHECK(parse_bdf("00:03.0", &seg, &b, &d, &f) && seg == 0 && d == 3, "short bdf");
    CHECK(!parse_bdf("00:20.0", &seg, &b, &d, &f) && !parse_bdf("3.0", &seg, &b, &d, &f) &&
              !parse_bdf("00:03.0x", &seg, &b, &d, &f),
          "bad bdf");
}

int main(void)
{
    RUN(ktap_document);
    RUN(ktap_plan_mismatch_and_bail_out);
    RUN(config_defaults_and_precedence);
    RUN(config_bad_input);
    RUN(config_screen);
    RUN(config_print_and_help);
    RUN(parsers);
    return check_finish();
}
