/* VT-d page-table builder: second stage (spec section 9.8) and first stage
 * (section 9.7).  See pgtable.h for the contract. */
#include "iommu/pgtable.h"
#include "iommu/pgtable_internal.h"
#include "lib/kstring.h"

#define PGT_PAGE_MASK (PGTABLE_PAGE_SIZE - 1)
#define KNOWN_FLAGS (PGTABLE_R | PGTABLE_W | PGTABLE_X | PGTABLE_SUPERVISOR | PGTABLE_4K_ONLY)

const char *pgtable_strerror(int err)
{
    switch (err) {
    case PGTABLE_OK:
        return "ok";
    case PGTABLE_ERR_PARAMS:
        return "bad parameters";
    case PGTABLE_ERR_ALIGN:
        return "not 4 KiB aligned or empty";
    case PGTABLE_ERR_RANGE:
        return "iova beyond the address width";
    case PGTABLE_ERR_PHYS:
        return "phys beyond the host address width";
    case PGTABLE_ERR_PERM:
        return "permissions not expressible";
    case PGTABLE_ERR_EXISTS:
        return "overlaps an existing mapping";
    case PGTABLE_ERR_NOMEM:
        return "out of table pages";
    case PGTABLE_ERR_SPLIT:
        return "would split a large page";
    case PGTABLE_ERR_BAD_PAGE:
        return "allocator gave an unusable page";
    }
    return "unknown error";
}

unsigned pgtable_width(const struct pgtable_params *p)
{
    return 12 + 9 * p->levels;
}

uint64_t pgtable_root(const struct pgtable *t)
{
    return t->root;
}

/* ---- memory ------------------------------------------------------------- */

static uint64_t *table_virt(const struct pgtable *t, uint64_t phys)
{
    return t->mem.phys_to_virt(t->mem.ctx, phys);
}

static void flush(const struct pgtable *t, const void *p, size_t len)
{
    if (t->mem.flush)
        t->mem.flush(t->mem.ctx, p, len);
}

/* One aligned 64-bit store, so a concurrent walk sees the old or the new
 * entry and never half of each; then write it back for non-coherent walks. */
static void set_entry(const struct pgtable *t, uint64_t *e, uint64_t v)
{
    *(volatile uint64_t *)e = v;
    flush(t, e, sizeof(*e));
}

static int alloc_table(struct pgtable *t, uint64_t *out)
{
    uint64_t phys = t->mem.alloc_page(t->mem.ctx);

    if (!phys)
        return PGTABLE_ERR_NOMEM;
    if ((phys & PGT_PAGE_MASK) || (phys >> pgt_phys_bits(&t->params))) {
        t->mem.free_page(t->mem.ctx, phys);
        return PGTABLE_ERR_BAD_PAGE;
    }
    /* The CPU zeroed the page, but with ECAP.C = 0 memory may still hold
     * stale bytes that a walk would take for entries: write it all back
     * before the page is linked. */
    flush(t, table_virt(t, phys), PGTABLE_PAGE_SIZE);
    t->table_pages++;
    *out = phys;
    return PGTABLE_OK;
}

/* An unlinked table may still be cached by the IOMMU until the caller
 * invalidates, so it is not freed yet.  The list link lives in entry 0: a
 * 4 KiB aligned value has R = W = 0 (second stage) and P = 0 (first stage),
 * so the page still reads as an empty table. */
static void retire_table(struct pgtable *t, uint64_t phys)
{
    uint64_t *tbl = table_virt(t, phys);

    set_entry(t, &tbl[0], t->pending);
    t->pending = phys;
}

static void free_table(struct pgtable *t, uint64_t phys)
{
    t->mem.free_page(t->mem.ctx, phys);
    t->table_pages--;
}

static bool table_empty(const struct pgtable *t, const uint64_t *tbl)
{
    for (unsigned i = 0; i < PGTABLE_ENTRIES; i++) {
        if (pgt_present(&t->params, tbl[i]))
            return false;
    }
    return true;
}

/* ---- entry encoding ------------------------------------------------------ */

/* A/D presets: with them the IOMMU never needs an atomic write-back into
 * the tables.  Second-stage A/D (bits 8/9) only mean something with SSADE
 * (9.8); without it they stay 0.  D exists in leaves only. */
static uint64_t ad_bits(const struct pgtable *t, bool leaf)
{
    const struct pgtable_params *p = &t->params;

    if (!p->preset_ad)
        return 0;
    if (pgt_is_ss(p)) {
        if (!p->ssade)
            return 0;
        return PGTABLE_SS_A | (leaf ? PGTABLE_SS_D : 0);
    }
    return PGTABLE_FS_A | (leaf ? PGTABLE_FS_D : 0);
}

/* Rights are ANDed down the walk (9.7, 9.8), so non-leaf entries grant all
 * and the leaf decides.  Second-stage X is only set on the path of a mapping
 * that asks for it, in case the unit treats X as reserved. */
static uint64_t table_entry(const struct pgtable *t, uint64_t child, unsigned flags)
{
    if (pgt_is_ss(&t->params)) {
        uint64_t x = (flags & PGTABLE_X) ? PGTABLE_SS_X : 0;
        return child | PGTABLE_SS_R | PGTABLE_SS_W | x | ad_bits(t, false);
    }
    return child | PGTABLE_FS_P | PGTABLE_FS_RW | PGTABLE_FS_US | ad_bits(t, false);
}

static uint64_t leaf_entry(const struct pgtable *t, unsigned level, uint64_t phys, unsigned flags)
{
    uint64_t e = phys | ad_bits(t, true);

    if (level > 1)
        e |= PGTABLE_SS_PS; /* bit 7 in both formats */
    if (pgt_is_ss(&t->params)) {
        /* PGTABLE_R/W/X are bits 0-2, the same as R/W/X in 9.8. */
        return e | (flags & (PGTABLE_R | PGTABLE_W | PGTABLE_X));
    }
    e |= PGTABLE_FS_P;
    if (flags & PGTABLE_W)
        e |= PGTABLE_FS_RW;
    if (!(flags & PGTABLE_SUPERVISOR))
        e |= PGTABLE_FS_US;
    return e;
}

/* Second stage needs R or W to be present at all; the first stage cannot
 * express "no read" (P implies read) nor supervisor rights in the second
 * stage.  First-stage pages are executable: XD is never set. */
static int check_flags(const struct pgtable_params *p, unsigned flags)
{
    if (flags & ~KNOWN_FLAGS)
        return PGTABLE_ERR_PARAMS;
    if (pgt_is_ss(p)) {
        if (!(flags & (PGTABLE_R | PGTABLE_W)) || (flags & PGTABLE_SUPERVISOR))
            return PGTABLE_ERR_PERM;
        return PGTABLE_OK;
    }
    return (flags & PGTABLE_R) ? PGTABLE_OK : PGTABLE_ERR_PERM;
}

/* ---- init / destroy ----------------------------------------------------- */

static bool params_ok(const struct pgtable_params *p)
{
    unsigned min_levels = pgt_is_ss(p) ? 3 : 4;

    if (p->format != PGTABLE_SECOND_STAGE && p->format != PGTABLE_FIRST_STAGE)
        return false;
    if (p->levels < min_levels || p->levels > PGTABLE_MAX_LEVELS)
        return false;
    if (p->phys_bits && (p->phys_bits < 32 || p->phys_bits > 52))
        return false;
    return (p->large_pages & ~(PGTABLE_LARGE_2M | PGTABLE_LARGE_1G)) == 0;
}

int pgtable_init(struct pgtable *t, const struct pgtable_params *p,
                 const struct pgtable_mem_ops *mem)
{
    memset(t, 0, sizeof(*t));
    if (!params_ok(p) || !mem->alloc_page || !mem->free_page || !mem->phys_to_virt)
        return PGTABLE_ERR_PARAMS;
    t->params = *p;
    t->mem = *mem;
    return alloc_table(t, &t->root);
}

void pgtable_reclaim(struct pgtable *t)
{
    while (t->pending) {
        uint64_t phys = t->pending;

        t->pending = table_virt(t, phys)[0];
        free_table(t, phys);
    }
}

static void free_tree(struct pgtable *t, uint64_t table, unsigned level)
{
    const uint64_t *tbl = table_virt(t, table);

    for (unsigned i = 0; level > 1 && i < PGTABLE_ENTRIES; i++) {
        if (pgt_present(&t->params, tbl[i]) && !pgt_leaf(tbl[i], level))
            free_tree(t, tbl[i] & PGTABLE_ADDR_MASK, level - 1);
    }
    free_table(t, table);
}

void pgtable_destroy(struct pgtable *t)
{
    if (t->root)
        free_tree(t, t->root, t->params.levels);
    t->root = 0;
    pgtable_reclaim(t);
}

/* ---- range checks ------------------------------------------------------- */

static int check_iova(const struct pgtable *t, uint64_t iova, uint64_t size)
{
    if (!t->root)
        return PGTABLE_ERR_PARAMS;
    if (!size || ((iova | size) & PGT_PAGE_MASK))
        return PGTABLE_ERR_ALIGN;
    return pgt_range_ok(&t->params, iova, size) ? PGTABLE_OK : PGTABLE_ERR_RANGE;
}

static int check_phys(const struct pgtable *t, uint64_t phys, uint64_t size)
{
    uint64_t last = phys + (size - 1);

    if (phys & PGT_PAGE_MASK)
        return PGTABLE_ERR_ALIGN;
    if (last < phys || (last >> pgt_phys_bits(&t->params)))
        return PGTABLE_ERR_PHYS;
    return PGTABLE_OK;
}

/* Bytes from iova to the end of its entry at this level, at most size. */
static uint64_t chunk_at(uint64_t iova, uint64_t size, unsigned level)
{
    uint64_t span = pgt_level_span(level);
    uint64_t left = span - (iova & (span - 1));

    return left < size ? left : size;
}

/* ---- clearing (unmap, and the dry run that checks a range) ---------------- */

struct clear_state {
    bool dry;       /* only look: count mapped bytes and large-page cuts */
    bool split;     /* a large page sticks out of the range */
    uint64_t found; /* bytes mapped inside the range */
};

static void clear_level(struct pgtable *t, uint64_t table, unsigned level, uint64_t iova,
                        uint64_t size, struct clear_state *s);

static void clear_leaf(struct pgtable *t, uint64_t *e, uint64_t chunk, unsigned level,
                       struct clear_state *s)
{
    s->found += chunk;
    if (chunk != pgt_level_span(level))
        s->split = true;
    else if (!s->dry)
        set_entry(t, e, 0);
}

static void clear_child(struct pgtable *t, uint64_t *e, unsigned level, uint64_t iova,
                        uint64_t chunk, struct clear_state *s)
{
    uint64_t child = *e & PGTABLE_ADDR_MASK;

    clear_level(t, child, level - 1, iova, chunk, s);
    if (s->dry || !table_empty(t, table_virt(t, child)))
        return;
    set_entry(t, e, 0);
    retire_table(t, child);
}

static void clear_level(struct pgtable *t, uint64_t table, unsigned level, uint64_t iova,
                        uint64_t size, struct clear_state *s)
{
    uint64_t *tbl = table_virt(t, table);

    while (size) {
        uint64_t chunk = chunk_at(iova, size, level);
        uint64_t *e = &tbl[pgt_index(iova, level)];

        if (pgt_present(&t->params, *e)) {
            if (pgt_leaf(*e, level))
                clear_leaf(t, e, chunk, level, s);
            else
                clear_child(t, e, level, iova, chunk, s);
        }
        iova += chunk;
        size -= chunk;
    }
}

static void clear_range(struct pgtable *t, uint64_t iova, uint64_t size, struct clear_state *s)
{
    clear_level(t, t->root, t->params.levels, iova, size, s);
}

int pgtable_unmap(struct pgtable *t, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
    struct clear_state s = {.dry = true};
    int err = check_iova(t, iova, size);

    if (unmapped)
        *unmapped = 0;
    if (err)
        return err;
    /* Look first, so a cut large page leaves the table untouched. */
    clear_range(t, iova, size, &s);
    if (s.split)
        return PGTABLE_ERR_SPLIT;
    s = (struct clear_state){.dry = false};
    clear_range(t, iova, size, &s);
    if (unmapped)
        *unmapped = s.found;
    return PGTABLE_OK;
}

/* ---- mapping ------------------------------------------------------------- */

static bool use_leaf(const struct pgtable *t, unsigned level, uint64_t phys, uint64_t chunk,
                     unsigned flags)
{
    uint64_t span = pgt_level_span(level);

    if (level == 1)
        return true;
    if ((flags & PGTABLE_4K_ONLY) || !pgt_level_has_leaf(&t->params, level))
        return false;
    /* chunk == span means iova is aligned and the range covers the entry. */
    return chunk == span && !(phys & (span - 1));
}

/* The table below *e, linked now if it does not exist yet. */
static int get_child(struct pgtable *t, uint64_t *e, unsigned flags, uint64_t *child)
{
    int err;

    if (pgt_present(&t->params, *e)) {
        if (pgt_is_ss(&t->params) && (flags & PGTABLE_X) && !(*e & PGTABLE_SS_X))
            set_entry(t, e, *e | PGTABLE_SS_X);
        *child = *e & PGTABLE_ADDR_MASK;
        return PGTABLE_OK;
    }
    err = alloc_table(t, child);
    if (err)
        return err;
    set_entry(t, e, table_entry(t, *child, flags));
    return PGTABLE_OK;
}

static int map_level(struct pgtable *t, uint64_t table, unsigned level, uint64_t iova,
                     uint64_t phys, uint64_t size, unsigned flags)
{
    uint64_t *tbl = table_virt(t, table);

    while (size) {
        uint64_t chunk = chunk_at(iova, size, level);
        uint64_t *e = &tbl[pgt_index(iova, level)];
        bool present = pgt_present(&t->params, *e);
        uint64_t child;
        int err;

        /* The caller checked the range is free; a leaf here is a bug. */
        if (present && pgt_leaf(*e, level))
            return PGTABLE_ERR_EXISTS;
        if (!present && use_leaf(t, level, phys, chunk, flags)) {
            set_entry(t, e, leaf_entry(t, level, phys, flags));
        } else {
            err = get_child(t, e, flags, &child);
            if (!err)
                err = map_level(t, child, level - 1, iova, phys, chunk, flags);
            if (err)
                return err;
        }
        iova += chunk;
        phys += chunk;
        size -= chunk;
    }
    return PGTABLE_OK;
}

int pgtable_map(struct pgtable *t, uint64_t iova, uint64_t phys, uint64_t size, unsigned flags)
{
    struct clear_state s = {.dry = true};
    int err = check_iova(t, iova, size);

    if (!err)
        err = check_phys(t, phys, size);
    if (!err)
        err = check_flags(&t->params, flags);
    if (err)
        return err;
    clear_range(t, iova, size, &s);
    if (s.found)
        return PGTABLE_ERR_EXISTS;
    err = map_level(t, t->root, t->params.levels, iova, phys, size, flags);
    if (err) {
        /* The range was empty before: clearing all of it undoes the part
         * that got mapped and retires the tables allocated for it. */
        s = (struct clear_state){.dry = false};
        clear_range(t, iova, size, &s);
    }
    return err;
}

int pgtable_map_ranges(struct pgtable *t, const struct pgtable_range *r, size_t n,
                       uint64_t iova_offset, unsigned flags)
{
    for (size_t i = 0; i < n; i++) {
        int err = pgtable_map(t, r[i].phys + iova_offset, r[i].phys, r[i].size, flags);

        if (!err)
            continue;
        while (i--)
            pgtable_unmap(t, r[i].phys + iova_offset, r[i].size, NULL);
        return err;
    }
    return PGTABLE_OK;
}
