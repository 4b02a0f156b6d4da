// HOST-DEPS: lib/printf.c lib/ktap.c
/* KTAP v1 structure around plans and bail-outs: a suite without a known
 * count prints no plan at all (never a trailing one), and a bail-out leaves
 * a document with as many results as its plans promised: the case in
 * progress failed, the tests that never ran skipped, all of them counted. */
#include "lib/ktap.h"
#include "lib/printf.h"
#include "tests/host/capture.h"
#include "tests/host/check.h"

#include <string.h>

CHECK_STATE_DEFINE;

static void run_captured(void (*body)(void))
{
    ktap_reset();
    start_capture();
    body();
    stop_capture();
}

static void planless_suite(void)
{
    ktap_suite_begin("open", -1);
    ktap_case(KTAP_PASS, "a", NULL);
    ktap_case(KTAP_PASS, "b", NULL);
    ktap_suite_end();
}

TEST(no_trailing_plan)
{
    run_captured(planless_suite);
    const char *expect = "    KTAP version 1\n"
                         "    # Subtest: open\n"
                         "    ok 1 a\n"
                         "    ok 2 b\n"
                         "ok 1 open\n";
    CHECK(strcmp(out, expect) == 0, "got:\n%s", out);
}

static void bail_in_planned_suite(void)
{
    ktap_begin(3);
    ktap_suite_begin("first", 1);
    ktap_case(KTAP_PASS, "x", NULL);
    ktap_suite_end();
    ktap_suite_begin("second", 4);
    ktap_case(KTAP_PASS, "y", NULL);
    ktap_bail_out("TIMEOUT", "suite timeout");
    ktap_bail_out("ERROR", "a second report is ignored");
    ktap_end();
}

TEST(bail_out_fills_the_plans)
{
    run_captured(bail_in_planned_suite);
    const char *tail = "    ok 1 y\n"
                       "    not ok 2 in-progress # TIMEOUT suite timeout\n"
                       "    ok 3 not-run # SKIP the run bailed out before it\n"
                       "    ok 4 not-run # SKIP the run bailed out before it\n"
                       "not ok 2 second\n"
                       "ok 3 not-run # SKIP the run bailed out before it\n"
                       "Bail out! suite timeout\n"
                       "2 passed, 1 failed, 3 skipped\n";
    size_t n = strlen(tail);
    CHECK(out_len >= n && strcmp(out + out_len - n, tail) == 0, "got:\n%s", out);
    struct ktap_totals t;
    ktap_totals(&t);
    CHECK(t.passed == 2 && t.failed == 1 && t.skipped == 3, "totals %d/%d/%d", t.passed,
          t.failed, t.skipped);
}

static void bail_between_suites(void)
{
    ktap_version();
    ktap_bail_out("ERROR", "exception #PF page fault");
    ktap_end();
}

TEST(bail_out_before_any_suite)
{
    run_captured(bail_between_suites);
    const char *expect = "KTAP version 1\n"
                         "not ok 1 in-progress # ERROR exception #PF page fault\n"
                         "Bail out! exception #PF page fault\n"
                         "0 passed, 1 failed, 0 skipped\n";
    CHECK(strcmp(out, expect) == 0, "got:\n%s", out);
}

int main(void)
{
    RUN(no_trailing_plan);
    RUN(bail_out_fills_the_plans);
    RUN(bail_out_before_any_suite);
    return check_finish();
}
