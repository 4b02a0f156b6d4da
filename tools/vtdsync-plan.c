/* vtdsync-plan: before anyone walks to the lab, what vtdsync will do on a
 * machine.  The firmware's own code built for Linux: the DMAR parser
 * (acpi/dmar.c, with the severity of every finding) and the unit planning
 * (vtd_plan_unit in iommu/vtd.c, the decision vtd_unit_init takes).
 *
 * Inputs: this machine's /sys/firmware/acpi/tables/DMAR and
 * /sys/class/iommu/dmar* (default), --dmar FILE, --unit BASE=CAP,ECAP[,VER]
 * (repeatable), --dmesg FILE (Linux "DMAR: dmarN: reg_base_addr ..." lines).
 * Output: a plan per unit, the RMRRs, the firmware findings and whether
 * the main job (the transitions suite: translation switched under a
 * running NVMe) can run; --json prints the same as one object.
 * Exit status: 0 the main job can run, 1 it cannot, 2 unreadable input. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acpi/diag.h"
#include "acpi/dmar.h"
#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "lib/printf.h"

#define MAX_REGS 64
#define MAX_FINDINGS 256
#define MAX_TABLE (1u << 20)

struct regs {
    uint64_t base;
    uint32_t ver;
    uint64_t cap, ecap;
    bool used; /* matched to a DRHD */
};

struct finding {
    enum acpi_severity sev;
    char text[240];
};

/* One unit of the plan: a DRHD, or registers alone. */
struct unit_plan {
    uint64_t base;
    const struct dmar_unit *drhd; /* NULL without a table */
    const struct regs *regs;      /* NULL without register values */
    struct vtd_unit_plan plan;
    bool has_ss;
    const char *states[10];
    unsigned nstates;
    bool graphics;    /* the only PCI device in its scope is 00:02.0 */
    bool pci_devices; /* translates PCI devices other than graphics */
    bool nvme_slot;   /* an NVMe can sit behind it: INCLUDE_PCI_ALL or a
                         sub-hierarchy (root port) scope */
    bool main_job;    /* could carry the transitions suite */
};

static struct {
    const char *dmar_path, *dmesg_path, *sysroot;
    bool json;
    enum vtd_mode_request want;
    struct regs regs[MAX_REGS];
    unsigned nregs;
    bool have_table;
    struct dmar_info dmar;
    struct finding findings[MAX_FINDINGS];
    unsigned nfindings, ndefects;
    struct unit_plan units[DMAR_MAX_UNITS > MAX_REGS ? DMAR_MAX_UNITS : MAX_REGS];
    unsigned nunits;
    char warnings[8][200];
    unsigned nwarnings;
    char source[512];
} g;

static void out_sink(const char *s, size_t n)
{
    /* The firmware code's own diagnostics (none expected) go to stderr so
     * that --json stays one object. */
    fwrite(s, 1, n, stderr);
}

static void warn(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void warn(const char *fmt, ...)
{
    if (g.nwarnings == sizeof(g.warnings) / sizeof(g.warnings[0]))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g.warnings[g.nwarnings++], sizeof(g.warnings[0]), fmt, ap);
    va_end(ap);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vtdsync-plan [--dmar FILE] [--unit BASE=CAP,ECAP[,VER]]... [--dmesg FILE]\n"
            "                    [--mode auto|legacy|scalable] [--json] [--sysroot DIR]\n"
            "Says what vtdsync will do with each VT-d remapping unit of a machine.\n"
            "  (no input)   this machine: /sys/firmware/acpi/tables/DMAR (root only) and\n"
            "               /sys/class/iommu/dmar*/intel-iommu/{address,version,cap,ecap}\n"
            "  --dmar FILE  a DMAR table (binary, e.g. from acpidump -b)\n"
            "  --unit B=C,E[,V]  register values of the unit at base B (hex CAP, ECAP;\n"
            "               VER as 1:0 or hex); repeatable; alone it judges just those units\n"
            "  --dmesg FILE Linux log lines 'DMAR: dmarN: reg_base_addr B ver A:B cap C ecap E'\n"
            "  --mode M     the firmware's iommu= choice (default auto: the best mode)\n"
            "  --json       one JSON object instead of text\n"
            "  --sysroot D  read /sys below D (tests)\n"
            "Exit status: 0 the main job (transitions) can run, 1 it cannot, 2 unreadable\n"
            "input.\n");
}

/* ---- inputs ------------------------------------------------------------------ */

static uint8_t *read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s%s", path, strerror(errno),
                 errno == EACCES ? " (ACPI tables in /sys are readable by root only)" : "");
        return NULL;
    }
    uint8_t *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    bool bad = ferror(f);
    fclose(f);
    if (!buf || bad || n > max) {
        snprintf(err, errlen, "cannot read %s: %s", path,
                 !buf  ? "out of memory"
                 : bad ? "read error"
                       : "larger than any DMAR table");
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

static bool parse_u64(const char *s, uint64_t *out, const char **end)
{
    char *e;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 16);
    if (e == s || errno)
        return false;
    *out = v;
    if (end)
        *end = e;
    else if (*e)
        return false;
    return true;
}

/* "1:0" (as Linux prints it) or a hex register value. */
static bool parse_ver(const char *s, uint32_t *out, const char **end)
{
    unsigned maj, min;
    int n = 0;
    if (sscanf(s, "%u:%u%n", &maj, &min, &n) == 2 && maj < 16 && min < 16) {
        *out = maj << 4 | min;
        if (end)
            *end = s + n;
        return end || !s[n];
    }
    uint64_t v;
    if (!parse_u64(s, &v, end) || v > 0xffffffffu)
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool add_regs(uint64_t base, uint32_t ver, uint64_t cap, uint64_t ecap)
{
    for (unsigned i = 0; i < g.nregs; i++) {
        if (g.regs[i].base != base)
            continue;
        if (g.regs[i].cap != cap || g.regs[i].ecap != ecap)
            warn("two different register sets for the unit at %#llx: keeping the first",
                 (unsigned long long)base);
        return true;
    }
    if (g.nregs == MAX_REGS)
        return false;
    g.regs[g.nregs++] = (struct regs){.base = base, .ver = ver, .cap = cap, .ecap = ecap};
    return true;
}

/* BASE=CAP,ECAP[,VER] */
static bool parse_unit_arg(const char *arg)
{
    uint64_t base, cap, ecap;
    uint32_t ver = 0x10;
    const char *p;
    if (!parse_u64(arg, &base, &p) || *p != '=' || !parse_u64(p + 1, &cap, &p) || *p != ',' ||
        !parse_u64(p + 1, &ecap, &p))
        return false;
    if (*p == ',') {
        if (!parse_ver(p + 1, &ver, NULL))
            return false;
    } else if (*p) {
        return false;
    }
    return add_regs(base, ver, cap, ecap);
}

/* Finds "reg_base_addr B ver A:B cap C ecap E" in a log line: the form of
 * current kernels ("DMAR: dmar0: reg_base_addr ...") and of old ones
 * ("dmar: IOMMU 0: reg_base_addr ..."). */
static bool parse_dmesg_line(const char *line)
{
    const char *p = strstr(line, "reg_base_addr ");
    uint64_t base, cap, ecap;
    uint32_t ver;
    if (!p || !parse_u64(p + 14, &base, &p))
        return false;
    if (strncmp(p, " ver ", 5) || !parse_ver(p + 5, &ver, &p))
        return false;
    if (strncmp(p, " cap ", 5) || !parse_u64(p + 5, &cap, &p))
        return false;
    if (strncmp(p, " ecap ", 6) || !parse_u64(p + 6, &ecap, &p))
        return false;
    return add_regs(base, ver, cap, ecap);
}

static int read_dmesg(const char *path, char *err, size_t errlen)
{
    size_t len;
    uint8_t *text = read_file(path, 64u << 20, &len, err, errlen);
    if (!text)
        return -1;
    unsigned found = 0;
    for (char *line = (char *)text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        found += parse_dmesg_line(line);
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    if (!found) {
        snprintf(err, errlen, "%s: no 'reg_base_addr ... ver ... cap ... ecap ...' line", path);
        return -1;
    }
    return 0;
}

static bool read_sys_value(const char *dir, const char *name, char *buf, size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    buf[strcspn(buf, "\r\n")] = 0;
    return ok;
}

/* /sys/class/iommu/dmar*: one directory per unit Linux brought up. */
static void read_sysfs_units(void)
{
    char dirpath[512];
    snprintf(dirpath, sizeof(dirpath), "%s/sys/class/iommu", g.sysroot);
    DIR *d = opendir(dirpath);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "dmar", 4))
            continue;
        char unit[800], a[64], v[64], c[64], x[64];
        snprintf(unit, sizeof(unit), "%s/%s/intel-iommu", dirpath, e->d_name);
        uint64_t base, cap, ecap;
        uint32_t ver;
        if (!read_sys_value(unit, "address", a, sizeof(a)) ||
            !read_sys_value(unit, "version", v, sizeof(v)) ||
            !read_sys_value(unit, "cap", c, sizeof(c)) ||
            !read_sys_value(unit, "ecap", x, sizeof(x)) || !parse_u64(a, &base, NULL) ||
            !parse_ver(v, &ver, NULL) || !parse_u64(c, &cap, NULL) || !parse_u64(x, &ecap, NULL)) {
            warn("%s: unreadable register values", unit);
            continue;
        }
        add_regs(base, ver, cap, ecap);
    }
    closedir(d);
}

/* ---- findings ---------------------------------------------------------------- */

static void collect(void *ctx, enum acpi_severity sev, const char *line)
{
    (void)ctx;
    if (sev == ACPI_DEFECT)
        g.ndefects++;
    if (g.nfindings == MAX_FINDINGS)
        return;
    struct finding *f = &g.findings[g.nfindings++];
    f->sev = sev;
    if (!strncmp(line, "# ", 2))
        line += 2;
    snprintf(f->text, sizeof(f->text), "%s", line);
}

/* ---- the plan ------------------------------------------------------------------ */

static bool scope_is_graphics(const struct dmar_scope *s)
{
    return s->type == DMAR_SCOPE_ENDPOINT && s->segment == 0 && s->start_bus == 0 &&
           s->path_len == 1 && s->path[0].dev == 2 && s->path[0].fn == 0;
}

/* Which PCI devices the DRHD translates: graphics alone, or others. */
static void classify_scopes(struct unit_plan *p)
{
    const struct dmar_unit *u = p->drhd;
    unsigned pci = 0, gfx = 0, bridges = 0;
    for (unsigned i = 0; i < u->scopes.count; i++) {
        const struct dmar_scope *s = &g.dmar.scopes[u->scopes.first + i];
        if (s->type != DMAR_SCOPE_ENDPOINT && s->type != DMAR_SCOPE_BRIDGE)
            continue;
        pci++;
        gfx += scope_is_graphics(s);
        bridges += s->type == DMAR_SCOPE_BRIDGE;
    }
    p->graphics = !u->include_pci_all && pci && gfx == pci;
    p->pci_devices = u->include_pci_all || pci > gfx;
    p->nvme_slot = u->include_pci_all || bridges;
}

static void add_state(struct unit_plan *p, const char *s)
{
    p->states[p->nstates++] = s;
}

static void plan_states(struct unit_plan *p)
{
    if (!p->plan.usable)
        return;
    bool pt = p->regs->ecap & VTD_ECAP_PT;
    p->has_ss = vtd_plan_has_ss(&p->plan, p->regs->ecap);
    add_state(p, "blocked");
    if (pt)
        add_state(p, "PT");
    if (p->has_ss) {
        add_state(p, "SS-A");
        add_state(p, "SS-B");
    }
    if (p->plan.fs_levels) {
        add_state(p, "FS-A");
        add_state(p, "FS-B");
    }
    /* The same translations with fault reporting disabled (FPD), as the
     * transitions suite builds them. */
    if (p->has_ss)
        add_state(p, "SS-A+FPD");
    if (p->plan.fs_levels)
        add_state(p, "FS-A+FPD");
}

static const struct regs *regs_for(uint64_t base)
{
    for (unsigned i = 0; i < g.nregs; i++)
        if (g.regs[i].base == base) {
            g.regs[i].used = true;
            return &g.regs[i];
        }
    return NULL;
}

static void plan_unit(struct unit_plan *p)
{
    memset(&p->plan, 0, sizeof(p->plan));
    if (p->drhd)
        classify_scopes(p);
    else
        p->pci_devices = p->nvme_slot = true; /* unknown without the table */
    if (p->drhd && !p->drhd->usable) {
        snprintf(p->plan.reason, sizeof(p->plan.reason),
                 "the DRHD is defective (see the findings): vtdsync leaves the unit alone");
        return;
    }
    if (!p->regs) {
        snprintf(p->plan.reason, sizeof(p->plan.reason),
                 "no register values (give --unit or --dmesg, or run on the machine)");
        return;
    }
    vtd_plan_unit(p->regs->ver, p->regs->cap, p->regs->ecap, g.want, &p->plan);
    plan_states(p);
    p->main_job = p->plan.usable && p->nvme_slot && (p->has_ss || p->plan.fs_levels);
}

static void build_plan(void)
{
    if (g.have_table) {
        for (unsigned i = 0; i < g.dmar.nunits; i++) {
            struct unit_plan *p = &g.units[g.nunits++];
            p->drhd = &g.dmar.units[i];
            p->base = p->drhd->reg_base;
            p->regs = regs_for(p->base);
            plan_unit(p);
        }
        for (unsigned i = 0; i < g.nregs; i++)
            if (!g.regs[i].used)
                warn("register values for %#llx match no DRHD of the table: not planned",
                     (unsigned long long)g.regs[i].base);
        return;
    }
    for (unsigned i = 0; i < g.nregs; i++) {
        struct unit_plan *p = &g.units[g.nunits++];
        p->base = g.regs[i].base;
        p->regs = &g.regs[i];
        plan_unit(p);
    }
}

/* Usable: 1, 0, or -1 (unknown: no register values). */
static int usable_of(const struct unit_plan *p)
{
    if (!p->regs && !(p->drhd && !p->drhd->usable))
        return -1;
    return p->plan.usable;
}

/* The unit the main job would use: a usable translating unit an NVMe can
 * sit behind (the INCLUDE_PCI_ALL unit first: where a client's NVMe is),
 * or, with no register values, such a unit as far as the table goes.
 * Returns why there is none (NULL when there is one, in *unit). */
static const char *main_job(int *unit)
{
    static char why[300];
    *unit = -1;
    for (int pass = 0; pass < 4 && *unit < 0; pass++) {
        for (unsigned i = 0; i < g.nunits && *unit < 0; i++) {
            const struct unit_plan *p = &g.units[i];
            bool pci_all = p->drhd && p->drhd->include_pci_all;
            bool known = pass < 2;
            if ((pass % 2 == 0 && !pci_all) || !p->nvme_slot)
                continue;
            if (known ? p->main_job : usable_of(p) < 0)
                *unit = (int)i;
        }
    }
    if (*unit >= 0)
        return NULL;
    if (!g.nunits)
        return "no remapping unit";
    int slot = -1; /* the first unit an NVMe can sit behind */
    for (unsigned i = 0; i < g.nunits && slot < 0; i++)
        if (g.units[i].nvme_slot)
            slot = (int)i;
    if (slot < 0)
        snprintf(why, sizeof(why),
                 "no unit has a place for the NVMe the transitions suite "
                 "drives (INCLUDE_PCI_ALL or a root-port scope)");
    else if (!g.units[slot].plan.usable)
        snprintf(why, sizeof(why),
                 "the unit the NVMe would sit behind cannot be used: unit %d "
                 "at 0x%llx: %s",
                 slot, (unsigned long long)g.units[slot].base, g.units[slot].plan.reason);
    else
        snprintf(why, sizeof(why),
                 "no usable unit can translate (second- or first-stage "
                 "tables)");
    return why;
}

/* ---- output ---------------------------------------------------------------------- */

static const char *mode_name(enum vtd_mode m)
{
    return m == VTD_MODE_SCALABLE ? "scalable" : "legacy";
}

static void scope_str(const struct dmar_scope *s, char *buf, size_t len)
{
    size_t n = 0;
    switch (s->type) {
    case DMAR_SCOPE_IOAPIC:
        snprintf(buf, len, "IOAPIC %u", s->enum_id);
        return;
    case DMAR_SCOPE_HPET:
        snprintf(buf, len, "HPET %u", s->enum_id);
        return;
    case DMAR_SCOPE_ACPI:
        snprintf(buf, len, "ACPI device %u", s->enum_id);
        return;
    default:
        break;
    }
    if (s->resolved) {
        n = snprintf(buf, len, "%02x:%02x.%x", s->bus, s->dev, s->fn);
    } else {
        n = snprintf(buf, len, "%02x", s->start_bus);
        for (unsigned i = 0; i < s->path_len && n < len; i++)
            n += snprintf(buf + n, len - n, "%s%02x.%x", i ? "/" : ":", s->path[i].dev,
                          s->path[i].fn);
    }
    if (s->type == DMAR_SCOPE_BRIDGE && n < len)
        snprintf(buf + n, len - n, " and below");
}

static void scopes_str(struct dmar_scope_list l, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = 0;
    for (unsigned i = 0; i < l.count && n + 40 < len; i++) {
        char one[64];
        scope_str(&g.dmar.scopes[l.first + i], one, sizeof(one));
        n += snprintf(buf + n, len - n, "%s%s", i ? ", " : "", one);
    }
    if (!l.count)
        snprintf(buf, len, "no device scope");
}

static void print_text_unit(unsigned i, const struct unit_plan *p)
{
    char scopes[1024] = "";
    if (p->drhd) {
        if (p->drhd->include_pci_all)
            snprintf(scopes, sizeof(scopes),
                     "INCLUDE_PCI_ALL: every PCI device of segment %u "
                     "no other unit names",
                     p->drhd->segment);
        char extra[900];
        scopes_str(p->drhd->scopes, extra, sizeof(extra));
        if (!p->drhd->include_pci_all || p->drhd->scopes.count)
            snprintf(scopes + strlen(scopes), sizeof(scopes) - strlen(scopes), "%s%s",
                     p->drhd->include_pci_all ? "; also " : "", extra);
    } else {
        snprintf(scopes, sizeof(scopes), "devices unknown without the DMAR table");
    }
    printf("unit %u at 0x%llx%s\n", i, (unsigned long long)p->base,
           p->graphics ? " (graphics)" : "");
    printf("  translates: %s\n", scopes);
    if (p->regs) {
        struct vtd_caps c;
        vtd_caps_decode(p->regs->cap, p->regs->ecap, &c);
        printf("  registers: ver %u.%u cap %#llx ecap %#llx (MGAW %u, SAGAW %#x, QI %d, C %d)\n",
               p->regs->ver >> 4, p->regs->ver & 15, (unsigned long long)p->regs->cap,
               (unsigned long long)p->regs->ecap, c.mgaw, c.sagaw, c.qi, c.c);
    }
    if (!p->plan.usable) {
        printf("  not used: %s\n", p->plan.reason);
        return;
    }
    printf("  plan: %s mode, ", mode_name(p->plan.mode));
    if (p->has_ss)
        printf("%u-level second stage, ", p->plan.ss_levels);
    if (p->plan.fs_levels)
        printf("%u-level first stage, ", p->plan.fs_levels);
    printf("IOVAs below 2^%u, AW field %u\n", p->plan.iova_bits, vtd_plan_aw(&p->plan));
    printf("  states:");
    for (unsigned s = 0; s < p->nstates; s++)
        printf(" %s", p->states[s]);
    printf("\n  transitions: every ordered pair of those %u states (%u), with entry_sync and "
           "with clear-then-update\n",
           p->nstates, p->nstates * (p->nstates - 1));
    struct vtd_caps c;
    vtd_caps_decode(p->regs->cap, p->regs->ecap, &c);
    if (c.nest)
        printf("  not tested: nested translation (ECAP.NEST=1; the transitions suite does not "
               "wire it yet)\n");
    if (!c.pt)
        printf("  not tested: pass-through (ECAP.PT=0): foreign devices get identity maps of "
               "their RMRRs instead\n");
    if (!c.qi)
        printf("  register-based invalidation (ECAP.QI=0)\n");
    printf("  leaves alone: devices not under test keep working (pass-through or RMRR "
           "identity entries); what the firmware left on (translation, queue, PMEN, interrupt "
           "remapping) is switched off first, except translation on a listed graphics unit\n");
    if (!p->nvme_slot)
        printf("  no NVMe can sit behind it: it translates only %s\n",
               p->graphics      ? "the graphics device"
               : p->pci_devices ? "the endpoints it names"
                                : "non-PCI devices");
}

static void print_text(void)
{
    printf("vtdsync-plan: %s\n", g.source);
    if (g.have_table) {
        const struct acpi_header *h = &g.dmar.hdr;
        printf("DMAR: OEM '%s' '%s' rev %u, HAW %u, flags %#x%s%s%s; %u units, %u RMRRs\n",
               h->oem_id, h->oem_table_id, h->revision, g.dmar.haw, g.dmar.flags,
               g.dmar.flags & DMAR_FLAG_INTR_REMAP ? " INTR_REMAP" : "",
               g.dmar.flags & DMAR_FLAG_X2APIC_OPT_OUT ? " X2APIC_OPT_OUT" : "",
               g.dmar.flags & DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN ? " DMA_CTRL_PLATFORM_OPT_IN" : "",
               g.dmar.nunits, g.dmar.nrmrrs);
    }
    for (unsigned i = 0; i < g.nunits; i++)
        print_text_unit(i, &g.units[i]);
    for (unsigned i = 0; i < g.dmar.nrmrrs && g.have_table; i++) {
        char scopes[900];
        const struct dmar_rmrr *r = &g.dmar.rmrrs[i];
        scopes_str(r->scopes, scopes, sizeof(scopes));
        printf("RMRR %u: %#llx-%#llx for %s: identity-mapped for those devices%s\n", i,
               (unsigned long long)r->base, (unsigned long long)r->limit, scopes,
               r->usable ? "" : " (defective: ignored)");
    }
    printf("findings: %u (%u defects, %u notes)\n", g.nfindings, g.ndefects,
           g.nfindings - g.ndefects);
    for (unsigned i = 0; i < g.nfindings; i++)
        printf("  %s: %s\n", g.findings[i].sev == ACPI_DEFECT ? "defect" : "note",
               g.findings[i].text);
    for (unsigned i = 0; i < g.nwarnings; i++)
        printf("warning: %s\n", g.warnings[i]);
    int unit;
    const char *why = main_job(&unit);
    if (why)
        printf("main job (transitions): cannot run: %s\n", why);
    else if (usable_of(&g.units[unit]) < 0)
        printf("main job (transitions): can run if unit %u at %#llx comes up (no register "
               "values to check), with the NVMe behind it\n",
               unit, (unsigned long long)g.units[unit].base);
    else
        printf("main job (transitions): can run on unit %u at %#llx (%s mode) with an NVMe "
               "behind it\n",
               unit, (unsigned long long)g.units[unit].base, mode_name(g.units[unit].plan.mode));
    /* A root-port unit was chosen because the INCLUDE_PCI_ALL one cannot
     * be used: an internal NVMe is usually behind the latter. */
    for (unsigned i = 0; !why && i < g.nunits; i++) {
        const struct unit_plan *p = &g.units[i];
        if (p->drhd && p->drhd->include_pci_all && usable_of(p) == 0)
            printf("  only for an NVMe behind that unit's root ports: unit %u at 0x%llx "
                   "(INCLUDE_PCI_ALL, where an internal NVMe usually sits) cannot be used\n",
                   i, (unsigned long long)p->base);
    }
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_json(void)
{
    printf("{\"units\": [");
    for (unsigned i = 0; i < g.nunits; i++) {
        const struct unit_plan *p = &g.units[i];
        int usable = usable_of(p);
        printf("%s{\"base\": \"0x%llx\", \"usable\": %s, \"mode\": ", i ? ", " : "",
               (unsigned long long)p->base,
               usable < 0 ? "null"
               : usable   ? "true"
                          : "false");
        if (usable > 0)
            json_str(mode_name(p->plan.mode));
        else
            printf("null");
        if (usable > 0 && p->has_ss)
            printf(", \"levels\": %u", p->plan.ss_levels);
        else
            printf(", \"levels\": null");
        printf(", \"fs_levels\": ");
        if (usable > 0 && p->plan.fs_levels)
            printf("%u", p->plan.fs_levels);
        else
            printf("null");
        printf(", \"iova_bits\": ");
        if (usable > 0)
            printf("%u", p->plan.iova_bits);
        else
            printf("null");
        printf(", \"graphics\": %s, \"states\": [", p->graphics ? "true" : "false");
        for (unsigned s = 0; s < p->nstates; s++) {
            printf("%s", s ? ", " : "");
            json_str(p->states[s]);
        }
        printf("], \"reason\": ");
        json_str(p->plan.reason);
        printf("}");
    }
    printf("], \"rmrrs\": %u, \"findings\": [", g.have_table ? g.dmar.nrmrrs : 0);
    for (unsigned i = 0; i < g.nfindings; i++) {
        printf("%s{\"severity\": \"%s\", \"text\": ", i ? ", " : "",
               g.findings[i].sev == ACPI_DEFECT ? "defect" : "note");
        json_str(g.findings[i].text);
        printf("}");
    }
    int unit;
    const char *why = main_job(&unit);
    printf("], \"main_job\": %s, \"main_job_reason\": ", why ? "false" : "true");
    json_str(why ? why : "");
    printf(", \"warnings\": [");
    for (unsigned i = 0; i < g.nwarnings; i++) {
        printf("%s", i ? ", " : "");
        json_str(g.warnings[i]);
    }
    printf("]}\n");
}

/* ---- main ------------------------------------------------------------------------ */

static int fail_input(const char *msg)
{
    if (g.json) {
        printf("{\"error\": ");
        json_str(msg);
        printf("}\n");
    }
    fprintf(stderr, "vtdsync-plan: %s\n", msg);
    return 2;
}

/* The DMAR parser's arrays, sized by the table. */
static void *heap_alloc(void *ctx, size_t bytes)
{
    (void)ctx;
    return calloc(1, bytes);
}

static void heap_free(void *ctx, void *p, size_t bytes)
{
    (void)ctx;
    (void)bytes;
    free(p);
}

static const struct acpi_mem heap = {heap_alloc, heap_free, NULL};

static int load_table(const char *path, bool from_machine)
{
    char err[400];
    size_t len;
    uint8_t *t = read_file(path, MAX_TABLE, &len, err, sizeof(err));
    if (!t)
        return fail_input(err);
    struct acpi_diag d = {.fn = collect};
    dmar_release(&g.dmar);
    if (dmar_parse(t, len, NULL, &heap, &g.dmar, &d) || !g.dmar.valid) {
        free(t);
        snprintf(err, sizeof(err), "%s: not a usable DMAR table%s%s", path, g.nfindings ? ": " : "",
                 g.nfindings ? g.findings[0].text : "");
        return fail_input(err);
    }
    free(t);
    g.have_table = true;
    (void)from_machine;
    return 0;
}

int main(int argc, char **argv)
{
    printf_set_sink(out_sink);
    g.sysroot = "";
    g.want = VTD_WANT_AUTO;
    bool given_units = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            g.json = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (v && !strcmp(a, "--dmar")) {
            g.dmar_path = argv[++i];
        } else if (v && !strcmp(a, "--dmesg")) {
            g.dmesg_path = argv[++i];
        } else if (v && !strcmp(a, "--sysroot")) {
            g.sysroot = argv[++i];
        } else if (v && !strcmp(a, "--unit")) {
            i++;
            if (!parse_unit_arg(v)) {
                char msg[300];
                snprintf(msg, sizeof(msg), "bad --unit '%s' (want BASE=CAP,ECAP[,VER], hex)", v);
                return fail_input(msg);
            }
            given_units = true;
        } else if (v && !strcmp(a, "--mode")) {
            i++;
            if (!strcmp(v, "auto"))
                g.want = VTD_WANT_AUTO;
            else if (!strcmp(v, "legacy"))
                g.want = VTD_WANT_LEGACY;
            else if (!strcmp(v, "scalable"))
                g.want = VTD_WANT_SCALABLE;
            else
                return fail_input("--mode takes auto, legacy or scalable");
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (g.dmesg_path) {
        char err[400];
        if (read_dmesg(g.dmesg_path, err, sizeof(err)))
            return fail_input(err);
    }
    size_t n = 0;
    if (g.dmar_path) {
        if (load_table(g.dmar_path, false))
            return 2;
        n += snprintf(g.source + n, sizeof(g.source) - n, "table %s", g.dmar_path);
    }
    if (!g.dmar_path && !g.dmesg_path && !given_units) {
        /* This machine. */
        char path[512];
        snprintf(path, sizeof(path), "%s/sys/firmware/acpi/tables/DMAR", g.sysroot);
        FILE *f = fopen(path, "rb");
        if (!f && errno == ENOENT) {
            const char *why = "this machine has no DMAR table: no Intel VT-d, or VT-d is "
                              "disabled in the firmware setup; vtdsync would find no "
                              "remapping unit (give --dmar, --unit or --dmesg to plan "
                              "another machine)";
            if (g.json) {
                printf("{\"units\": [], \"rmrrs\": 0, \"findings\": [], \"main_job\": false, "
                       "\"main_job_reason\": ");
                json_str(why);
                printf(", \"warnings\": []}\n");
            } else {
                printf("vtdsync-plan: %s\nmain job (transitions): cannot run: no remapping "
                       "unit\n",
                       why);
            }
            return 1;
        }
        if (f)
            fclose(f);
        if (load_table(path, true))
            return 2;
        read_sysfs_units();
        n += snprintf(g.source + n, sizeof(g.source) - n, "this machine (%s%s)", path,
                      g.nregs ? " and /sys/class/iommu" : "; no unit in /sys/class/iommu");
    }
    if (g.dmesg_path)
        n += snprintf(g.source + n, sizeof(g.source) - n, "%slog %s", n ? ", " : "", g.dmesg_path);
    if (given_units)
        n += snprintf(g.source + n, sizeof(g.source) - n, "%s--unit values", n ? ", " : "");
    build_plan();
    if (g.json)
        print_json();
    else
        print_text();
    int unit;
    return main_job(&unit) ? 1 : 0;
}
