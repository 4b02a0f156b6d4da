/* The catalogue of translation states: see xstate.h. */
#include "app/xstate.h"

#include "iommu/vtd.h"
#include "lib/kstring.h"

static const struct {
    const char *name, *kind, *kind_lower;
    int domain; /* slot in xs_set.dom, -1: none */
    bool fpd;
} states[XS_COUNT] = {
    [XS_BLOCKED] = {"blocked", "blocked", "blocked", -1, false},
    [XS_PT] = {"PT", "PT", "pt", -1, false},
    [XS_SS_A] = {"SS-A", "SS", "ss", 0, false},
    [XS_SS_B] = {"SS-B", "SS", "ss", 1, false},
    [XS_FS_A] = {"FS-A", "FS", "fs", 2, false},
    [XS_FS_B] = {"FS-B", "FS", "fs", 3, false},
    [XS_NESTED] = {"nested", "nested", "nested", -1, false},
    [XS_SS_A_FPD] = {"SS-A+FPD", "SS", "ss", 0, true},
    [XS_FS_A_FPD] = {"FS-A+FPD", "FS", "fs", 2, true},
};

static bool valid(int s)
{
    return s >= 0 && s < XS_COUNT;
}

const char *xs_name(int s)
{
    return valid(s) ? states[s].name : "?";
}

const char *xs_kind(enum xstate s)
{
    return valid(s) ? states[s].kind : "?";
}

const char *xs_kind_lower(enum xstate s)
{
    return valid(s) ? states[s].kind_lower : "?";
}

int xs_domain_of(enum xstate s)
{
    return valid(s) ? states[s].domain : -1;
}

static bool first_stage(enum xstate s)
{
    return xs_domain_of(s) >= 2;
}

enum pgtable_format xs_format(enum xstate s)
{
    return first_stage(s) ? PGTABLE_FIRST_STAGE : PGTABLE_SECOND_STAGE;
}

bool xs_fpd(enum xstate s)
{
    return valid(s) && states[s].fpd;
}

/* What each state needs: PT needs ECAP.PT (9.3 TT=10b, 9.6 PGTT=100b);
 * second stage ECAP.SLTS in scalable mode (legacy context entries always
 * translate through a second-level table); first stage ECAP.FLTS, and
 * scalable mode; nested ECAP.NEST and scalable mode. */
const char *xs_requirement(const struct vtd_unit *u, enum xstate s)
{
    bool legacy = u->mode == VTD_MODE_LEGACY;
    switch (s) {
    case XS_BLOCKED:
        return NULL;
    case XS_PT:
        return u->caps.pt ? NULL : "pass-through not supported (ECAP.PT=0)";
    case XS_NESTED:
        if (legacy)
            return "legacy mode has no nested translation";
        return u->caps.nest ? "nested translation needs a first- and a second-stage table of one "
                              "unit; not wired yet on this unit"
                            : "nested translation not supported (ECAP.NEST=0; QEMU never offers "
                              "it)";
    default:
        break;
    }
    if (!valid(s))
        return "no such translation state";
    if (first_stage(s)) {
        if (legacy)
            return "legacy mode has no first-stage translation";
        return u->caps.flts ? NULL : "first-stage translation not supported (ECAP.FLTS=0)";
    }
    return legacy || u->caps.slts ? NULL : "second-stage translation not supported (ECAP.SLTS=0)";
}

static bool build_pasid(enum xstate s, const struct vtd_unit *u, const struct vtd_domain *dom,
                        uint16_t pt_did, struct pasid_entry *e)
{
    if (s == XS_BLOCKED) {
        pasid_entry_build_blocked(e);
    } else if (s == XS_PT) {
        struct pasid_entry_cfg c = {.did = pt_did, .aw = vtd_unit_aw(u)};
        vtd_pasid_snoop(u, &c);
        pasid_entry_build_pt(e, &c);
    } else if (xs_domain_of(s) >= 0 && dom) {
        vtd_domain_pasid_entry(dom, e);
    } else {
        return false;
    }
    if (xs_fpd(s))
        pasid_entry_set(e, PASID_FPD, 1);
    return true;
}

static bool build_context(enum xstate s, const struct vtd_unit *u, const struct vtd_domain *dom,
                          uint16_t pt_did, struct legacy_context_entry *e)
{
    struct legacy_context_cfg c = {.aw = vtd_unit_aw(u), .fpd = xs_fpd(s)};
    if (s == XS_BLOCKED) {
        legacy_context_build_blocked(e);
        return true;
    }
    if (s == XS_PT) {
        c.did = pt_did;
        c.tt = LEGACY_TT_PASS_THROUGH;
    } else if (xs_domain_of(s) >= 0 && !first_stage(s) && dom) {
        c.did = dom->did;
        c.aw = vtd_aw_for_levels(dom->pt.params.levels);
        c.tt = LEGACY_TT_UNTRANSLATED;
        c.slptptr = pgtable_root(&dom->pt);
    } else {
        return false;
    }
    legacy_context_build(e, &c);
    return true;
}

bool xs_build(enum xstate s, const struct vtd_unit *u, const struct vtd_domain *dom,
              uint16_t pt_did, struct xs_entry *e)
{
    memset(e, 0, sizeof(*e));
    e->legacy = u->mode == VTD_MODE_LEGACY;
    if (e->legacy)
        return build_context(s, u, dom, pt_did, &e->ce);
    return build_pasid(s, u, dom, pt_did, &e->pe);
}

bool xs_entry_fpd(const struct xs_entry *e)
{
    if (e->legacy)
        return e->ce.q[0] & LEGACY_CTX_FPD;
    return pasid_entry_get(&e->pe, PASID_FPD);
}

struct vtd_write_result xs_write(struct vtd_unit *u, uint16_t sid, const struct xs_entry *e,
                                 enum entry_sync_strategy strategy)
{
    if (e->legacy)
        return vtd_context_write(u, sid, &e->ce, strategy);
    return vtd_pasid_write(u, sid, vtd_rid_pasid(u, sid), &e->pe, strategy);
}

/* ---- one device's set of states ------------------------------------------------ */

static void unsupported(struct xs_set *x, enum xstate s, const char *why)
{
    x->supported[s] = false;
    x->why[s] = why;
}

void xs_set_none(struct xs_set *x, const char *why)
{
    for (int s = XS_PT; s < XS_COUNT; s++)
        unsupported(x, s, why);
}

/* The domain state s translates through, built on first use; NULL (and
 * the state unsupported) when its page table cannot be had. */
static const struct vtd_domain *domain_for(struct xs_set *x, enum xstate s)
{
    int i = xs_domain_of(s);
    if (i < 0)
        return NULL;
    if (!x->dom_ok[i] && !vtd_domain_init(&x->dom[i], x->u, xs_format(s)))
        x->dom_ok[i] = true;
    return x->dom_ok[i] ? &x->dom[i] : NULL;
}

void xs_set_build(struct xs_set *x, struct vtd_unit *u, uint16_t sid, unsigned want)
{
    memset(x, 0, sizeof(*x));
    x->u = u;
    x->sid = sid;
    x->legacy = u->mode == VTD_MODE_LEGACY;
    if (want & XS_BIT(XS_PT))
        x->pt_did = vtd_alloc_did(u);
    for (int s = 0; s < XS_COUNT; s++) {
        const char *why = want & XS_BIT(s) ? xs_requirement(u, s) : "not used by this suite";
        if (why) {
            unsupported(x, s, why);
            continue;
        }
        const struct vtd_domain *d = domain_for(x, s);
        if (xs_domain_of(s) >= 0 && !d) {
            unsupported(x, s, "cannot build the domain's page table (out of memory?)");
            continue;
        }
        x->supported[s] = xs_build(s, u, d, x->pt_did, &x->entry[s]);
        if (!x->supported[s])
            x->why[s] = "no builder for this state";
    }
}

struct vtd_write_result xs_set_switch(const struct xs_set *x, enum xstate s,
                                      enum entry_sync_strategy strategy)
{
    return xs_write(x->u, x->sid, &x->entry[s], strategy);
}
