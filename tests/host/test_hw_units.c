// HOST-DEPS: lib/printf.c lib/ktap.c iommu/vtd.c iommu/vtd_unit.c iommu/vtd_takeover.c iommu/qi.c iommu/fault.c iommu/context_entry.c iommu/pasid_entry.c iommu/entry_sync.c iommu/domain.c iommu/pgtable.c iommu/pgtable_walk.c tests/host/vtd_fake.c iommu/vtd_alias.c lib/why.c
/* Every real remapping unit in tests/data/hw/capecap.tsv (VER/CAP/ECAP
 * copied from Linux boot logs of real machines) is brought up on the fake
 * register file, one case per unit id so a failure names the machine:
 *   - it comes up, in the best mode its ECAP allows (scalable where SMTS,
 *     QI and a table format are there, else legacy), with register-based
 *     invalidation where ECAP.QI = 0;
 *   - its second-stage depth is one SAGAW offers, the smallest that covers
 *     the IOVAs vtdsync needs (or the largest offered);
 *   - IOVAs stay below 2^MGAW and inside every table's width: a mapping at
 *     the top of the plan's range translates, one above it is refused;
 *   - the AW fields of the legacy context and PASID entries match the depth,
 *     first-stage entries name the first-stage depth.
 * Synthetic cases pin the depth rule at its edges. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/context_entry.h"
#include "iommu/domain.h"
#include "iommu/pasid_entry.h"
#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "tests/host/check.h"
#include "tests/host/vtd_fake.h"

CHECK_STATE_DEFINE;

#define HW_TSV "tests/data/hw/capecap.tsv"
#define MAX_UNITS 256

struct hw_unit {
    char id[16];
    char platform[96];
    uint32_t ver;
    uint64_t cap, ecap;
};

static struct hw_unit units[MAX_UNITS];
static unsigned nunits;
static const struct hw_unit *cur;
static struct vtd_unit unit;

/* "1:0" -> VER register value (major in 7:4, minor in 3:0). */
static bool parse_ver(const char *s, uint32_t *out)
{
    unsigned maj, min;
    if (sscanf(s, "%u:%u", &maj, &min) != 2 || maj > 15 || min > 15)
        return false;
    *out = maj << 4 | min;
    return true;
}

static bool parse_hex(const char *s, uint64_t *out)
{
    char *end;
    *out = strtoull(s, &end, 16);
    return end != s && *end == 0;
}

/* Columns: id, platform, ver, cap, ecap, then notes this test ignores. */
static bool load_tsv(void)
{
    FILE *f = fopen(HW_TSV, "r");
    if (!f) {
        printf("# cannot open %s (run from the repository root)\n", HW_TSV);
        return false;
    }
    char line[4096];
    bool ok = fgets(line, sizeof(line), f) != NULL; /* header */
    while (ok && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0])
            continue;
        char *col[5] = {0};
        char *p = line;
        for (int i = 0; i < 5 && p; i++) {
            col[i] = p;
            p = strchr(p, '\t');
            if (p)
                *p++ = 0;
        }
        struct hw_unit *u = &units[nunits];
        if (!col[4] || nunits == MAX_UNITS || !parse_ver(col[2], &u->ver) ||
            !parse_hex(col[3], &u->cap) || !parse_hex(col[4], &u->ecap)) {
            printf("# %s: bad row starting '%s'\n", HW_TSV, col[0] ? col[0] : "");
            ok = false;
            break;
        }
        snprintf(u->id, sizeof(u->id), "%s", col[0]);
        snprintf(u->platform, sizeof(u->platform), "%s", col[1]);
        nunits++;
    }
    fclose(f);
    return ok && nunits > 0;
}

static void set_ver(void)
{
    fk.ver = cur->ver;
}

static unsigned width(unsigned levels)
{
    return 12 + 9 * levels;
}

static unsigned min_u(unsigned a, unsigned b)
{
    return a < b ? a : b;
}

/* The depth is offered by SAGAW and is the smallest offered one covering
 * what vtdsync needs below MGAW, else the largest offered. */
static void check_depth(const struct vtd_caps *c, unsigned levels)
{
    CHECK(levels >= 3 && levels <= 5, "depth %u", levels);
    if (levels < 3 || levels > 5)
        return;
    CHECK(c->sagaw & (1u << (levels - 2)), "depth %u not offered by SAGAW %#x", levels, c->sagaw);
    unsigned need = min_u(VTD_IOVA_NEED_BITS, c->mgaw);
    for (unsigned l = 3; l < levels; l++)
        CHECK(!((c->sagaw & (1u << (l - 2))) && width(l) >= need),
              "offered depth %u already covers %u bits, chose %u", l, need, levels);
    if (width(levels) < need)
        for (unsigned l = levels + 1; l <= 5; l++)
            CHECK(!(c->sagaw & (1u << (l - 2))), "depth %u covers only %u bits, %u offered", levels,
                  width(levels), l);
}

/* Map the last page below the plan's bound and translate it; the page at
 * the bound must be refused. */
static void check_domain_range(struct vtd_domain *d, const char *what)
{
    uint64_t limit = 1ULL << unit.plan.iova_bits;
    uint64_t phys = 0x12345000;
    int rc = vtd_domain_map(d, limit - 0x1000, phys, 0x1000, PGTABLE_R | PGTABLE_W);
    CHECK(rc == 0, "%s: map at %#llx: %s", what, (unsigned long long)(limit - 0x1000),
          pgtable_strerror(rc));
    struct pgtable_xlate x;
    pgtable_translate(&d->pt, limit - 0x1000, PGTABLE_ACC_READ, &x);
    CHECK(x.fault == PGTABLE_XLATE_OK && x.phys == phys, "%s: walk at the top: %s", what,
          pgtable_fault_name(x.fault));
    rc = vtd_domain_map(d, limit, phys, 0x1000, PGTABLE_R | PGTABLE_W);
    CHECK(rc == PGTABLE_ERR_RANGE, "%s: map at 2^%u accepted (%s)", what, unit.plan.iova_bits,
          pgtable_strerror(rc));
    CHECK(pgtable_width(&d->pt.params) >= unit.plan.iova_bits, "%s: table width %u < %u", what,
          pgtable_width(&d->pt.params), unit.plan.iova_bits);
}

static void check_second_stage(const struct vtd_caps *c)
{
    unsigned levels = vtd_ss_levels(&unit);
    check_depth(c, levels);
    if (levels < 3 || levels > 5)
        return;
    CHECK(unit.plan.iova_bits <= width(levels), "iova_bits %u above the depth's %u bits",
          unit.plan.iova_bits, width(levels));
    struct vtd_domain d;
    int rc = vtd_domain_init(&d, &unit, PGTABLE_SECOND_STAGE);
    CHECK(rc == 0, "second-stage domain: %s", pgtable_strerror(rc));
    if (rc)
        return;
    CHECK_EQ_U64(d.pt.params.levels, levels);
    CHECK_EQ_U64(vtd_unit_aw(&unit), levels - 2); /* what PT and foreign entries carry */
    if (unit.mode == VTD_MODE_SCALABLE) {
        struct pasid_entry e;
        vtd_domain_pasid_entry(&d, &e);
        CHECK_EQ_U64(pasid_entry_get(&e, PASID_AW), levels - 2);
    } else {
        struct legacy_context_entry e;
        struct legacy_context_cfg lc = {.slptptr = pgtable_root(&d.pt),
                                        .did = d.did,
                                        .aw = vtd_unit_aw(&unit),
                                        .tt = LEGACY_TT_UNTRANSLATED};
        legacy_context_build(&e, &lc);
        CHECK_EQ_U64(e.q[1] & LEGACY_CTX_AW_MASK, levels - 2);
    }
    check_domain_range(&d, "second stage");
}

static void check_first_stage(void)
{
    CHECK(unit.plan.fs_levels == 4 || (unit.plan.fs_levels == 5 && unit.caps.fs5lp),
          "first-stage depth %u (FS5LP=%d)", unit.plan.fs_levels, unit.caps.fs5lp);
    /* Canonical lower half of the first-stage paging. */
    unsigned fs_bits = unit.plan.fs_levels == 5 ? 56 : 47;
    CHECK(unit.plan.iova_bits <= fs_bits, "iova_bits %u above first-stage %u bits",
          unit.plan.iova_bits, fs_bits);
    struct vtd_domain d;
    int rc = vtd_domain_init(&d, &unit, PGTABLE_FIRST_STAGE);
    CHECK(rc == 0, "first-stage domain: %s", pgtable_strerror(rc));
    if (rc)
        return;
    struct pasid_entry e;
    vtd_domain_pasid_entry(&d, &e);
    CHECK_EQ_U64(pasid_entry_get(&e, PASID_FSPM),
                 unit.plan.fs_levels == 5 ? PASID_FSPM_5LEVEL : PASID_FSPM_4LEVEL);
    /* AW of a first-stage entry: still a width SAGAW offers. */
    CHECK(unit.caps.sagaw & (1u << pasid_entry_get(&e, PASID_AW)), "FS entry AW %llu",
          (unsigned long long)pasid_entry_get(&e, PASID_AW));
    check_domain_range(&d, "first stage");
}

static void test_unit(void)
{
    struct why why;
    struct vtd_caps c;
    vtd_caps_decode(cur->cap, cur->ecap, &c);
    int rc = fake_bring_up(&unit, cur->cap, cur->ecap, VTD_WANT_AUTO, set_ver, &why);
    printf("    # %s ver %u.%u cap %#llx ecap %#llx: %s%s, mgaw %u sagaw %#x -> levels %u fs %u "
           "iova_bits %u (%.60s)\n",
           cur->id, cur->ver >> 4, cur->ver & 15, (unsigned long long)cur->cap,
           (unsigned long long)cur->ecap, rc ? "REFUSED " : "", rc ? why.text : "up", c.mgaw,
           c.sagaw, unit.plan.ss_levels, unit.plan.fs_levels, unit.plan.iova_bits, cur->platform);
    CHECK(rc == 0 && unit.up, "bring-up: %s", why.text);
    if (rc)
        return;
    CHECK_EQ_U64(unit.ver, cur->ver);
    bool best_scalable = c.smts && c.qi && (c.slts || c.flts);
    CHECK(unit.mode == (best_scalable ? VTD_MODE_SCALABLE : VTD_MODE_LEGACY),
          "mode %s, best allowed %s", unit.mode == VTD_MODE_SCALABLE ? "scalable" : "legacy",
          best_scalable ? "scalable" : "legacy");
    CHECK(unit.qi.enabled == c.qi, "queued invalidation %d, ECAP.QI %d", unit.qi.enabled, c.qi);
    CHECK(unit.plan.iova_bits >= 32 && unit.plan.iova_bits <= c.mgaw, "iova_bits %u, MGAW %u",
          unit.plan.iova_bits, c.mgaw);
    CHECK_EQ_U64(vtd_iova_limit(&unit), 1ULL << unit.plan.iova_bits);
    bool ss = unit.mode == VTD_MODE_LEGACY || c.slts;
    CHECK(ss || c.flts, "no translating table format in the chosen mode");
    if (ss)
        check_second_stage(&c);
    if (unit.mode == VTD_MODE_SCALABLE && c.flts)
        check_first_stage();
    else
        CHECK_EQ_U64(unit.plan.fs_levels, 0);
    /* The caps line the vtd suite prints carries the plan. */
    char line[512];
    vtd_caps_format(&unit, line, sizeof(line));
    char want[64];
    snprintf(want, sizeof(want), "levels=%u fs_levels=%u iova_bits=%u", unit.plan.ss_levels,
             unit.plan.fs_levels, unit.plan.iova_bits);
    CHECK(strstr(line, want), "caps line lacks '%s': %s", want, line);
}

/* ---- the depth rule at its edges (synthetic CAP values) ------------------- */

static uint64_t cap_of(unsigned sagaw, unsigned mgaw)
{
    return (uint64_t)sagaw << 8 | (uint64_t)(mgaw - 1) << 16;
}

TEST(plan_depth_rule)
{
    static const struct {
        unsigned sagaw, mgaw, levels, iova_bits;
    } t[] = {
        {0x2, 39, 3, 39}, /* old client: 3-level only */
        {0x4, 39, 4, 39}, /* Haswell..Raptor Lake client: 4-level only, 39-bit */
        {0x4, 42, 4, 42}, /* Meteor Lake */
        {0x6, 39, 3, 39}, /* 3 covers 39 */
        {0x6, 48, 4, 47}, /* QEMU: 4 levels, vtdsync's IOVAs stay below 2^47 */
        {0xc, 57, 4, 47}, /* Sapphire Rapids: 5-level not needed */
        {0x8, 57, 5, 47}, /* 5-level only */
        {0x2, 48, 3, 39}, /* 3-level only on a 48-bit unit: 39 bits */
        {0x2, 36, 3, 36}, /* MGAW below the depth */
    };
    for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct vtd_unit_plan p;
        int rc = vtd_plan_unit(0x10, cap_of(t[i].sagaw, t[i].mgaw), 0, VTD_WANT_AUTO, &p);
        CHECK(rc == 0 && p.usable && p.mode == VTD_MODE_LEGACY, "sagaw %#x mgaw %u: %s", t[i].sagaw,
              t[i].mgaw, p.reason);
        CHECK(p.ss_levels == t[i].levels && p.iova_bits == t[i].iova_bits,
              "sagaw %#x mgaw %u: levels %u iova_bits %u, want %u %u", t[i].sagaw, t[i].mgaw,
              p.ss_levels, p.iova_bits, t[i].levels, t[i].iova_bits);
        CHECK_EQ_U64(vtd_plan_aw(&p), t[i].levels - 2);
    }
}

TEST(plan_refusals)
{
    struct vtd_unit_plan p;
    /* Reserved SAGAW bits only: no depth, legacy mode cannot translate. */
    CHECK(vtd_plan_unit(0x10, cap_of(0x11, 48), 0, VTD_WANT_AUTO, &p) < 0 && !p.usable,
          "no depth accepted");
    CHECK(strstr(p.reason, "no supported AGAW (CAP.SAGAW=0x11)"), "reason: %s", p.reason);
    CHECK(vtd_plan_unit(0x10, ~0ULL, ~0ULL, VTD_WANT_AUTO, &p) < 0, "all ones accepted");
    CHECK(strstr(p.reason, "no registers there"), "reason: %s", p.reason);
    /* Scalable requested on a legacy-only unit. */
    CHECK(vtd_plan_unit(0x10, cap_of(0x4, 39), VTD_ECAP_QI, VTD_WANT_SCALABLE, &p) < 0,
          "scalable accepted without SMTS");
    CHECK(strstr(p.reason, "scalable mode requested"), "reason: %s", p.reason);
    /* First stage only: scalable, 4-level first stage, no second stage
     * walk but the AW field still names a SAGAW width. */
    uint64_t ecap = VTD_ECAP_QI | VTD_ECAP_SMTS | VTD_ECAP_FLTS;
    CHECK(vtd_plan_unit(0x10, cap_of(0x4, 48) | VTD_CAP_FS5LP, ecap, VTD_WANT_AUTO, &p) == 0,
          "FS-only unit: %s", p.reason);
    CHECK(p.mode == VTD_MODE_SCALABLE && p.fs_levels == 4 && p.iova_bits == 47 &&
              !vtd_plan_has_ss(&p, ecap),
          "FS-only plan: mode %d fs %u iova %u", p.mode, p.fs_levels, p.iova_bits);
    CHECK(vtd_plan_unit(0x10, cap_of(0x4, 48), ecap, VTD_WANT_LEGACY, &p) < 0,
          "legacy accepted on a first-stage-only unit");
}

int main(void)
{
    fake_init();
    RUN(plan_depth_rule);
    RUN(plan_refusals);
    if (!load_tsv()) {
        printf("not ok 3 corpus # cannot read %s\n", HW_TSV);
        return 1;
    }
    for (unsigned i = 0; i < nunits; i++) {
        cur = &units[i];
        check_run(cur->id, test_unit);
        fake_free_all();
    }
    return check_finish();
}
