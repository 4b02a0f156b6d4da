/* DMA aliases in the engine (see vtd_alias.h). */
#include "iommu/vtd_alias.h"

#include "iommu/vtd.h"
#include "lib/kstring.h"
#include "lib/ktap.h"

static struct vtd_alias *find(const struct vtd_unit *u, uint16_t sid, uint16_t alias)
{
    for (unsigned i = 0; i < u->naliases; i++)
        if (u->aliases[i].sid == sid && u->aliases[i].alias == alias)
            return &u->aliases[i];
    return NULL;
}

/* The ops have no free: a full list moves to a block twice as large and
 * the old one stays allocated (a few pages per run at most). */
static bool grow(struct vtd_unit *u)
{
    unsigned cap = u->alias_cap ? 2 * u->alias_cap : 4096 / sizeof(struct vtd_alias);
    unsigned pages = (unsigned)((cap * sizeof(struct vtd_alias) + 4095) / 4096);
    struct vtd_alias *a = u->ops->alloc_pages(u->ops->ctx, pages);
    if (!a)
        return false;
    if (u->naliases)
        memcpy(a, u->aliases, u->naliases * sizeof(*a));
    u->aliases = a;
    u->alias_cap = cap;
    return true;
}

int vtd_alias_add(struct vtd_unit *u, uint16_t sid, uint16_t alias)
{
    char a[8], b[8];
    if (alias == sid || find(u, sid, alias))
        return 0;
    uint16_t have[VTD_ALIAS_MAX_PER_SID];
    if (vtd_aliases_of(u, sid, have, VTD_ALIAS_MAX_PER_SID) >= VTD_ALIAS_MAX_PER_SID) {
        ktap_diag("vtd: unit=%d %s has more than %d DMA aliases: %s gets no entry", u->index,
                  vtd_sid_str(sid, a), VTD_ALIAS_MAX_PER_SID, vtd_sid_str(alias, b));
        return -1;
    }
    if (u->naliases == u->alias_cap && !grow(u)) {
        ktap_diag("vtd: unit=%d out of memory for the DMA alias %s of %s", u->index,
                  vtd_sid_str(alias, a), vtd_sid_str(sid, b));
        return -1;
    }
    u->aliases[u->naliases++] = (struct vtd_alias){.sid = sid, .alias = alias};
    return 0;
}

unsigned vtd_aliases_of(const struct vtd_unit *u, uint16_t sid, uint16_t *out, unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; i < u->naliases && n < max; i++)
        if (u->aliases[i].sid == sid)
            out[n++] = u->aliases[i].alias;
    return n;
}

unsigned vtd_alias_sharers(const struct vtd_unit *u, uint16_t alias, uint16_t sid, uint16_t *out,
                           unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; i < u->naliases && n < max; i++)
        if (u->aliases[i].alias == alias && u->aliases[i].sid != sid)
            out[n++] = u->aliases[i].sid;
    return n;
}

bool vtd_alias_shared(const struct vtd_unit *u, uint16_t a, uint16_t b)
{
    uint16_t ia[VTD_ALIAS_MAX_PER_SID + 1], ib[VTD_ALIAS_MAX_PER_SID + 1];
    unsigned na = vtd_aliases_of(u, a, ia, VTD_ALIAS_MAX_PER_SID);
    unsigned nb = vtd_aliases_of(u, b, ib, VTD_ALIAS_MAX_PER_SID);
    ia[na++] = a;
    ib[nb++] = b;
    for (unsigned i = 0; i < na; i++)
        for (unsigned k = 0; k < nb; k++)
            if (ia[i] == ib[k])
                return true;
    return false;
}

int vtd_alias_owner(const struct vtd_unit *u, uint16_t alias)
{
    for (unsigned i = 0; i < u->naliases; i++)
        if (u->aliases[i].alias == alias && u->aliases[i].owner)
            return u->aliases[i].sid;
    return -1;
}

void vtd_alias_set_owner(struct vtd_unit *u, uint16_t sid, uint16_t alias)
{
    for (unsigned i = 0; i < u->naliases; i++)
        if (u->aliases[i].alias == alias)
            u->aliases[i].owner = u->aliases[i].sid == sid;
}

static const struct vtd_unit *unit_by_index(unsigned unit)
{
    for (unsigned i = 0; i < vtd_nunits; i++)
        if (vtd_units[i]->index == (int)unit)
            return vtd_units[i];
    return NULL;
}

int vtd_alias_owner_on(unsigned unit, uint16_t alias)
{
    const struct vtd_unit *u = unit_by_index(unit);
    return u ? vtd_alias_owner(u, alias) : -1;
}

bool vtd_alias_fault_is(unsigned unit, uint16_t fault_sid, uint16_t sid)
{
    const struct vtd_unit *u = unit_by_index(unit);
    const struct vtd_alias *a = u ? find(u, sid, fault_sid) : NULL;
    return a && a->owner;
}

/* ---- scalable mode ------------------------------------------------------------ */

int vtd_alias_attach_scalable(struct vtd_unit *u, uint16_t sid)
{
    uint16_t al[VTD_ALIAS_MAX_PER_SID];
    unsigned n = vtd_aliases_of(u, sid, al, VTD_ALIAS_MAX_PER_SID);
    volatile struct sm_context_entry *own = vtd_sm_context(u, sid, false);
    if (!n)
        return 0;
    if (!own || !(own->q[0] & SM_CTX_P))
        return -1;
    /* The alias shares the PASID directory and RID_PASID; requests under
     * it come from behind a bridge, so no device-TLB and no page requests. */
    uint64_t want[2]
        __attribute__((aligned(16))) = {own->q[0] & ~(SM_CTX_DTE | SM_CTX_PRE), own->q[1]};
    int rc = 0;
    for (unsigned i = 0; i < n; i++) {
        volatile struct sm_context_entry *ce = vtd_sm_context(u, al[i], true);
        bool same = ce && (ce->q[0] & SM_CTX_P) && ce->q[0] == want[0] && ce->q[1] == want[1];
        /* Another device behind the same bridge may hold it: its PASID
         * entries' domains are not known here, so invalidate them all. */
        if (!same &&
            (!ce || vtd_sm_context_clear(u, al[i], -1) || vtd_sm_context_store(u, al[i], want))) {
            rc = -1;
            continue;
        }
        vtd_alias_set_owner(u, sid, al[i]);
    }
    return rc;
}

int vtd_alias_detach_scalable(struct vtd_unit *u, uint16_t sid, uint16_t did)
{
    int rc = 0;
    for (unsigned i = 0; i < u->naliases; i++) {
        struct vtd_alias *a = &u->aliases[i];
        if (a->sid != sid || !a->owner)
            continue;
        if (vtd_sm_context_clear(u, a->alias, did))
            rc = -1;
        a->owner = false;
    }
    return rc;
}
