/* Identity page tables.
 *
 * RAM is mapped write-back with 2 MiB pages where a whole aligned 2 MiB
 * block shares one caching mode, 4 KiB pages at the edges; firmware and
 * reserved memory uncached or not at all (paging_policy.c).  MMIO is mapped
 * uncached on demand (paging_map_mmio) by the drivers that use it; anything
 * never mapped faults, so a stray pointer is caught, and page 0 stays
 * unmapped to catch NULL dereferences. */
#include "arch/x86/paging.h"

#include "arch/x86/cpu.h"
#include "lib/kstring.h"
#include "lib/page.h"
#include "lib/printf.h"

#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_PWT 0x8ull
#define PTE_PCD 0x10ull
#define PTE_PS 0x80ull
#define ADDR_MASK 0x000ffffffffff000ull
#define MSR_PAT 0x277
/* PAT entries 0..3: WB, WC, UC-, UC (entry 1 changed from WT to WC). */
#define PAT_VALUE 0x0007040600070106ull

static uint64_t *pml4;
static uint64_t tables;

static uint64_t cache_bits(enum cache_mode m)
{
    switch (m) {
    case CACHE_WC:
        return PTE_PWT;
    case CACHE_UC:
        return PTE_PWT | PTE_PCD;
    default:
        return 0;
    }
}

static uint64_t *new_table(void)
{
    uint64_t *t = page_alloc(1);
    if (t)
        tables++;
    return t;
}

/* The next-level table under entry e, creating or splitting as needed. */
static uint64_t *descend(uint64_t *e, bool split_large_2m)
{
    if (*e & PTE_P) {
        if (!(*e & PTE_PS))
            return phys_to_virt(*e & ADDR_MASK);
        /* Split a 2 MiB (or 1 GiB) page into 512 smaller pages. */
        uint64_t *t = new_table();
        if (!t)
            return 0;
        uint64_t base = *e & ADDR_MASK & ~0x1fffffull;
        uint64_t flags = *e & (PTE_P | PTE_RW | PTE_PWT | PTE_PCD);
        uint64_t step = split_large_2m ? 0x1000 : 0x200000;
        for (int i = 0; i < 512; i++)
            t[i] = (base + i * step) | flags | (split_large_2m ? 0 : PTE_PS);
        *e = virt_to_phys(t) | PTE_P | PTE_RW;
        return t;
    }
    uint64_t *t = new_table();
    if (!t)
        return 0;
    *e = virt_to_phys(t) | PTE_P | PTE_RW;
    return t;
}

static bool map_one(uint64_t pa, bool large, uint64_t flags)
{
    uint64_t *pdpt = descend(&pml4[(pa >> 39) & 511], false);
    if (!pdpt)
        return false;
    uint64_t *pd = descend(&pdpt[(pa >> 30) & 511], false);
    if (!pd)
        return false;
    uint64_t *pde = &pd[(pa >> 21) & 511];
    if (large) {
        if ((*pde & PTE_P) && !(*pde & PTE_PS)) {
            /* A 4 KiB table is already there: keep it, fill its entries. */
            uint64_t *pt = phys_to_virt(*pde & ADDR_MASK);
            for (int i = 0; i < 512; i++)
                pt[i] = (pa + i * 0x1000ull) | flags;
            return true;
        }
        *pde = pa | flags | PTE_PS;
        return true;
    }
    uint64_t *pt = descend(pde, true);
    if (!pt)
        return false;
    pt[(pa >> 12) & 511] = pa | flags;
    return true;
}

bool paging_map(uint64_t phys, uint64_t size, enum cache_mode mode)
{
    uint64_t flags = PTE_P | PTE_RW | cache_bits(mode);
    uint64_t pa = phys & ~0xfffull;
    uint64_t end = (phys + size + 0xfff) & ~0xfffull;
    if (pa == 0)
        pa = 0x1000; /* page 0 stays unmapped */
    while (pa < end) {
        bool large = !(pa & 0x1fffff) && end - pa >= 0x200000;
        if (!map_one(pa, large, flags))
            return false;
        pa += large ? 0x200000 : 0x1000;
    }
    if (read_cr3() == virt_to_phys(pml4))
        write_cr3(virt_to_phys(pml4)); /* flush stale translations */
    return true;
}

bool paging_is_mapped(uint64_t a)
{
    uint64_t *t = pml4;
    for (int shift = 39; shift >= 12; shift -= 9) {
        uint64_t e = t[(a >> shift) & 511];
        if (!(e & PTE_P))
            return false;
        if (shift == 12 || (e & PTE_PS))
            return true;
        t = phys_to_virt(e & ADDR_MASK);
    }
    return false;
}

void paging_load_pat(void)
{
    wrmsr(MSR_PAT, PAT_VALUE);
}

uint64_t paging_table_pages(void)
{
    return tables;
}

uint64_t paging_root(void)
{
    return virt_to_phys(pml4);
}

bool paging_init(const struct boot_info *bi)
{
    pml4 = new_table();
    if (!pml4)
        return false;
    /* The first MiB (trampoline, BIOS data; the legacy VGA window and ROMs
     * above 640 KiB uncached), then every map range, which may refine it. */
    if (!paging_map(0, 0xa0000, CACHE_WB) || !paging_map(0xa0000, 0x60000, CACHE_UC))
        return false;
    for (uint32_t i = 0; i < bi->nranges; i++) {
        const struct mem_range *r = &bi->ranges[i];
        enum cache_mode m;
        if (paging_range_mode(r, &m) && !paging_map(r->base, r->pages * PAGE_SIZE, m))
            return false;
    }
    if (bi->fb.base && !paging_map(bi->fb.base, bi->fb.size, CACHE_WC))
        return false;
    paging_load_pat();
    write_cr3(virt_to_phys(pml4));
    return true;
}
