/* Page-table walker: translates an address through second-stage (VT-d
 * section 9.8) or first-stage (section 9.7) tables the way the IOMMU does,
 * and reports a fault the way the IOMMU would.  Used by host tests and on
 * target for self-checks and fault diagnosis.
 *
 * Modelling choices where the result depends on per-PASID controls:
 *   - first stage: supervisor requests obey R/W too (WPE = 1), XD is honoured
 *     for execute requests (NXE = 1) and never counts as reserved;
 *   - second stage: SNP (bit 11) and TM (bit 62) count as reserved, since
 *     this firmware never sets them and QEMU rejects them by default. */
#include "iommu/pgtable.h"
#include "iommu/pgtable_internal.h"
#include "lib/kstring.h"
#include "lib/printf.h"

#include <stdarg.h>

const char *pgtable_fault_name(enum pgtable_fault f)
{
    switch (f) {
    case PGTABLE_XLATE_OK:
        return "ok";
    case PGTABLE_FAULT_ADDR_WIDTH:
        return "addr-width";
    case PGTABLE_FAULT_TABLE_ADDR:
        return "table-addr";
    case PGTABLE_FAULT_NOT_PRESENT:
        return "not-present";
    case PGTABLE_FAULT_RESERVED:
        return "reserved";
    case PGTABLE_FAULT_READ:
        return "read";
    case PGTABLE_FAULT_WRITE:
        return "write";
    case PGTABLE_FAULT_EXEC:
        return "exec";
    case PGTABLE_FAULT_PRIVILEGE:
        return "privilege";
    }
    return "unknown";
}

/* Bits of an entry that must be 0 (9.7, 9.8). */
static uint64_t reserved_bits(const struct pgtable_params *p, unsigned level, uint64_t e)
{
    /* Address bits 51:HAW. */
    uint64_t rsvd = PGTABLE_ADDR_MASK & ~((1ULL << pgt_phys_bits(p)) - 1);
    bool leaf = pgt_leaf(e, level);

    if (leaf && !pgt_level_has_leaf(p, level)) {
        rsvd |= PGTABLE_SS_PS; /* PS (bit 7) with no such page size, e.g. a PML4E */
    } else if (leaf && level > 1) {
        /* The address of a large page is aligned to its size; the first
         * stage keeps bit 12 for PAT. */
        uint64_t low = pgt_level_span(level) - 1;
        rsvd |= low & (pgt_is_ss(p) ? ~0xfffULL : ~0x1fffULL);
    }
    if (pgt_is_ss(p))
        rsvd |= PGTABLE_SS_SNP | PGTABLE_SS_TM;
    return e & rsvd;
}

/* PGTABLE_R/W/X granted by one entry; user access is tracked apart because
 * it is ANDed the same way but reported inverted (PGTABLE_SUPERVISOR). */
static unsigned entry_rights(const struct pgtable_params *p, uint64_t e, bool *user)
{
    unsigned r = PGTABLE_R;

    if (pgt_is_ss(p)) {
        *user = true;
        return (unsigned)(e & (PGTABLE_SS_R | PGTABLE_SS_W | PGTABLE_SS_X));
    }
    *user = (e & PGTABLE_FS_US) != 0;
    if (e & PGTABLE_FS_RW)
        r |= PGTABLE_W;
    if (!(e & PGTABLE_FS_XD))
        r |= PGTABLE_X;
    return r;
}

/* Privilege first (first stage), then the rights the request asks for. */
static enum pgtable_fault access_fault(unsigned perms, unsigned access)
{
    if ((perms & PGTABLE_SUPERVISOR) && !(access & PGTABLE_ACC_SUPERVISOR))
        return PGTABLE_FAULT_PRIVILEGE;
    if ((access & PGTABLE_ACC_READ) && !(perms & PGTABLE_R))
        return PGTABLE_FAULT_READ;
    if ((access & PGTABLE_ACC_WRITE) && !(perms & PGTABLE_W))
        return PGTABLE_FAULT_WRITE;
    if ((access & PGTABLE_ACC_EXEC) && !(perms & PGTABLE_X))
        return PGTABLE_FAULT_EXEC;
    return PGTABLE_XLATE_OK;
}

static const uint64_t *walk_table(const struct pgtable_params *p, const struct pgtable_mem_ops *mem,
                                  uint64_t table)
{
    if ((table & (PGTABLE_PAGE_SIZE - 1)) || (table >> pgt_phys_bits(p)))
        return NULL;
    return mem->phys_to_virt(mem->ctx, table);
}

void pgtable_walk(const struct pgtable_params *p, const struct pgtable_mem_ops *mem, uint64_t root,
                  uint64_t iova, unsigned access, struct pgtable_xlate *out)
{
    unsigned perms = PGTABLE_R | PGTABLE_W | PGTABLE_X;
    bool user = true;
    uint64_t table = root;

    memset(out, 0, sizeof(*out));
    out->levels = p->levels;
    out->level = p->levels;
    if (!pgt_range_ok(p, iova, 1)) {
        out->fault = PGTABLE_FAULT_ADDR_WIDTH;
        return;
    }
    for (unsigned level = p->levels; level >= 1; level--) {
        const uint64_t *tbl = walk_table(p, mem, table);
        uint64_t e;
        bool entry_user;

        out->level = level;
        if (!tbl) {
            out->fault = PGTABLE_FAULT_TABLE_ADDR;
            return;
        }
        e = tbl[pgt_index(iova, level)];
        out->entries[level - 1] = e;
        if (!pgt_present(p, e)) {
            out->fault = PGTABLE_FAULT_NOT_PRESENT;
            return;
        }
        if (reserved_bits(p, level, e)) {
            out->fault = PGTABLE_FAULT_RESERVED;
            return;
        }
        perms &= entry_rights(p, e, &entry_user);
        user = user && entry_user;
        if (pgt_leaf(e, level)) {
            out->page_size = pgt_level_span(level);
            out->phys =
                (e & PGTABLE_ADDR_MASK & ~(out->page_size - 1)) | (iova & (out->page_size - 1));
            out->perms = perms | (user ? 0 : PGTABLE_SUPERVISOR);
            out->fault = access_fault(out->perms, access);
            return;
        }
        table = e & PGTABLE_ADDR_MASK;
    }
}

void pgtable_translate(const struct pgtable *t, uint64_t iova, unsigned access,
                       struct pgtable_xlate *out)
{
    pgtable_walk(&t->params, &t->mem, t->root, iova, access, out);
}

static const char *size_name(uint64_t size)
{
    switch (size) {
    case PGTABLE_PAGE_SIZE:
        return "4K";
    case PGTABLE_SIZE_2M:
        return "2M";
    case PGTABLE_SIZE_1G:
        return "1G";
    }
    return "?";
}

/* ksnprintf at buf + *n, keeping *n as the length the whole line needs. */
PRINTF_LIKE(4, 5) static void appendf(char *buf, size_t len, int *n, const char *fmt, ...)
{
    size_t at = (size_t)*n < len ? (size_t)*n : len;
    va_list ap;

    va_start(ap, fmt);
    *n += kvsnprintf(buf + at, len - at, fmt, ap);
    va_end(ap);
}

int pgtable_xlate_format(const struct pgtable_xlate *x, uint64_t iova, char *buf, size_t len)
{
    int n = 0;

    appendf(buf, len, &n, "iova=%#llx %s level=%u", (unsigned long long)iova,
            pgtable_fault_name(x->fault), x->level);
    if (x->page_size)
        appendf(buf, len, &n, " phys=%#llx size=%s perms=%#x", (unsigned long long)x->phys,
                size_name(x->page_size), x->perms);
    if (x->fault == PGTABLE_FAULT_ADDR_WIDTH)
        return n;
    for (unsigned l = x->levels; l >= x->level && l >= 1; l--)
        appendf(buf, len, &n, " L%u=%#llx", l, (unsigned long long)x->entries[l - 1]);
    return n;
}
