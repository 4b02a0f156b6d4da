/* Domains: DID + page table on the unit's memory. */
#include "iommu/domain.h"

#include "iommu/pasid_entry.h"
#include "iommu/vtd.h"
#include "lib/kstring.h"

static uint64_t dom_alloc(void *ctx)
{
    struct vtd_unit *u = ctx;
    void *p = u->ops->alloc_pages(u->ops->ctx, 1);
    return p ? u->ops->virt_to_phys(u->ops->ctx, p) : 0;
}

static void dom_free(void *ctx, uint64_t phys)
{
    /* The unit's ops have no free: table pages of a run are few. */
    (void)ctx;
    (void)phys;
}

static void *dom_phys_to_virt(void *ctx, uint64_t phys)
{
    struct vtd_unit *u = ctx;
    return u->ops->phys_to_virt(u->ops->ctx, phys);
}

static void dom_flush(void *ctx, const void *p, size_t len)
{
    vtd_flush_paging(ctx, p, len);
}

int vtd_domain_init(struct vtd_domain *d, struct vtd_unit *u, enum pgtable_format format)
{
    memset(d, 0, sizeof(*d));
    d->u = u;
    d->did = vtd_alloc_did(u);
    struct pgtable_params p = {
        .format = format,
        .levels = format == PGTABLE_FIRST_STAGE ? u->plan.fs_levels : u->plan.ss_levels,
        .phys_bits = 0,
        .large_pages = 0,
        .preset_ad = true, /* nothing for the IOMMU to write back */
    };
    struct pgtable_mem_ops mem = {
        .alloc_page = dom_alloc,
        .free_page = dom_free,
        .phys_to_virt = dom_phys_to_virt,
        .flush = vtd_paging_snooped(u) ? NULL : dom_flush,
        .ctx = u,
    };
    return pgtable_init(&d->pt, &p, &mem);
}

int vtd_domain_map(struct vtd_domain *d, uint64_t iova, uint64_t phys, uint64_t size,
                   unsigned flags)
{
    /* The table's width may exceed MGAW (a 4-level table on a 39-bit
     * unit): the unit blocks requests above 2^MGAW, so such a mapping
     * could never be used (spec 11.4.2). */
    uint64_t limit = vtd_iova_limit(d->u);
    if (iova >= limit || size > limit - iova)
        return PGTABLE_ERR_RANGE;
    vtd_lock(d->u);
    int rc = pgtable_map(&d->pt, iova, phys, size, flags);
    if (!rc && d->u->caps.cm) {
        /* Caching mode: not-present leaves may be cached (6.1). */
        vtd_inv_iotlb(d->u, VTD_IOTLB_DOMAIN, d->did, 0, 0, false);
        rc = vtd_inv_wait(d->u);
    } else if (!rc) {
        rc = vtd_write_buffer_flush(d->u) ? 0 : -1;
    }
    vtd_unlock(d->u);
    return rc;
}

int vtd_domain_unmap(struct vtd_domain *d, uint64_t iova, uint64_t size, uint32_t pasid)
{
    vtd_lock(d->u);
    int rc = pgtable_unmap(&d->pt, iova, size, NULL);
    if (!rc) {
        if (d->pt.params.format == PGTABLE_FIRST_STAGE)
            vtd_inv_piotlb(d->u, VTD_PIOTLB_PASID, d->did, pasid, 0, 0, false);
        else
            vtd_inv_iotlb(d->u, VTD_IOTLB_DOMAIN, d->did, 0, 0, false);
        rc = vtd_inv_wait(d->u);
        pgtable_reclaim(&d->pt);
    }
    vtd_unlock(d->u);
    return rc;
}

int vtd_domain_map_identity(struct vtd_domain *d, uint64_t phys, uint64_t len)
{
    uint64_t base = phys & ~0xfffull, end = (phys + len + 0xfff) & ~0xfffull;
    /* Page by page: buffers share pages, and a page can be unmapped and
     * mapped again later; one already there is fine. */
    for (uint64_t a = base; a < end; a += 0x1000) {
        int rc = vtd_domain_map(d, a, a, 0x1000, PGTABLE_R | PGTABLE_W);
        if (rc && rc != PGTABLE_ERR_EXISTS)
            return rc;
    }
    return 0;
}

void vtd_domain_pasid_entry(const struct vtd_domain *d, struct pasid_entry *e)
{
    struct pasid_entry_cfg c = {.did = d->did, .aw = vtd_unit_aw(d->u)};
    vtd_pasid_snoop(d->u, &c);
    if (d->pt.params.format == PGTABLE_FIRST_STAGE) {
        c.fs_5level = d->pt.params.levels == 5;
        c.fs_root = pgtable_root(&d->pt);
        pasid_entry_build_fs(e, &c);
    } else {
        c.ss_root = pgtable_root(&d->pt);
        pasid_entry_build_ss(e, &c);
    }
}

void vtd_domain_destroy(struct vtd_domain *d)
{
    pgtable_destroy(&d->pt);
}
