/* Quarantine for the memory of reset NVMe controllers (see the header).
 *
 * A ring of held regions in retirement order, so the oldest is at the head
 * and the rules (generations, time) are monotonic along it.  A region
 * found written is taken out of the ring where it is (its slot becomes
 * empty) and never freed. */
#include "drivers/nvme_quarantine.h"

#include <stdbool.h>

#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/page.h"

/* Findings printed one by one; later ones are counted only. */
#define NVMEQ_REPORTS 8u

struct held {
    uint64_t phys;
    uint64_t since_us;
    uint32_t pages; /* 0: empty slot (handed back or kept out) */
    uint32_t generation;
};

static struct held ring[NVMEQ_SLOTS];
static unsigned head, used; /* used: slots from head, empty ones included */
static struct nvmeq_stats st;
static bool said_full;

void nvmeq_forget(void)
{
    memset(ring, 0, sizeof(ring));
    head = used = 0;
    memset(&st, 0, sizeof(st));
    said_full = false;
}

void nvmeq_get_stats(struct nvmeq_stats *s)
{
    *s = st;
}

static void poison(uint64_t phys, uint64_t pages)
{
    memset(phys_to_virt(phys), NVMEQ_POISON, pages * PAGE_SIZE);
}

/* The first byte address of h that lost its poison, or 0. */
static uint64_t first_written(const struct held *h)
{
    const uint64_t *w = phys_to_virt(h->phys);
    uint64_t words = (uint64_t)h->pages * PAGE_SIZE / 8;
    for (uint64_t i = 0; i < words; i++) {
        if (w[i] == NVMEQ_POISON * 0x0101010101010101ull)
            continue;
        const uint8_t *byte = (const uint8_t *)&w[i];
        unsigned k = 0;
        while (k < 7 && byte[k] == NVMEQ_POISON)
            k++;
        return h->phys + i * 8 + k;
    }
    return 0;
}

/* Check h; written: report, keep out and empty the slot.  True if so. */
static bool pin_if_written(struct held *h, uint64_t now_us)
{
    uint64_t at = first_written(h);
    if (!at)
        return false;
    st.late_regions++;
    st.kept_pages += h->pages;
    st.held_pages -= h->pages;
    if (st.late_regions <= NVMEQ_REPORTS)
        ktap_diag("nvme: finding: DMA after reset: %#llx written in %#llx+%u KiB, memory of a "
                  "controller retired at generation %u (%u generations and %llu ms ago) after "
                  "it was disabled (CC.EN=0, CSTS.RDY=0); kept out of use",
                  (unsigned long long)at, (unsigned long long)h->phys, h->pages * 4,
                  h->generation, st.generation - h->generation,
                  (unsigned long long)((now_us - h->since_us) / 1000));
    else if (st.late_regions == NVMEQ_REPORTS + 1)
        ktap_diag("nvme: more regions written after a reset: counted only (nvme: lines at the "
                  "end of the suite)");
    h->pages = 0;
    return true;
}

/* Check and hand back (or keep out) the region at the head, drop empty
 * slots there. */
static void pop_head(uint64_t now_us)
{
    struct held *h = &ring[head];
    if (h->pages && !pin_if_written(h, now_us)) {
        page_free(phys_to_virt(h->phys), h->pages);
        st.held_pages -= h->pages;
        st.recycled_pages += h->pages;
        h->pages = 0;
    }
    head = (head + 1) % NVMEQ_SLOTS;
    used--;
}

static bool ripe(const struct held *h, uint64_t now_us)
{
    return st.generation - h->generation >= NVMEQ_GENERATIONS &&
           now_us - h->since_us >= NVMEQ_HOLD_US;
}

void nvmeq_recycle(uint64_t now_us)
{
    while (used && (!ring[head].pages || ripe(&ring[head], now_us)))
        pop_head(now_us);
}

/* Room for one more region of `pages`: hand back the oldest early. */
static void make_room(uint64_t pages, uint64_t now_us)
{
    while (used && (used == NVMEQ_SLOTS || st.held_pages + pages > NVMEQ_MAX_PAGES)) {
        struct held *h = &ring[head];
        if (h->pages) {
            st.early_regions++;
            if (!said_full) {
                said_full = true;
                ktap_diag("nvme: quarantine full (%u regions, %llu KiB): memory retired at "
                          "generation %u goes back after %u generations and %llu ms, before "
                          "its %u generations and %llu s",
                          used, (unsigned long long)st.held_pages * 4, h->generation,
                          st.generation - h->generation,
                          (unsigned long long)((now_us - h->since_us) / 1000), NVMEQ_GENERATIONS,
                          NVMEQ_HOLD_US / 1000000);
            }
        }
        pop_head(now_us);
    }
}

void nvmeq_retire(struct dma_pool *p, uint64_t now_us)
{
    st.generation++;
    for (unsigned i = 0; i < p->count; i++) {
        uint64_t pages = p->regions[i].len / PAGE_SIZE;
        make_room(pages, now_us);
        poison(p->regions[i].phys, pages);
        ring[(head + used) % NVMEQ_SLOTS] = (struct held){
            .phys = p->regions[i].phys,
            .since_us = now_us,
            .pages = (uint32_t)pages,
            .generation = st.generation,
        };
        used++;
        st.held_pages += pages;
        if (st.held_pages > st.max_held_pages)
            st.max_held_pages = st.held_pages;
    }
    p->count = 0;
}

unsigned nvmeq_check_all(uint64_t now_us)
{
    unsigned found = 0;
    for (unsigned k = 0; k < used; k++) {
        struct held *h = &ring[(head + k) % NVMEQ_SLOTS];
        if (h->pages && pin_if_written(h, now_us))
            found++;
    }
    return found;
}
