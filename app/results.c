/* Results that survive a reboot: a short text summary in a non-volatile
 * EFI variable, readable under Linux with tools/vtdsync-results. */
#include "app/results.h"

#include "boot/efi_runtime.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/printf.h"
#include "app/checkpoint.h"
#include "app/results_text.h"

#define VAR_NAME "VtdsyncResult"
#define MAX_FAILS 4
/* 8 history lines of ~100 bytes, the summary and one unfinished report:
 * well inside the 8 KiB OVMF and most firmware allow for a variable. */
#define TEXT_SIZE 2048

static char fails[MAX_FAILS][64];
static int nfails;
static char prev[TEXT_SIZE];
static bool prev_loaded;
static char unfinished[400];
static char soak[80];

void results_note_failure(const char *suite, const char *name)
{
    if (nfails < MAX_FAILS)
        ksnprintf(fails[nfails++], sizeof(fails[0]), "%s.%s", suite, name);
}

const char *results_previous(void)
{
    if (!prev_loaded) {
        size_t size = sizeof(prev) - 1;
        prev_loaded = true;
        if (efi_get_variable(VAR_NAME, prev, &size))
            size = 0;
        prev[size < sizeof(prev) ? size : sizeof(prev) - 1] = '\0';
    }
    return prev;
}

static bool write_text(const char *text, size_t n)
{
    uint64_t st = efi_set_variable(VAR_NAME, text, n);
    if (st)
        kprintf("# results: could not write EFI variable %s (status %#llx)\n", VAR_NAME,
                (unsigned long long)st);
    return !st;
}

void results_keep_unfinished(const char *report, const char *entry)
{
    static char text[TEXT_SIZE];
    const char *old = results_previous();
    ksnprintf(unfinished, sizeof(unfinished), "%s", report);
    /* The previous result's lines stay, the report replaces an older one,
     * the history grows: the variable says so even if this run dies too. */
    size_t n = 0;
    for (const char *p = old; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
        if (strncmp(p, "history=", 8) && strncmp(p, "unfinished=", 11) &&
            n + len < sizeof(text)) {
            memcpy(text + n, p, len);
            n += len;
        }
        p += len;
    }
    text[n] = '\0';
    n += (size_t)ksnprintf(text + n, sizeof(text) - n, "unfinished=%s\n", report);
    if (n >= sizeof(text))
        n = sizeof(text) - 1;
    n = rtext_history(text, sizeof(text), n, old, entry, RESULTS_HISTORY_MAX);
    if (write_text(text, n))
        memcpy(prev, text, n + 1);
}

void results_note_soak(const char *figures)
{
    ksnprintf(soak, sizeof(soak), "%s", figures);
}

static const char *verdict_name(enum exit_code code)
{
    return code == EXIT_PASS ? "PASS" : code == EXIT_ALL_SKIPPED ? "SKIPPED"
         : code == EXIT_CRASH ? "CRASH" : code == EXIT_TIMEOUT ? "TIMEOUT" : "FAIL";
}

void results_save(enum exit_code code, const char *reason)
{
    static char text[TEXT_SIZE];
    struct ktap_totals t;
    ktap_totals(&t);
    const char *v = verdict_name(code);
    char when[24], campaign[32] = "";
    efi_time_string(when, sizeof(when));
    if (checkpoint_campaign_runs())
        ksnprintf(campaign, sizeof(campaign), "%u/%u", checkpoint_campaign_run(),
                  checkpoint_campaign_runs());
    int n = ksnprintf(text, sizeof(text),
                      "vtdsync %s\nverdict=%s\npassed=%d\nfailed=%d\nskipped=%d\ntime=%s\n"
                      "reason=%s\nid=%s\n",
                      VTDSYNC_VERSION, v, t.passed, t.failed, t.skipped, when,
                      reason ? reason : "", checkpoint_run_id());
    if (campaign[0] && n < (int)sizeof(text))
        n += ksnprintf(text + n, sizeof(text) - (size_t)n, "run=%s\n", campaign);
    if (unfinished[0] && n < (int)sizeof(text))
        n += ksnprintf(text + n, sizeof(text) - (size_t)n, "unfinished=%s\n", unfinished);
    for (int i = 0; i < nfails && n < (int)sizeof(text); i++)
        n += ksnprintf(text + n, sizeof(text) - (size_t)n, "fail=%s\n", fails[i]);
    if (n >= (int)sizeof(text))
        n = sizeof(text) - 1;
    char entry[240];
    ksnprintf(entry, sizeof(entry), "%s %s passed=%d failed=%d skipped=%d%s%s%s%s", when, v,
              t.passed, t.failed, t.skipped, campaign[0] ? " run=" : "", campaign,
              soak[0] ? " soak: " : "", soak);
    n = (int)rtext_history(text, sizeof(text), (size_t)n, results_previous(), entry,
                           RESULTS_HISTORY_MAX);
    if (write_text(text, (size_t)n))
        kprintf("# results: saved in EFI variable %s (%d bytes)\n", VAR_NAME, n);
}

void results_print_previous(void)
{
    static char text[TEXT_SIZE];
    ksnprintf(text, sizeof(text), "%s", results_previous());
    if (!text[0])
        return;
    kprintf("# previous run's EFI variable %s:\n", VAR_NAME);
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        kprintf("#   %s\n", line);
        if (!nl)
            break;
        line = nl + 1;
    }
}
