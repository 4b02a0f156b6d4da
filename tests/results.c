/* Results that survive a reboot: a short text summary in a non-volatile
 * EFI variable, readable under Linux with tools/vtdsync-results. */
#include "tests/results.h"

#include "boot/efi_runtime.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/printf.h"

#define VAR_NAME "VtdsyncResult"
#define MAX_FAILS 4

static char fails[MAX_FAILS][64];
static int nfails;

void results_note_failure(const char *suite, const char *name)
{
    if (nfails < MAX_FAILS)
        ksnprintf(fails[nfails++], sizeof(fails[0]), "%s.%s", suite, name);
}

void results_save(enum exit_code code, const char *reason)
{
    char text[512];
    struct ktap_totals t;
    ktap_totals(&t);
    const char *v = code == EXIT_PASS ? "PASS" : code == EXIT_ALL_SKIPPED ? "SKIPPED"
                  : code == EXIT_CRASH ? "CRASH" : code == EXIT_TIMEOUT ? "TIMEOUT" : "FAIL";
    char when[24];
    efi_time_string(when, sizeof(when));
    int n = ksnprintf(text, sizeof(text),
                      "vtdsync %s\nverdict=%s\npassed=%d\nfailed=%d\nskipped=%d\ntime=%s\n"
                      "reason=%s\n",
                      VTDSYNC_VERSION, v, t.passed, t.failed, t.skipped, when,
                      reason ? reason : "");
    for (int i = 0; i < nfails && n < (int)sizeof(text); i++)
        n += ksnprintf(text + n, sizeof(text) - n, "fail=%s\n", fails[i]);
    if (n >= (int)sizeof(text))
        n = sizeof(text) - 1;
    uint64_t st = efi_set_variable(VAR_NAME, text, (size_t)n);
    if (st)
        kprintf("# results: could not write EFI variable %s (status %#llx)\n", VAR_NAME,
                (unsigned long long)st);
    else
        kprintf("# results: saved in EFI variable %s (%d bytes)\n", VAR_NAME, n);
}

void results_print_previous(void)
{
    char text[512];
    size_t size = sizeof(text) - 1;
    if (efi_get_variable(VAR_NAME, text, &size))
        return;
    text[size] = '\0';
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
