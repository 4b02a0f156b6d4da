// HOST-DEPS: lib/printf.c lib/parse.c lib/config.c lib/why.c app/results_text.c
/* The text of the results and checkpoint variables: the bounded history,
 * campaign counting, the unfinished-run report; and the soak= durations. */
#include "lib/config.h"
#include "lib/printf.h"
#include "tests/host/check.h"
#include "app/results_text.h"

#include <string.h>

CHECK_STATE_DEFINE;

static int count_lines(const char *text, const char *prefix)
{
    int n = 0;
    for (const char *p = text; p && *p;) {
        n += !strncmp(p, prefix, strlen(prefix));
        const char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : p + strlen(p);
    }
    return n;
}

TEST(get_values)
{
    const char *t = "vtdsync x\nverdict=PASS\nid=abc/12\nverdicts=no\n";
    char v[16];
    CHECK(rtext_get(t, "verdict", v, sizeof(v)) && !strcmp(v, "PASS"), "verdict '%s'", v);
    CHECK(rtext_get(t, "id", v, sizeof(v)) && !strcmp(v, "abc/12"), "id '%s'", v);
    CHECK(!rtext_get(t, "verd", v, sizeof(v)), "a key's prefix is not the key");
    CHECK(!rtext_get(t, "time", v, sizeof(v)), "absent key");
    CHECK(rtext_get(t, "id", v, 3) && !strcmp(v, "ab"), "cut to the buffer: '%s'", v);
    CHECK(!rtext_get("", "id", v, sizeof(v)), "empty text");
}

TEST(history_is_bounded_oldest_first)
{
    char prev[2048] = "", text[2048];
    for (int run = 1; run <= 12; run++) {
        char entry[32];
        snprintf(entry, sizeof(entry), "run%02d PASS", run);
        size_t n = (size_t)snprintf(text, sizeof(text), "verdict=PASS\n");
        n = rtext_history(text, sizeof(text), n, prev, entry, RESULTS_HISTORY_MAX);
        CHECK(n == strlen(text), "length %zu, text %zu", n, strlen(text));
        strcpy(prev, text);
    }
    CHECK(count_lines(prev, "history=") == RESULTS_HISTORY_MAX, "%d history lines:\n%s",
          count_lines(prev, "history="), prev);
    CHECK(strstr(prev, "history=run05 PASS\nhistory=run06") != NULL, "oldest kept is run05:\n%s",
          prev);
    CHECK(strstr(prev, "history=run12 PASS\n") != NULL, "newest last:\n%s", prev);
    CHECK(!strstr(prev, "run04"), "run04 dropped");
    CHECK(count_lines(prev, "verdict=") == 1, "other lines of prev are not copied");
}

TEST(history_never_overflows)
{
    char prev[600], small[64];
    size_t n = 0;
    prev[0] = '\0';
    for (int i = 0; i < 8; i++)
        n += (size_t)snprintf(prev + n, sizeof(prev) - n, "history=%060d\n", i);
    memset(small, 'x', sizeof(small));
    size_t len = rtext_history(small, 40, 0, prev, "new", RESULTS_HISTORY_MAX);
    CHECK(len == 39 && small[39] == '\0' && small[40] == 'x', "len %zu, cut at the size", len);
    CHECK(rtext_history(small, 40, 39, NULL, "new", 8) == 39, "a full buffer stays full");
}

TEST(campaign)
{
    uint32_t k, n;
    CHECK(rtext_campaign("2/3", &k, &n) && k == 2 && n == 3, "2/3 -> %u/%u", k, n);
    CHECK(!rtext_campaign("0/3", &k, &n) && !rtext_campaign("2", &k, &n) &&
              !rtext_campaign("", &k, &n) && !rtext_campaign("a/b", &k, &n),
          "junk refused");
    CHECK(rtext_campaign_next("", "", 3) == 1, "a new campaign starts at 1");
    CHECK(rtext_campaign_next("1/3", "", 3) == 2, "run 1 done: 2");
    CHECK(rtext_campaign_next("2/3", "", 3) == 3, "run 2 done: 3");
    CHECK(rtext_campaign_next("3/3", "", 3) == 1, "complete: a new campaign");
    CHECK(rtext_campaign_next("2/5", "", 3) == 1, "another campaign's N: a new one");
    CHECK(rtext_campaign_next("1/3", "2/3", 3) == 3, "a run that died counts: 3");
    CHECK(rtext_campaign_next("", "3/3", 3) == 1, "the last run died: a new campaign");
}

TEST(unfinished_report)
{
    const char *cp = "vtdsync x\nid=a/1\nstarted=S\nsuite=transitions\ncase=clear:SS-A->PT\n"
                     "iteration=12\nat=2026-01-02T03:04:05\npassed=20\nfailed=1\nskipped=2\n"
                     "run=2/3\ncounts=soak 00:10:00: 9 updates\n";
    char out[400];
    rtext_unfinished(cp, out, sizeof(out));
    CHECK(!strcmp(out, "last started transitions clear:SS-A->PT iteration 12 at "
                       "2026-01-02T03:04:05; counts so far: 20 passed, 1 failed, 2 skipped, "
                       "soak 00:10:00: 9 updates; run 2/3 of a campaign"),
          "report '%s'", out);
    rtext_unfinished("garbage", out, sizeof(out));
    CHECK(!strcmp(out, "last started ? ? iteration 0 at unknown; counts so far: 0 passed, 0 "
                       "failed, 0 skipped"),
          "report of junk '%s'", out);
    rtext_unfinished(cp, out, 20);
    CHECK(strlen(out) == 19, "cut to the buffer");
}

TEST(durations)
{
    uint32_t s = 0;
    CHECK(config_parse_duration("8h", 30 * 86400, &s) && s == 8 * 3600, "8h = %u", s);
    CHECK(config_parse_duration("3m", 30 * 86400, &s) && s == 180, "3m = %u", s);
    CHECK(config_parse_duration("20s", 30 * 86400, &s) && s == 20, "20s = %u", s);
    CHECK(config_parse_duration("45", 30 * 86400, &s) && s == 45, "45 = %u", s);
    CHECK(config_parse_duration("2d", 30 * 86400, &s) && s == 2 * 86400, "2d = %u", s);
    CHECK(!config_parse_duration("31d", 30 * 86400, &s), "over the maximum");
    CHECK(!config_parse_duration("h", 30 * 86400, &s) && !config_parse_duration("", 100, &s) &&
              !config_parse_duration("5x", 100, &s) && !config_parse_duration("-5m", 1000, &s),
          "junk refused");
    CHECK(!config_parse_duration("99999999999999999999h", ~0ull, &s), "overflow refused");
    struct config c;
    config_defaults(&c);
    CHECK(c.soak_s == 0 && c.soak_report_s == 300 && c.runs == 1, "defaults %u %u %u", c.soak_s,
          c.soak_report_s, c.runs);
    config_apply(&c, "soak=8h soak_report=60s runs=3", "test");
    CHECK(c.soak_s == 28800 && c.soak_report_s == 60 && c.runs == 3 && !c.problems,
          "set %u %u %u", c.soak_s, c.soak_report_s, c.runs);
    config_apply(&c, "soak=forever soak_report=0", "test");
    CHECK(c.soak_s == 0 && c.soak_report_s == 300 && c.problems == 2,
          "bad values fall back to the defaults: %u %u, %d problems", c.soak_s, c.soak_report_s,
          c.problems);
}

int main(void)
{
    RUN(get_values);
    RUN(history_is_bounded_oldest_first);
    RUN(history_never_overflows);
    RUN(campaign);
    RUN(unfinished_report);
    RUN(durations);
    return check_finish();
}
