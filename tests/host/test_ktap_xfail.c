// HOST-DEPS: lib/printf.c lib/ktap.c
/* The KTAP XFAIL directive: "ok N name # XFAIL reason", a suite holding
 * one still passes, it counts as passed in the totals line, and a
 * diagnostic before that line says how many passes were expected failures.
 * Lines are looked up one by one so that the plan's position does not
 * matter here. */
#include "lib/ktap.h"
#include "tests/host/capture.h"
#include "tests/host/check.h"

#include <string.h>

CHECK_STATE_DEFINE;

static void run_doc(enum ktap_result deviation)
{
    ktap_reset();
    start_capture();
    ktap_version();
    ktap_begin(1);
    ktap_suite_begin("iso", -1);
    ktap_case(deviation, "pt_fastpath_after_pt_exit", "known deviation");
    ktap_case(KTAP_PASS, "roundtrip", NULL);
    ktap_case(KTAP_SKIP, "nested", "not offered");
    ktap_suite_end();
    ktap_end();
    stop_capture();
}

TEST(xfail_is_an_ok_line_counted_as_passed)
{
    run_doc(KTAP_XFAIL);
    CHECK(strstr(out, "\n    ok 1 pt_fastpath_after_pt_exit # XFAIL known deviation\n"),
          "case:\n%s", out);
    CHECK(strstr(out, "\nok 1 iso\n"), "an XFAIL does not fail its suite:\n%s", out);
    CHECK(strstr(out, "\n# 1 expected failure(s) (XFAIL) counted as passed\n"), "diag:\n%s", out);
    CHECK(strstr(out, "\n2 passed, 0 failed, 1 skipped\n"), "totals line:\n%s", out);
    struct ktap_totals t;
    ktap_totals(&t);
    CHECK(t.passed == 2 && t.failed == 0 && t.skipped == 1 && t.xfailed == 1,
          "totals %d/%d/%d xfail %d", t.passed, t.failed, t.skipped, t.xfailed);
}

TEST(unacknowledged_deviation_fails_without_xfail_line)
{
    run_doc(KTAP_FAIL);
    CHECK(strstr(out, "\n    not ok 1 pt_fastpath_after_pt_exit\n"), "case:\n%s", out);
    CHECK(strstr(out, "\nnot ok 1 iso\n"), "suite:\n%s", out);
    CHECK(!strstr(out, "XFAIL"), "no XFAIL anywhere:\n%s", out);
    CHECK(strstr(out, "\n1 passed, 1 failed, 1 skipped\n"), "totals line:\n%s", out);
}

int main(void)
{
    RUN(xfail_is_an_ok_line_counted_as_passed);
    RUN(unacknowledged_deviation_fails_without_xfail_line);
    return check_finish();
}
