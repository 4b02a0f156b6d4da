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
