/* The pt_exit probe: see pt_exit.h. */
#include "suites/pt_exit.h"

#include "iommu/fault.h"
#include "iommu/pgtable.h"
#include "iommu/vtd.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/page.h"

#define PROBE_TRIES 4

uint64_t pt_exit_iova(const struct pt_exit_probe *p)
{
    return p->phys + PT_EXIT_TARGET * PAGE_SIZE;
}

bool pt_exit_iova_usable(uint64_t iova, uint64_t limit, const struct pgtable *back, struct why *why)
{
    if (iova & (PAGE_SIZE - 1))
        return why_set(why, "the probe page is not page-aligned");
    if (iova >= limit || limit - iova < PAGE_SIZE)
        return why_set(why, "the probe page lies above what the unit or the device can address");
    if (back) {
        struct pgtable_xlate x;
        pgtable_translate(back, iova, PGTABLE_ACC_WRITE, &x);
        if (x.fault != PGTABLE_FAULT_NOT_PRESENT)
            return why_set(why, "the translating domain maps the probe page");
    }
    return true;
}

/* A 64-bit word no device data is likely to hold: its own address mixed
 * with the seed (splitmix64 finaliser). */
static uint64_t poison_word(uint64_t phys, uint64_t seed)
{
    uint64_t z = phys ^ seed ^ 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void pt_exit_poison(const struct pt_exit_probe *p)
{
    uint64_t *w = (uint64_t *)p->va;
    for (uint64_t i = 0; i < PT_EXIT_PAGES * PAGE_SIZE / 8; i++)
        w[i] = poison_word(p->phys + i * 8, p->seed);
}

/* Bytes of page `pg` that lost their poison. */
static unsigned changed_bytes(const struct pt_exit_probe *p, unsigned pg)
{
    unsigned n = 0;
    for (uint64_t off = pg * PAGE_SIZE; off < (pg + 1) * PAGE_SIZE; off += 8) {
        uint64_t want = poison_word(p->phys + off, p->seed), got;
        memcpy(&got, p->va + off, 8);
        for (unsigned b = 0; b < 8; b++)
            n += ((want ^ got) >> (b * 8) & 0xff) != 0;
    }
    return n;
}

struct pt_exit_damage pt_exit_check(const struct pt_exit_probe *p)
{
    struct pt_exit_damage d = {
        .target_bytes = changed_bytes(p, PT_EXIT_TARGET),
        .guard_bytes = changed_bytes(p, PT_EXIT_GUARD_LO) + changed_bytes(p, PT_EXIT_GUARD_HI),
    };
    return d;
}

bool pt_exit_probe_alloc(struct pt_exit_probe *p, uint64_t limit, const struct pgtable *back,
                         struct why *why)
{
    /* A candidate the domain happens to map is held while the next is
     * allocated, so the allocator cannot hand it out again. */
    uint8_t *rejected[PROBE_TRIES];
    unsigned nrej = 0;
    struct why problem;
    why_set(&problem, "no memory for the probe pages");
    memset(p, 0, sizeof(*p));
    while (nrej < PROBE_TRIES) {
        uint8_t *va = page_alloc_constrained(PT_EXIT_PAGES, PAGE_SIZE, limit);
        if (!va)
            break;
        struct pt_exit_probe c = {.va = va, .phys = virt_to_phys(va),
                                  .seed = virt_to_phys(va) * 0x2545f4914f6cdd1dull};
        if (pt_exit_iova_usable(pt_exit_iova(&c), limit, back, &problem)) {
            *p = c;
            break;
        }
        rejected[nrej++] = va;
    }
    while (nrej)
        page_free(rejected[--nrej], PT_EXIT_PAGES);
    if (!p->va) {
        why_set(why, "pt_exit probe: %s", problem.text);
        return false;
    }
    pt_exit_poison(p);
    return true;
}

void pt_exit_probe_free(struct pt_exit_probe *p)
{
    page_free(p->va, PT_EXIT_PAGES);
    p->va = NULL;
}

void pt_exit_report(const struct pt_exit_probe *p, const char *name, const char *dma,
                    unsigned faults, const char *dma_error, bool quirk_on)
{
    struct pt_exit_damage d = pt_exit_check(p);
    unsigned long long iova = (unsigned long long)pt_exit_iova(p);
    ktap_diag("pt_exit: %s to unmapped IOVA %#llx (vtdsync's poisoned page at that physical "
              "address): %u fault(s), %u of %llu target bytes written, %u guard bytes written",
              dma, iova, faults, d.target_bytes, PAGE_SIZE, d.guard_bytes);
    if (d.guard_bytes)
        ktap_case(KTAP_FAIL, name, "DMA changed %u byte(s) of the guard pages around IOVA %#llx",
                  d.guard_bytes, iova);
    else if (d.target_bytes)
        ktap_case(KTAP_FAIL, name,
                  "finding: after leaving pass-through DMA is still untranslated: the %s "
                  "wrote %u byte(s) of vtdsync's poisoned page at physical = IOVA %#llx; "
                  "quirk=pt_ctx_flush adds a context-cache invalidation%s",
                  dma, d.target_bytes, iova, quirk_on ? " (already on: it did not help)" : "");
    else if (dma_error)
        ktap_case(KTAP_FAIL, name, "%s", dma_error);
    else if (!faults)
        ktap_case(KTAP_FAIL, name,
                  "the %s to unmapped IOVA %#llx raised no fault although it did not land",
                  dma, iova);
    else
        ktap_case(KTAP_PASS, name, NULL);
}

void pt_exit_run(const struct pt_exit_dma *d)
{
    struct why why;
    struct pt_exit_probe p;
    if (!pt_exit_probe_alloc(&p, d->limit, d->back, &why)) {
        ktap_case(KTAP_FAIL, d->name, "%s", why.text);
        return;
    }
    uint32_t mark = vtd_fault_seq();
    int status = d->send(d->ctx, pt_exit_iova(&p), &why);
    vtd_fault_poll();
    unsigned faults = vtd_faults_since(mark, d->sid, NULL, 0);
    if (faults && status == 0)
        ktap_diag("pt_exit: the %s reported success although its DMA faulted (QEMU's NVMe and edu "
                  "do not report DMA errors)",
                  d->dma);
    pt_exit_report(&p, d->name, d->dma, faults, status < 0 ? why.text : NULL,
                   vtd_options.pt_ctx_flush);
    pt_exit_probe_free(&p);
}
