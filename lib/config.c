/* Table-driven option parser. */
#include "lib/config.h"

#include <stddef.h>

#include "lib/kstring.h"
#include "lib/parse.h"
#include "lib/printf.h"
#include "lib/why.h"

/* OPT_ENUM stores the value's index, OPT_WORD the value's text. */
/* OPT_DURATION stores seconds, given as N, Ns, Nm, Nh or Nd. */
enum opt_type { OPT_UINT, OPT_ENUM, OPT_WORD, OPT_STRING, OPT_DURATION };

struct option {
    const char *name;
    enum opt_type type;
    size_t offset;
    size_t size;           /* string buffer size */
    uint64_t min, max;     /* OPT_UINT */
    const char *values;    /* OPT_ENUM: '|'-separated names, index = value */
    const char *def;
    const char *help;
    bool (*valid)(const char *v); /* OPT_STRING: optional check */
};

static bool valid_suites(const char *v);
static bool valid_device(const char *v);
static bool valid_nvme_write(const char *v);
static bool valid_console(const char *v);
static bool valid_quirk(const char *v);
static bool valid_screen(const char *v);

#define U(n, f, lo, hi, d, h) { n, OPT_UINT, offsetof(struct config, f), 0, lo, hi, 0, d, h, 0 }
#define D(n, f, lo, hi, d, h) { n, OPT_DURATION, offsetof(struct config, f), 0, lo, hi, 0, d, h, 0 }
#define E(n, f, vals, d, h) { n, OPT_ENUM, offsetof(struct config, f), 0, 0, 0, vals, d, h, 0 }
#define W(n, f, vals, d, h)                                                                \
    { n, OPT_WORD, offsetof(struct config, f), sizeof(((struct config *)0)->f), 0, 0, vals, d, h, 0 }
#define S(n, f, d, chk, h)                                                                 \
    { n, OPT_STRING, offsetof(struct config, f), sizeof(((struct config *)0)->f), 0, 0, 0, d, h, chk }

static const struct option options[] = {
    S("suites", suites, "all", valid_suites,
      "comma-separated suites: boot,platform,vtd,isolation,devices,traffic,transitions,"
      "stale,faults,foreign (or all)"),
    U("iterations", iterations, 1, 100000, "2", "repetitions of each transition pair"),
    U("evidence", evidence, 0, 1000000, "100",
      "DMA operations each transition pair must overlap its updates with (0: no quota)"),
    U("evidence_ms", evidence_ms, 1, 600000, "2000",
      "how long a transition pair may alternate to reach its evidence= quota"),
    U("stress", stress, 0, 10000000, "0", "random transitions in stress mode (0: off)"),
    E("strategy", strategy, "entry_sync|clear|both", "both",
      "PASID update method: entry_sync, clear (clear-then-update), or both side by side"),
    U("window_us", window_us, 0, 1000000, "0", "hold a breaking update's non-present window open"),
    S("device", device, "", valid_device, "traffic device SEG:BB:DD.F (default: first NVMe)"),
    S("nvme_write", nvme_write, "deny", valid_nvme_write,
      "NVMe writes: deny, allow, or a namespace id (QEMU scratch disks are always writable)"),
    S("console", console, "auto", valid_console,
      "serial console: auto (SPCR, else COM1), com1, com2, io:PORT[,BAUD], mmio:ADDR[,BAUD[,4]]"),
    U("verbose", verbose, 0, 3, "1", "diagnostic detail 0..3"),
    U("trace", trace, 0, 1, "0", "print every entry_sync store and sync"),
    E("end", end, "auto|exit|halt|reboot|shutdown", "auto",
      "after the run: auto (QEMU: exit code; else halt), exit, halt, reboot, shutdown"),
    U("timeout", timeout_s, 0, 86400, "600", "whole-run watchdog in seconds (0: off)"),
    U("test_timeout", test_timeout_s, 0, 86400, "120", "per-suite watchdog in seconds (0: off)"),
    W("test", test, "none|crash|apcrash|hang", "none",
      "self-test of the failure paths: crash (#PF on the BSP), apcrash (on CPU 1), hang"),
    S("quirk", quirk, "", valid_quirk, "workarounds: pt_ctx_flush (context-cache flush after PT), pasid_reread | no_pasid_reread (keep the old entry's fields through a hitless flip; on under QEMU)"),
    W("bench", bench, "none|traffic", "none", "benchmarks to run"),
    U("help", help, 0, 1, "0", "print the options and exit"),
    U("dump_acpi", dump_acpi, 0, 1, "0", "hex-dump DMAR/MCFG/MADT to serial"),
    U("json", json, 0, 1, "0", "also print json: lines with results"),
    U("high_mem", high_mem, 0, 1, "0", "allocate DMA buffers above 4 GiB where memory allows"),
    U("queue_depth", queue_depth, 1, 1024, "16", "NVMe I/O queue depth for traffic"),
    U("io_kib", io_kib, 4, 128, "4", "NVMe transfer size in KiB"),
    U("traffic_ms", traffic_ms, 10, 600000, "300", "steady-state traffic time per translation"),
    W("mode", mode, "auto|legacy|scalable", "auto", "VT-d table mode"),
    U("dmar_table", dmar_table, 1, 8, "1",
      "which DMAR table to use when the firmware lists several (1: the first)"),
    S("screen", screen, "auto", valid_screen,
      "screen: auto (the firmware's mode), off (serial only), or a GOP mode WIDTHxHEIGHT"),
    D("soak", soak_s, 0, 30 * 86400, "0",
      "soak: loop the transition matrix and stress under traffic this long (e.g. 8h, 3m; 0: off)"),
    D("soak_report", soak_report_s, 1, 86400, "5m", "soak: a progress line this often (e.g. 60s)"),
    U("runs", runs, 1, 10000, "1", "with end=reboot: reboot into vtdsync this many runs in all"),
};

static const char *const suite_names[] = {
    "all", "boot", "devices", "platform", "vtd", "isolation", "traffic", "transitions", "stale",
    "faults", "foreign",
};

bool config_list_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if ((len == 3 && !strncmp(p, "all", 3)) || (len == n && !strncmp(p, name, n)))
            return true;
        p += len + (e ? 1 : 0);
    }
    return false;
}

/* Every element of a comma list must be one of `names`. */
static bool list_within(const char *v, const char *const *names, size_t count)
{
    if (!*v)
        return false;
    for (const char *p = v; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        bool ok = false;
        for (size_t i = 0; i < count; i++)
            ok |= strlen(names[i]) == len && !strncmp(p, names[i], len);
        if (!ok)
            return false;
        p += len + (e ? 1 : 0);
    }
    return true;
}

static bool valid_suites(const char *v)
{
    return list_within(v, suite_names, ARRAY_SIZE(suite_names));
}

static bool valid_quirk(const char *v)
{
    static const char *const quirks[] = { "pt_ctx_flush", "pasid_reread", "no_pasid_reread",
                                          "none" };
    return !*v || list_within(v, quirks, ARRAY_SIZE(quirks));
}

bool config_screen_size(const char *v, uint32_t *width, uint32_t *height)
{
    uint64_t n[2];
    const char *x = strchr(v, 'x');
    if (!x || x == v || x - v > 5)
        return false;
    char w[6];
    memcpy(w, v, (size_t)(x - v));
    w[x - v] = '\0';
    if (!parse_u64(w, &n[0]) || !parse_u64(x + 1, &n[1]))
        return false;
    /* The text console needs at least 80x25 cells of 8x16. */
    if (n[0] < 640 || n[0] > 16384 || n[1] < 400 || n[1] > 16384)
        return false;
    *width = (uint32_t)n[0];
    *height = (uint32_t)n[1];
    return true;
}

static bool valid_screen(const char *v)
{
    uint32_t w, h;
    return !strcmp(v, "auto") || !strcmp(v, "off") || config_screen_size(v, &w, &h);
}

static bool valid_device(const char *v)
{
    uint16_t s;
    uint8_t b, d, f;
    return !*v || parse_bdf(v, &s, &b, &d, &f);
}

static bool valid_nvme_write(const char *v)
{
    uint64_t n;
    return !strcmp(v, "deny") || !strcmp(v, "allow") || (parse_u64(v, &n) && n > 0 && n < 0xffffffffu);
}

static bool valid_console(const char *v)
{
    uint64_t nums[3];
    if (!strcmp(v, "auto") || !strcmp(v, "com1") || !strcmp(v, "com2") || !strcmp(v, "spcr") ||
        !strcmp(v, "none"))
        return true;
    if (!strncmp(v, "io:", 3))
        return parse_u64_list(v + 3, ',', nums, 2) >= 1 && nums[0] <= 0xffff;
    if (!strncmp(v, "mmio:", 5))
        return parse_u64_list(v + 5, ',', nums, 3) >= 1;
    return false;
}

bool config_parse_duration(const char *v, uint64_t max, uint32_t *seconds)
{
    char num[24];
    size_t len = strlen(v);
    uint64_t unit = 1, n;
    if (len == 0 || len >= sizeof(num))
        return false;
    switch (v[len - 1]) {
    case 's': unit = 1; len--; break;
    case 'm': unit = 60; len--; break;
    case 'h': unit = 3600; len--; break;
    case 'd': unit = 86400; len--; break;
    default: break;
    }
    memcpy(num, v, len);
    num[len] = '\0';
    if (!len || !parse_u64(num, &n) || n > max / unit)
        return false;
    *seconds = (uint32_t)(n * unit);
    return true;
}

/* Index of `v` in a '|'-separated list, or -1. */
static int enum_index(const char *values, const char *v)
{
    size_t n = strlen(v);
    int i = 0;
    for (const char *p = values;; i++) {
        const char *e = strchr(p, '|');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, v, n))
            return i;
        if (!e)
            return -1;
        p = e + 1;
    }
}

static void enum_name(const char *values, int idx, char *out, size_t size)
{
    const char *p = values;
    for (int i = 0; i < idx && p; i++) {
        p = strchr(p, '|');
        if (p)
            p++;
    }
    if (!p) {
        ksnprintf(out, size, "?");
        return;
    }
    const char *e = strchr(p, '|');
    ksnprintf(out, size, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
}

/* Set one option; false, with why, when v is not a value it takes. */
static bool set_option(struct config *c, const struct option *o, const char *v, struct why *why)
{
    char *field = (char *)c + o->offset;
    uint64_t n;
    int idx;
    switch (o->type) {
    case OPT_UINT:
        if (!parse_u64(v, &n) || n < o->min || n > o->max)
            return why_set(why, "out of range or not a number");
        *(uint32_t *)field = (uint32_t)n;
        return true;
    case OPT_DURATION:
        if (!config_parse_duration(v, o->max, (uint32_t *)field) || *(uint32_t *)field < o->min)
            return why_set(why, "out of range or not a duration");
        return true;
    case OPT_ENUM:
    case OPT_WORD:
        idx = enum_index(o->values, v);
        if (idx < 0)
            return why_set(why, "not one of the allowed values");
        if (o->type == OPT_WORD)
            ksnprintf(field, o->size, "%s", v);
        else
            *(uint32_t *)field = (uint32_t)idx;
        return true;
    case OPT_STRING:
        if (strlen(v) >= o->size)
            return why_set(why, "too long");
        if (o->valid && !o->valid(v))
            return why_set(why, "not a valid value");
        ksnprintf(field, o->size, "%s", v);
        return true;
    }
    return why_set(why, "bad option type");
}

static const struct option *find_option(const char *name, size_t len)
{
    for (size_t i = 0; i < ARRAY_SIZE(options); i++)
        if (strlen(options[i].name) == len && !strncmp(options[i].name, name, len))
            return &options[i];
    return NULL;
}

void config_defaults(struct config *c)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < ARRAY_SIZE(options); i++)
        set_option(c, &options[i], options[i].def, NULL);
}

static void describe_allowed(const struct option *o, char *buf, size_t size)
{
    if (o->type == OPT_UINT)
        ksnprintf(buf, size, "an integer %llu..%llu", (unsigned long long)o->min,
                  (unsigned long long)o->max);
    else if (o->type == OPT_DURATION)
        ksnprintf(buf, size, "a duration N, Ns, Nm, Nh or Nd, %llu s..%llu s",
                  (unsigned long long)o->min, (unsigned long long)o->max);
    else if (o->type == OPT_ENUM || o->type == OPT_WORD)
        ksnprintf(buf, size, "one of %s", o->values);
    else
        ksnprintf(buf, size, "%s", o->help);
}

static void apply_word(struct config *c, const char *w, size_t len, const char *source, int line)
{
    char word[160];
    if (len >= sizeof(word)) {
        kprintf("# config: %s line %d: option of %zu characters is too long; ignored\n", source,
                line, len);
        c->problems++;
        return;
    }
    memcpy(word, w, len);
    word[len] = '\0';
    char *eq = strchr(word, '=');
    if (!eq && !strcmp(word, "help")) {
        c->help = 1;
        return;
    }
    if (!eq || eq == word) {
        kprintf("# config: %s line %d: '%s' is not key=value; ignored\n", source, line, word);
        c->problems++;
        return;
    }
    *eq = '\0';
    const struct option *o = find_option(word, (size_t)(eq - word));
    if (!o) {
        kprintf("# config: %s line %d: unknown option '%s'; ignored (see 'help')\n", source, line,
                word);
        c->problems++;
        return;
    }
    struct why why;
    if (!set_option(c, o, eq + 1, &why)) {
        char allowed[160];
        describe_allowed(o, allowed, sizeof(allowed));
        kprintf("# config: %s line %d: bad value '%s' for %s= (%s; expected %s); using %s\n",
                source, line, eq + 1, o->name, why.text, allowed, o->def[0] ? o->def : "(empty)");
        c->problems++;
        set_option(c, o, o->def, NULL);
    }
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

void config_apply(struct config *c, const char *text, const char *source)
{
    int line = 1;
    const char *p = text;
    while (*p) {
        if (*p == '\n') {
            line++;
            p++;
        } else if (is_space(*p)) {
            p++;
        } else if (*p == '#') {
            while (*p && *p != '\n')
                p++;
        } else {
            const char *start = p;
            while (*p && !is_space(*p) && *p != '#')
                p++;
            apply_word(c, start, (size_t)(p - start), source, line);
        }
    }
}

static void format_value(const struct config *c, const struct option *o, char *buf, size_t size)
{
    const char *field = (const char *)c + o->offset;
    if (o->type == OPT_UINT)
        ksnprintf(buf, size, "%u", *(const uint32_t *)field);
    else if (o->type == OPT_DURATION)
        ksnprintf(buf, size, "%us", *(const uint32_t *)field);
    else if (o->type == OPT_ENUM)
        enum_name(o->values, (int)*(const uint32_t *)field, buf, size);
    else
        ksnprintf(buf, size, "%s", field);
}

void config_print(const struct config *c)
{
    char line[400];
    size_t n = 0;
    for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
        char v[80];
        format_value(c, &options[i], v, sizeof(v));
        int w = ksnprintf(line + n, sizeof(line) - n, "%s%s=%s", n ? " " : "", options[i].name, v);
        if (w < 0 || n + (size_t)w >= 100) {
            line[n] = '\0';
            kprintf("# config: %s\n", line);
            n = 0;
            w = ksnprintf(line, sizeof(line), "%s=%s", options[i].name, v);
        }
        n += (size_t)w;
    }
    if (n)
        kprintf("# config: %s\n", line);
}

void config_print_help(void)
{
    kprintf("# vtdsync options (load options override \\vtdsync.cfg):\n");
    for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
        const struct option *o = &options[i];
        char allowed[160];
        describe_allowed(o, allowed, sizeof(allowed));
        kprintf("#   %s=  (default '%s') %s\n", o->name, o->def, o->help);
        if (o->type != OPT_STRING)
            kprintf("#       %s\n", allowed);
    }
}
