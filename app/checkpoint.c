/* The checkpoint variable (checkpoint.h). */
#include "app/checkpoint.h"

#include "arch/x86/tsc.h"
#include "boot/efi_runtime.h"
#include "iommu/vtd.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/printf.h"
#include "app/results.h"
#include "app/results_text.h"
#include "app/run.h"

#define CP_VAR "VtdsyncCheckpoint"
#define CP_SIZE 512
/* The rate limit for progress checkpoints: at most 1440 writes a day. */
#define CP_INTERVAL_US (60ull * 1000000)

static struct {
    char id[48], started[24];
    uint32_t run, runs; /* campaign: run K of N, 0 of 0 when none */
    char suite[32], kase[64], counts[160];
    uint32_t iteration;
    char written_suite[32], written_case[64];
    bool active;
    uint64_t last_write_us;
    /* what the writes cost */
    uint64_t writes, failures, total_us, max_us, bytes;
} cp;

const char *checkpoint_run_id(void)
{
    return cp.id;
}

uint32_t checkpoint_campaign_run(void)
{
    return cp.run;
}

uint32_t checkpoint_campaign_runs(void)
{
    return cp.runs;
}

static void write_now(void)
{
    char text[CP_SIZE], at[24];
    struct ktap_totals t;
    ktap_totals(&t);
    efi_time_string(at, sizeof(at));
    int n = ksnprintf(text, sizeof(text),
                      "vtdsync %s\nid=%s\nstarted=%s\nsuite=%s\ncase=%s\niteration=%u\nat=%s\n"
                      "uptime_s=%llu\npassed=%d\nfailed=%d\nskipped=%d\n",
                      VTDSYNC_VERSION, cp.id, cp.started, cp.suite, cp.kase, cp.iteration, at,
                      (unsigned long long)(uptime_us() / 1000000), t.passed, t.failed, t.skipped);
    if (cp.runs && n < (int)sizeof(text))
        n += ksnprintf(text + n, sizeof(text) - (size_t)n, "run=%u/%u\n", cp.run, cp.runs);
    if (cp.counts[0] && n < (int)sizeof(text))
        n += ksnprintf(text + n, sizeof(text) - (size_t)n, "counts=%s\n", cp.counts);
    if (n >= (int)sizeof(text))
        n = sizeof(text) - 1;
    uint64_t t0 = uptime_us();
    uint64_t st = efi_set_variable(CP_VAR, text, (size_t)n);
    uint64_t us = uptime_us() - t0;
    cp.last_write_us = uptime_us();
    ksnprintf(cp.written_suite, sizeof(cp.written_suite), "%s", cp.suite);
    ksnprintf(cp.written_case, sizeof(cp.written_case), "%s", cp.kase);
    if (st) {
        /* Said once: a full or read-only store must not flood the log. */
        if (!cp.failures++)
            kprintf("# checkpoint: could not write EFI variable %s (status %#llx); the run "
                    "goes on without checkpoints\n", CP_VAR, (unsigned long long)st);
        return;
    }
    cp.writes++;
    cp.total_us += us;
    cp.bytes = (uint64_t)n;
    if (us > cp.max_us)
        cp.max_us = us;
}

void checkpoint_at(const char *suite, const char *kase, uint32_t iteration, bool risky)
{
    if (!cp.active)
        return;
    ksnprintf(cp.suite, sizeof(cp.suite), "%s", suite);
    ksnprintf(cp.kase, sizeof(cp.kase), "%s", kase);
    cp.iteration = iteration;
    bool changed = strcmp(cp.suite, cp.written_suite) || strcmp(cp.kase, cp.written_case);
    if ((risky && changed) || uptime_us() - cp.last_write_us >= CP_INTERVAL_US)
        write_now();
}

void checkpoint_counts(const char *counts)
{
    ksnprintf(cp.counts, sizeof(cp.counts), "%s", counts);
}

/* Enabling translation on a unit is a step that can hang a real machine. */
static void before_translation(const struct vtd_unit *u)
{
    char what[48];
    ksnprintf(what, sizeof(what), "enable translation unit %d", u->index);
    /* The suite is the one the runner checkpointed last: a suite enables
     * translation in its set-up, before its KTAP subtest begins. */
    char suite[sizeof(cp.suite)];
    ksnprintf(suite, sizeof(suite), "%s", cp.suite);
    checkpoint_at(suite, what, 0, true);
}

/* The previous run's checkpoint: reported when no result carries its id. */
static void check_previous(char *old_run, size_t old_run_size)
{
    static char old[CP_SIZE];
    size_t size = sizeof(old) - 1;
    if (efi_get_variable(CP_VAR, old, &size))
        return;
    old[size] = '\0';
    rtext_get(old, "run", old_run, old_run_size);
    char old_id[48] = "", result_id[48] = "";
    rtext_get(old, "id", old_id, sizeof(old_id));
    rtext_get(results_previous(), "id", result_id, sizeof(result_id));
    if (old_id[0] && !strcmp(old_id, result_id))
        return; /* it ended with a result; only the deletion was lost */
    char report[400], entry[400], at[32] = "unknown";
    rtext_unfinished(old, report, sizeof(report));
    rtext_get(old, "at", at, sizeof(at));
    kprintf("# previous run did not finish: %s\n", report);
    ksnprintf(entry, sizeof(entry), "%s UNFINISHED %s", at, report);
    results_keep_unfinished(report, entry);
}

void checkpoint_boot(void)
{
    efi_time_string(cp.started, sizeof(cp.started));
    ksnprintf(cp.id, sizeof(cp.id), "%s/%llx", cp.started, (unsigned long long)rdtsc());
    char old_run[24] = "";
    check_previous(old_run, sizeof(old_run));
    if (cfg.runs > 1 && cfg.end != END_REBOOT) {
        kprintf("# campaign: runs=%u needs end=reboot; this is a single run\n", cfg.runs);
    } else if (cfg.runs > 1) {
        char last[24] = "";
        rtext_get(results_previous(), "run", last, sizeof(last));
        cp.runs = cfg.runs;
        cp.run = rtext_campaign_next(last, old_run, cfg.runs);
        kprintf("# campaign: run %u of %u (end=reboot: %s)\n", cp.run, cp.runs,
                cp.run < cp.runs ? "the machine reboots into the next run"
                                 : "the last run; the machine then ends as end=auto would");
    }
    cp.active = true;
    vtd_before_translation = before_translation;
    checkpoint_at("start", "start", 0, true);
}

void checkpoint_done(void)
{
    if (!cp.active)
        return;
    cp.active = false;
    vtd_before_translation = NULL;
    uint64_t st = efi_delete_variable(CP_VAR);
    if (st)
        kprintf("# checkpoint: could not delete EFI variable %s (status %#llx)\n", CP_VAR,
                (unsigned long long)st);
    if (cp.writes)
        kprintf("# checkpoint: %llu writes of EFI variable %s (%llu bytes), %llu us each on "
                "average, %llu us at most\n",
                (unsigned long long)cp.writes, CP_VAR, (unsigned long long)cp.bytes,
                (unsigned long long)(cp.total_us / cp.writes), (unsigned long long)cp.max_us);
}
