// HOST-DEPS: app/xstate.c lib/printf.c lib/ktap.c iommu/vtd.c iommu/vtd_unit.c iommu/vtd_takeover.c iommu/qi.c iommu/fault.c iommu/context_entry.c iommu/pasid_entry.c iommu/entry_sync.c iommu/pasid_write.c iommu/domain.c iommu/pgtable.c iommu/pgtable_walk.c tests/host/vtd_fake.c iommu/vtd_alias.c lib/why.c
/* The catalogue of translation states (app/xstate.c) on units brought up
 * on the fake register file:
 *   - the names are the ones every KTAP case prints;
 *   - each state asks the unit for what VT-d says it needs (PT: ECAP.PT;
 *     second stage: ECAP.SLTS in scalable mode, always in legacy mode;
 *     first stage: ECAP.FLTS and scalable mode; nested: scalable mode and
 *     ECAP.NEST), with the reason a skip prints;
 *   - the builders give each state its translation type (PASID entry
 *     PGTT, 9.6; context entry TT, 9.3), its domain's id and table, and
 *     FPD exactly for the FPD states;
 *   - a set builds only the states it is asked for, one domain per slot,
 *     and switching writes the state's entry into the live table. */
#include <stdint.h>
#include <string.h>

#include "app/xstate.h"
#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "tests/host/check.h"
#include "tests/host/vtd_fake.h"

CHECK_STATE_DEFINE;

#define SID 0x18
#define ECAP_PSS9 (9ULL << 35)

static struct vtd_unit unit;
static struct xs_set set;

static bool bring_up(uint64_t ecap_clear, uint64_t ecap_set, enum vtd_mode_request want)
{
    struct why why;
    int rc = fake_bring_up(&unit, QEMU_CAP, (QEMU_ECAP | ECAP_PSS9 | ecap_set) & ~ecap_clear, want,
                           NULL, &why);
    CHECK(rc == 0, "bring-up: %s", why.text);
    vtd_options = (struct vtd_options){0};
    if (rc)
        return false;
    if (unit.mode == VTD_MODE_SCALABLE)
        CHECK(vtd_attach_scalable(&unit, SID, 0) == 0, "attach");
    return true;
}

static void check_reason(enum xstate s, const char *want)
{
    const char *got = xs_requirement(&unit, s);
    if (!want)
        CHECK(!got, "%s refused: %s", xs_name(s), got);
    else
        CHECK(got && !strcmp(got, want), "%s: reason \"%s\", want \"%s\"", xs_name(s),
              got ? got : "(none)", want);
}

TEST(names_as_the_cases_print_them)
{
    static const char *const want[XS_COUNT] = {
        "blocked", "PT", "SS-A", "SS-B", "FS-A", "FS-B", "nested", "SS-A+FPD", "FS-A+FPD",
    };
    for (int s = 0; s < XS_COUNT; s++)
        CHECK(!strcmp(xs_name(s), want[s]), "state %d: %s", s, xs_name(s));
    CHECK(!strcmp(xs_name(-1), "?") && !strcmp(xs_name(XS_COUNT), "?"), "out of range");
    CHECK(!strcmp(xs_kind(XS_SS_B), "SS") && !strcmp(xs_kind(XS_FS_A_FPD), "FS") &&
              !strcmp(xs_kind(XS_PT), "PT") && !strcmp(xs_kind_lower(XS_NESTED), "nested") &&
              !strcmp(xs_kind_lower(XS_SS_A), "ss"),
          "kinds");
    CHECK(xs_domain_of(XS_SS_A_FPD) == xs_domain_of(XS_SS_A) &&
              xs_domain_of(XS_FS_A_FPD) == xs_domain_of(XS_FS_A) &&
              xs_domain_of(XS_SS_B) != xs_domain_of(XS_SS_A) && xs_domain_of(XS_PT) < 0 &&
              xs_domain_of(XS_BLOCKED) < 0 && xs_domain_of(XS_NESTED) < 0,
          "domain slots");
    CHECK(xs_format(XS_FS_B) == PGTABLE_FIRST_STAGE && xs_format(XS_SS_B) == PGTABLE_SECOND_STAGE,
          "formats");
}

TEST(scalable_requirements)
{
    if (!bring_up(0, VTD_ECAP_FLTS, VTD_WANT_SCALABLE))
        return;
    for (int s = XS_BLOCKED; s < XS_COUNT; s++)
        if (s != XS_NESTED)
            check_reason(s, NULL);
    check_reason(XS_NESTED, "nested translation not supported (ECAP.NEST=0; QEMU never offers it)");

    if (!bring_up(VTD_ECAP_SLTS | VTD_ECAP_PT, VTD_ECAP_FLTS | VTD_ECAP_NEST, VTD_WANT_SCALABLE))
        return;
    const char *no_ss = "second-stage translation not supported (ECAP.SLTS=0)";
    check_reason(XS_SS_A, no_ss);
    check_reason(XS_SS_B, no_ss);
    check_reason(XS_SS_A_FPD, no_ss);
    check_reason(XS_PT, "pass-through not supported (ECAP.PT=0)");
    check_reason(XS_FS_A, NULL);
    check_reason(XS_FS_A_FPD, NULL);
    const char *nest = xs_requirement(&unit, XS_NESTED);
    CHECK(nest && strstr(nest, "not wired yet"), "nested with ECAP.NEST: %s", nest);

    if (!bring_up(VTD_ECAP_FLTS, 0, VTD_WANT_SCALABLE))
        return;
    const char *no_fs = "first-stage translation not supported (ECAP.FLTS=0)";
    check_reason(XS_FS_A, no_fs);
    check_reason(XS_FS_B, no_fs);
    check_reason(XS_FS_A_FPD, no_fs);
}

TEST(legacy_requirements)
{
    if (!bring_up(0, VTD_ECAP_FLTS | VTD_ECAP_NEST, VTD_WANT_LEGACY))
        return;
    CHECK(unit.mode == VTD_MODE_LEGACY, "mode %d", unit.mode);
    check_reason(XS_SS_A, NULL); /* a context entry always has its second level */
    check_reason(XS_SS_A_FPD, NULL);
    check_reason(XS_PT, NULL);
    check_reason(XS_FS_A, "legacy mode has no first-stage translation");
    check_reason(XS_FS_A_FPD, "legacy mode has no first-stage translation");
    check_reason(XS_NESTED, "legacy mode has no nested translation");
}

/* The live entry in the unit's table equals what the set holds for s. */
static void check_switch(enum xstate s)
{
    struct vtd_write_result r = xs_set_switch(&set, s, ENTRY_SYNC_STRATEGY_HITLESS);
    CHECK(r.ok, "switch to %s: %s", xs_name(s), r.why.text);
    if (set.legacy) {
        volatile struct legacy_context_entry *live = vtd_legacy_context(&unit, SID, false);
        CHECK(live && live->q[0] == set.entry[s].ce.q[0] && live->q[1] == set.entry[s].ce.q[1],
              "live context entry is not %s's", xs_name(s));
    } else {
        volatile struct pasid_entry *live = vtd_pasid_entry(&unit, SID, 0, false);
        CHECK(live && !memcmp((const void *)live, &set.entry[s].pe, sizeof(set.entry[s].pe)),
              "live PASID entry is not %s's", xs_name(s));
    }
}

TEST(scalable_builders)
{
    if (!bring_up(0, VTD_ECAP_FLTS, VTD_WANT_SCALABLE))
        return;
    xs_set_build(&set, &unit, SID, XS_ALL);
    static const int pgtt[XS_COUNT] = {
        [XS_PT] = PASID_PGTT_PT,       [XS_SS_A] = PASID_PGTT_SS, [XS_SS_B] = PASID_PGTT_SS,
        [XS_FS_A] = PASID_PGTT_FS,     [XS_FS_B] = PASID_PGTT_FS, [XS_SS_A_FPD] = PASID_PGTT_SS,
        [XS_FS_A_FPD] = PASID_PGTT_FS,
    };
    for (int s = 0; s < XS_COUNT; s++) {
        const struct pasid_entry *e = &set.entry[s].pe;
        if (s == XS_NESTED) {
            CHECK(!set.supported[s] && set.why[s], "nested supported");
            continue;
        }
        CHECK(set.supported[s], "%s: %s", xs_name(s), set.why[s]);
        CHECK(!set.entry[s].legacy, "%s built as a context entry", xs_name(s));
        CHECK(pasid_entry_get(e, PASID_FPD) == xs_fpd(s), "%s: FPD %llu", xs_name(s),
              (unsigned long long)pasid_entry_get(e, PASID_FPD));
        CHECK(xs_entry_fpd(&set.entry[s]) == xs_fpd(s), "%s: xs_entry_fpd", xs_name(s));
        if (s == XS_BLOCKED) {
            CHECK(!pasid_entry_present(e), "blocked is present");
            continue;
        }
        CHECK(pasid_entry_present(e) && (int)pasid_entry_pgtt(e) == pgtt[s], "%s: PGTT %d",
              xs_name(s), pasid_entry_pgtt(e));
        int k = xs_domain_of(s);
        uint16_t did = k >= 0 ? set.dom[k].did : set.pt_did;
        CHECK(pasid_entry_get(e, PASID_DID) == did, "%s: DID %llu, want %u", xs_name(s),
              (unsigned long long)pasid_entry_get(e, PASID_DID), did);
        if (k >= 0) {
            struct pasid_field root =
                s == XS_FS_A || s == XS_FS_B || s == XS_FS_A_FPD ? PASID_FSPTPTR : PASID_SSPTPTR;
            CHECK(pasid_entry_get(e, root) == pgtable_root(&set.dom[k].pt), "%s: table root",
                  xs_name(s));
        }
    }
    for (int k = 0; k < XS_DOMAINS; k++)
        for (int j = k + 1; j < XS_DOMAINS; j++)
            CHECK(set.dom[k].did != set.dom[j].did && set.dom[k].did != set.pt_did,
                  "domains %d and %d share a DID", k, j);
    check_switch(XS_SS_A);
    check_switch(XS_FS_B);
    check_switch(XS_PT);
    check_switch(XS_BLOCKED);
}

TEST(legacy_builders)
{
    if (!bring_up(0, 0, VTD_WANT_LEGACY))
        return;
    xs_set_build(&set, &unit, SID, XS_ALL);
    CHECK(set.legacy, "set not legacy");
    CHECK(!set.supported[XS_FS_A] && !set.dom_ok[xs_domain_of(XS_FS_A)], "FS in legacy mode");
    for (int s = XS_BLOCKED; s <= XS_SS_A_FPD; s++) {
        if (s == XS_FS_A || s == XS_FS_B || s == XS_NESTED)
            continue;
        const struct legacy_context_entry *e = &set.entry[s].ce;
        CHECK(set.supported[s] && set.entry[s].legacy, "%s: %s", xs_name(s), set.why[s]);
        CHECK(!!(e->q[0] & LEGACY_CTX_FPD) == xs_fpd(s), "%s: FPD", xs_name(s));
        if (s == XS_BLOCKED) {
            CHECK(!(e->q[0] & 1), "blocked is present");
            continue;
        }
        unsigned tt = (unsigned)((e->q[0] & LEGACY_CTX_TT_MASK) >> LEGACY_CTX_TT_SHIFT);
        int k = xs_domain_of(s);
        CHECK(tt == (k >= 0 ? LEGACY_TT_UNTRANSLATED : LEGACY_TT_PASS_THROUGH), "%s: TT %u",
              xs_name(s), tt);
        uint16_t did = k >= 0 ? set.dom[k].did : set.pt_did;
        CHECK(((e->q[1] & LEGACY_CTX_DID_MASK) >> LEGACY_CTX_DID_SHIFT) == did, "%s: DID",
              xs_name(s));
        if (k >= 0)
            CHECK((e->q[0] & LEGACY_CTX_SLPTPTR) == pgtable_root(&set.dom[k].pt), "%s: root",
                  xs_name(s));
    }
    check_switch(XS_SS_A_FPD);
    check_switch(XS_PT);
    check_switch(XS_SS_B);
}

TEST(only_the_wanted_states)
{
    if (!bring_up(0, VTD_ECAP_FLTS, VTD_WANT_SCALABLE))
        return;
    xs_set_build(&set, &unit, SID, XS_BIT(XS_BLOCKED) | XS_BIT(XS_SS_A) | XS_BIT(XS_FS_A));
    CHECK(set.supported[XS_SS_A] && set.supported[XS_FS_A] && set.supported[XS_BLOCKED],
          "wanted states missing");
    CHECK(!set.supported[XS_PT] && !set.supported[XS_SS_B] && !set.supported[XS_SS_A_FPD],
          "unwanted states built");
    CHECK(set.dom_ok[xs_domain_of(XS_SS_A)] && set.dom_ok[xs_domain_of(XS_FS_A)] &&
              !set.dom_ok[xs_domain_of(XS_SS_B)] && !set.dom_ok[xs_domain_of(XS_FS_B)],
          "domains of unwanted states built");
    xs_set_none(&set, "no unit");
    CHECK(!set.supported[XS_SS_A] && !strcmp(set.why[XS_FS_B], "no unit"), "xs_set_none");
}

int main(void)
{
    fake_init();
    RUN(names_as_the_cases_print_them);
    RUN(scalable_requirements);
    RUN(legacy_requirements);
    RUN(scalable_builders);
    RUN(legacy_builders);
    RUN(only_the_wanted_states);
    fake_free_all();
    return check_finish();
}
