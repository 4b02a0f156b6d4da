/* KTAP v1 output with counters. */
#include "lib/ktap.h"

#include <stdarg.h>

#include "lib/kstring.h"

static struct {
    int suite_no;      /* top-level test number */
    int case_no;       /* case number inside the open suite */
    int planned_cases; /* -1: no plan printed (count not known up front) */
    int planned_suites; /* -1: no top-level plan printed */
    int suite_failed, suite_passed, suite_skipped;
    bool in_suite, bailed;
    char suite_name[64];
    struct ktap_totals totals;
} k;

void ktap_reset(void)
{
    memset(&k, 0, sizeof(k));
    k.planned_suites = -1;
}

static const char *indent(void)
{
    return k.in_suite ? "    " : "";
}

void ktap_version(void)
{
    kprintf("KTAP version 1\n");
}

void ktap_begin(int nsuites)
{
    k.planned_suites = nsuites;
    kprintf("1..%d\n", nsuites);
}

void ktap_suite_begin(const char *name, int ncases)
{
    k.in_suite = true;
    k.case_no = 0;
    k.planned_cases = ncases;
    k.suite_failed = k.suite_passed = k.suite_skipped = 0;
    ksnprintf(k.suite_name, sizeof(k.suite_name), "%s", name);
    kprintf("    KTAP version 1\n    # Subtest: %s\n", name);
    /* KTAP v1: the plan follows the version line or is left out. */
    if (ncases >= 0)
        kprintf("    1..%d\n", ncases);
}

void ktap_case(enum ktap_result r, const char *name, const char *fmt, ...)
{
    char reason[256] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        kvsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
    }
    k.case_no++;
    switch (r) {
    case KTAP_PASS:
        k.suite_passed++;
        k.totals.passed++;
        kprintf("%sok %d %s\n", indent(), k.case_no, name);
        break;
    case KTAP_SKIP:
        k.suite_skipped++;
        k.totals.skipped++;
        kprintf("%sok %d %s # SKIP %s\n", indent(), k.case_no, name, reason);
        break;
    case KTAP_FAIL:
        k.suite_failed++;
        k.totals.failed++;
        if (reason[0])
            kprintf("%s# %s: %s\n", indent(), name, reason);
        kprintf("%snot ok %d %s\n", indent(), k.case_no, name);
        break;
    }
}

void ktap_suite_end(void)
{
    if (!k.in_suite)
        return;
    if (k.planned_cases >= 0 && k.planned_cases != k.case_no)
        kprintf("    # plan said %d cases, ran %d\n", k.planned_cases, k.case_no);
    k.in_suite = false;
    k.suite_no++;
    if (k.suite_failed || (k.planned_cases >= 0 && k.planned_cases != k.case_no))
        kprintf("not ok %d %s\n", k.suite_no, k.suite_name);
    else if (k.case_no > 0 && k.suite_skipped == k.case_no)
        kprintf("ok %d %s # SKIP all cases skipped\n", k.suite_no, k.suite_name);
    else
        kprintf("ok %d %s\n", k.suite_no, k.suite_name);
}

void ktap_suite_skip(const char *name, const char *reason)
{
    k.suite_no++;
    k.totals.skipped++;
    kprintf("ok %d %s # SKIP %s\n", k.suite_no, name, reason);
}

void ktap_suite_fail(const char *name, const char *reason)
{
    k.suite_no++;
    k.totals.failed++;
    kprintf("# %s: %s\nnot ok %d %s\n", name, reason, k.suite_no, name);
}

void ktap_diag(const char *fmt, ...)
{
    char line[480];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    kprintf("%s# %s\n", indent(), line);
}

/* After a bail-out, the tests a plan promised but that never ran are
 * reported as skipped (and counted so), so that the document still holds
 * as many results as its plan and a KTAP parser reads it without error. */
static void skip_unrun(const char *ind, int from, int planned)
{
    for (int n = from; n <= planned; n++) {
        k.totals.skipped++;
        kprintf("%sok %d not-run # SKIP the run bailed out before it\n", ind, n);
    }
}

void ktap_bail_out(const char *directive, const char *reason)
{
    if (k.bailed)
        return;
    k.bailed = true;
    /* The case in progress counts as failed, in its suite if one is open,
     * else as a top-level test of its own. */
    k.totals.failed++;
    if (k.in_suite) {
        kprintf("    not ok %d in-progress # %s %s\n", k.case_no + 1, directive, reason);
        skip_unrun("    ", k.case_no + 2, k.planned_cases);
        k.in_suite = false;
        kprintf("not ok %d %s\n", ++k.suite_no, k.suite_name);
    } else {
        kprintf("not ok %d in-progress # %s %s\n", ++k.suite_no, directive, reason);
    }
    skip_unrun("", k.suite_no + 1, k.planned_suites);
    kprintf("Bail out! %s\n", reason);
}

void ktap_totals(struct ktap_totals *t)
{
    *t = k.totals;
}

const char *ktap_current_suite(void)
{
    return k.in_suite ? k.suite_name : "(between suites)";
}

void ktap_end(void)
{
    kprintf("%d passed, %d failed, %d skipped\n", k.totals.passed, k.totals.failed,
            k.totals.skipped);
}
