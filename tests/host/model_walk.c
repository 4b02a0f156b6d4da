/* The fake unit's remapping walk (see model_walk.h).  Entry layouts are
 * the spec's (9.1-9.6), decoded here with the project's field macros. */
#include "tests/host/model_walk.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "iommu/context_entry.h"
#include "iommu/pasid_entry.h"
#include "iommu/pgtable.h"
#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "tests/host/cache_model.h"
#include "tests/host/vtd_fake.h"

struct walk {
    struct vtd_caps caps;
    struct model_dma r;
};

static void fail(struct walk *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->r.why, sizeof(w->r.why), fmt, ap);
    va_end(ap);
    w->r.ok = false;
}
/* The request faults here: record why and stop walking. */
#define FAULT(w, ...)                                                                              \
    do {                                                                                           \
        fail(w, __VA_ARGS__);                                                                      \
        return;                                                                                    \
    } while (0)

/* `len` bytes of a table at phys, as the device reads them. */
static const uint64_t *table_read(struct walk *w, uint64_t phys, size_t len, bool coherent,
                                  const char *what)
{
    const uint64_t *p = cache_model_view(phys, len, coherent);
    if (!p)
        fail(w, "%s at %#llx: not in table memory", what, (unsigned long long)phys);
    return p;
}

/* pgtable_walk reads tables through phys_to_virt: give it the device's view. */
static void *coherent_page(void *ctx, uint64_t phys)
{
    (void)ctx;
    return (void *)cache_model_view(phys, PGTABLE_PAGE_SIZE, true);
}

static void *memory_page(void *ctx, uint64_t phys)
{
    (void)ctx;
    return (void *)cache_model_view(phys, PGTABLE_PAGE_SIZE, false);
}

static void walk_pages(struct walk *w, enum pgtable_format format, unsigned levels, uint64_t root,
                       bool coherent, uint64_t iova, unsigned access)
{
    struct pgtable_params p = {
        .format = format,
        .levels = levels,
        .large_pages = format == PGTABLE_SECOND_STAGE
                           ? w->caps.sllps
                           : PGTABLE_LARGE_2M | (w->caps.fs1gp ? PGTABLE_LARGE_1G : 0),
    };
    struct pgtable_mem_ops mem = {.phys_to_virt = coherent ? coherent_page : memory_page};
    struct pgtable_xlate x;
    pgtable_walk(&p, &mem, root, iova, access, &x);
    if (x.fault != PGTABLE_XLATE_OK) {
        char line[160];
        pgtable_xlate_format(&x, iova, line, sizeof(line));
        fail(w, "%s-stage walk (%s): %s", format == PGTABLE_SECOND_STAGE ? "second" : "first",
             coherent ? "snooped" : "memory", line);
        return;
    }
    w->r.ok = true;
    w->r.phys = x.phys;
}

/* Second-stage depth from an AW field, which SAGAW must offer (9.3, 9.6). */
static unsigned ss_levels(struct walk *w, unsigned aw, const char *what)
{
    if (aw > 4 || !(w->caps.sagaw & (1u << aw))) {
        fail(w, "%s: AW %u not in SAGAW %#x", what, aw, w->caps.sagaw);
        return 0;
    }
    return aw + 2;
}

static void legacy(struct walk *w, const uint64_t *re, uint16_t sid, int32_t pasid, uint64_t iova,
                   unsigned access)
{
    bool c = w->caps.c;
    if (!(re[0] & VTD_ROOT_P))
        FAULT(w, "root entry of bus %02x not present", sid >> 8);
    const uint64_t *ce =
        table_read(w, (re[0] & VTD_ROOT_CTP_MASK) + (sid & 0xff) * 16u, 16, c, "context entry");
    if (!ce)
        return;
    if (!(ce[0] & LEGACY_CTX_P))
        FAULT(w, "context entry of %04x not present", sid);
    if (pasid >= 0)
        FAULT(w, "legacy mode: request with PASID %d", pasid);
    unsigned tt = (unsigned)((ce[0] & LEGACY_CTX_TT_MASK) >> LEGACY_CTX_TT_SHIFT);
    if (tt == 3 || (tt == LEGACY_TT_PASS_THROUGH && !w->caps.pt))
        FAULT(w, "context entry: reserved TT %u", tt);
    if (tt == LEGACY_TT_PASS_THROUGH) {
        w->r.ok = true;
        w->r.phys = iova;
        return;
    }
    unsigned levels = ss_levels(w, (unsigned)(ce[1] & LEGACY_CTX_AW_MASK), "context entry");
    if (levels)
        walk_pages(w, PGTABLE_SECOND_STAGE, levels, ce[0] & LEGACY_CTX_SLPTPTR, c, iova, access);
}

/* The PASID entry's own checks, then its translation (9.6). */
static void pasid_translate(struct walk *w, const struct pasid_entry *pe, uint64_t iova,
                            unsigned access)
{
    if (!pasid_entry_present(pe))
        FAULT(w, "PASID entry not present");
    bool pwsnp = pasid_entry_get(pe, PASID_PWSNP), pgsnp = pasid_entry_get(pe, PASID_PGSNP);
    if (pwsnp && !w->caps.smpwc)
        FAULT(w, "PASID entry: PWSNP set, reserved with ECAP.SMPWC=0");
    if (pgsnp && !w->caps.sc)
        FAULT(w, "PASID entry: PGSNP set, reserved with ECAP.SC=0");
    bool snooped = w->caps.smpwc && pwsnp;
    unsigned pgtt = pasid_entry_pgtt(pe);
    switch (pgtt) {
    case PASID_PGTT_PT:
        if (!w->caps.pt)
            break;
        w->r.ok = true;
        w->r.phys = iova;
        return;
    case PASID_PGTT_SS: {
        if (!w->caps.slts)
            break;
        unsigned levels = ss_levels(w, (unsigned)pasid_entry_get(pe, PASID_AW), "PASID entry");
        if (levels)
            walk_pages(w, PGTABLE_SECOND_STAGE, levels, pasid_entry_get(pe, PASID_SSPTPTR),
                       snooped, iova, access);
        return;
    }
    case PASID_PGTT_FS: {
        bool five = pasid_entry_get(pe, PASID_FSPM) == PASID_FSPM_5LEVEL;
        if (!w->caps.flts || (five && !w->caps.fs5lp) ||
            pasid_entry_get(pe, PASID_FSPM) > PASID_FSPM_5LEVEL)
            break;
        walk_pages(w, PGTABLE_FIRST_STAGE, five ? 5 : 4, pasid_entry_get(pe, PASID_FSPTPTR),
                   snooped, iova, access);
        return;
    }
    case PASID_PGTT_NESTED:
        FAULT(w, "PASID entry: nested translation is not modelled");
    default:
        break;
    }
    fail(w, "PASID entry: PGTT %u reserved or not offered by ECAP", pgtt);
}

static void scalable(struct walk *w, const uint64_t *re, uint16_t sid, int32_t pasid,
                     uint64_t iova, unsigned access)
{
    bool c = w->caps.c;
    unsigned devfn = sid & 0xff, half = devfn >> 7;
    if (!(re[half] & VTD_ROOT_P))
        FAULT(w, "root entry of bus %02x: %s half not present", sid >> 8,
                    half ? "upper" : "lower");
    const uint64_t *ce = table_read(w, (re[half] & VTD_ROOT_CTP_MASK) + (devfn & 0x7f) * 32u, 32,
                                    c, "scalable context entry");
    if (!ce)
        return;
    if (!(ce[0] & SM_CTX_P))
        FAULT(w, "context entry of %04x not present", sid);
    uint32_t p = (uint32_t)(ce[1] & SM_CTX_RID_PASID_MASK);
    if (pasid >= 0) {
        if (!(ce[0] & SM_CTX_PASIDE))
            FAULT(w, "request with PASID %d, context entry PASIDE=0", pasid);
        p = (uint32_t)pasid;
    }
    unsigned pdts = (unsigned)((ce[0] & SM_CTX_PDTS_MASK) >> SM_CTX_PDTS_SHIFT);
    if ((p >> 6) >= (1u << (pdts + 7)))
        FAULT(w, "PASID %u beyond the directory (PDTS %u)", p, pdts);
    const uint64_t *de =
        table_read(w, (ce[0] & SM_CTX_PASIDDIRPTR) + (p >> 6) * 8u, 8, c, "PASID directory entry");
    if (!de)
        return;
    if (!(*de & VTD_PDIR_P))
        FAULT(w, "PASID directory entry for PASID %u not present", p);
    const uint64_t *q =
        table_read(w, (*de & VTD_PDIR_PTP_MASK) + (p & 63) * 64u, 64, c, "PASID entry");
    if (!q)
        return;
    struct pasid_entry pe;
    memcpy(pe.q, q, sizeof(pe.q));
    pasid_translate(w, &pe, iova, access);
}

struct model_dma model_dma(uint16_t sid, int32_t pasid, uint64_t iova, unsigned access)
{
    struct walk w;
    memset(&w, 0, sizeof(w));
    vtd_caps_decode(fk.cap, fk.ecap, &w.caps);
    uint64_t root = fk.rtaddr & ~0xfffULL;
    bool sm = (fk.rtaddr & (3ULL << 10)) == VTD_RTADDR_TTM_SCALABLE;
    const uint64_t *re = table_read(&w, root + (sid >> 8) * 16u, 16, w.caps.c, "root entry");
    if (!re)
        return w.r;
    if (sm)
        scalable(&w, re, sid, pasid, iova, access);
    else
        legacy(&w, re, sid, pasid, iova, access);
    return w.r;
}
