/* key=value text of the results and checkpoint variables (results_text.h). */
#include "app/results_text.h"

#include "lib/kstring.h"
#include "lib/parse.h"
#include "lib/printf.h"

/* Start of the line after the one at p (or the terminating NUL). */
static const char *next_line(const char *p)
{
    const char *nl = strchr(p, '\n');
    return nl ? nl + 1 : p + strlen(p);
}

static size_t line_len(const char *p)
{
    const char *nl = strchr(p, '\n');
    return nl ? (size_t)(nl - p) : strlen(p);
}

bool rtext_get(const char *text, const char *key, char *out, size_t size)
{
    size_t klen = strlen(key);
    for (const char *p = text; p && *p; p = next_line(p)) {
        if (strncmp(p, key, klen) || p[klen] != '=')
            continue;
        size_t n = line_len(p) - klen - 1;
        if (size) {
            if (n >= size)
                n = size - 1;
            memcpy(out, p + klen + 1, n);
            out[n] = '\0';
        }
        return true;
    }
    return false;
}

static size_t append(char *dst, size_t size, size_t len, const char *s, size_t n)
{
    if (len + 1 >= size)
        return len;
    if (n > size - 1 - len)
        n = size - 1 - len;
    memcpy(dst + len, s, n);
    len += n;
    dst[len] = '\0';
    return len;
}

size_t rtext_history(char *dst, size_t size, size_t len, const char *prev, const char *entry,
                     int max)
{
    static const char key[] = "history=";
    int count = 0;
    for (const char *p = prev; p && *p; p = next_line(p))
        count += !strncmp(p, key, sizeof(key) - 1);
    int skip = count - (max - 1); /* the oldest go */
    for (const char *p = prev; p && *p; p = next_line(p)) {
        if (strncmp(p, key, sizeof(key) - 1))
            continue;
        if (skip-- > 0)
            continue;
        len = append(dst, size, len, p, line_len(p));
        len = append(dst, size, len, "\n", 1);
    }
    len = append(dst, size, len, key, sizeof(key) - 1);
    len = append(dst, size, len, entry, strlen(entry));
    return append(dst, size, len, "\n", 1);
}

bool rtext_campaign(const char *v, uint32_t *k, uint32_t *n)
{
    uint64_t nums[2];
    if (!v || parse_u64_list(v, '/', nums, 2) != 2 || !nums[0] || !nums[1] ||
        nums[0] > 0xffffffffu || nums[1] > 0xffffffffu)
        return false;
    *k = (uint32_t)nums[0];
    *n = (uint32_t)nums[1];
    return true;
}

uint32_t rtext_campaign_next(const char *last_result, const char *last_checkpoint, uint32_t runs)
{
    uint32_t k, n, last = 0;
    if (rtext_campaign(last_result, &k, &n) && n == runs && k > last)
        last = k;
    if (rtext_campaign(last_checkpoint, &k, &n) && n == runs && k > last)
        last = k;
    return last && last < runs ? last + 1 : 1;
}

void rtext_unfinished(const char *cp, char *out, size_t size)
{
    char suite[32] = "?", kase[64] = "?", iter[16] = "0", at[32] = "unknown";
    char passed[12] = "0", failed[12] = "0", skipped[12] = "0", run[24] = "", soak[160] = "";
    rtext_get(cp, "suite", suite, sizeof(suite));
    rtext_get(cp, "case", kase, sizeof(kase));
    rtext_get(cp, "iteration", iter, sizeof(iter));
    rtext_get(cp, "at", at, sizeof(at));
    rtext_get(cp, "passed", passed, sizeof(passed));
    rtext_get(cp, "failed", failed, sizeof(failed));
    rtext_get(cp, "skipped", skipped, sizeof(skipped));
    rtext_get(cp, "run", run, sizeof(run));
    rtext_get(cp, "counts", soak, sizeof(soak));
    int n = ksnprintf(out, size, "last started %s %s iteration %s at %s; counts so far: %s passed, "
                      "%s failed, %s skipped",
                      suite, kase, iter, at, passed, failed, skipped);
    if (soak[0] && n > 0 && (size_t)n < size)
        n += ksnprintf(out + n, size - (size_t)n, ", %s", soak);
    if (run[0] && n > 0 && (size_t)n < size)
        ksnprintf(out + n, size - (size_t)n, "; run %s of a campaign", run);
}
