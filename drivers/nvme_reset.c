/* Resetting a controller that has been in use, and handing its memory back.
 *
 * A reset gives the controller fresh queues and buffers.  The old ones are
 * filled with a poison pattern and held for NVME_RETIRED more resets (or
 * until the release), then checked: any page written meanwhile is reported
 * as DMA after reset.  On real machines they then go back to the page
 * allocator.  Under QEMU they never do.
 *
 * Why: handing the pages straight back made the stress run under QEMU
 * 10.0.2 (transitions-smp4) fail in 2 runs of 4 with garbage in the new
 * queues (completions with impossible SQ heads and command ids, an admin
 * command that never completed, PASID-table faults).  Holding them for 8
 * resets was not enough: 1 run in 6 still found what looked like traffic
 * data in a new completion queue, right after a deliberately faulting read
 * (most likely in a page retired 8 resets earlier and just handed back).
 * The likely source: when DMA faults, QEMU moves data through a one-page
 * bounce buffer; a command that finds it
 * taken waits for it outside the block layer, which is all QEMU's
 * controller reset drains, and finishes whenever a later faulting DMA
 * frees the buffer, however many resets later, into pages that by then
 * belong to something else.  A controller that honours CC.EN=0 cannot do
 * that, so real machines get their memory back. */
#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "drivers/nvme.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/page.h"

#define RETIRED_POISON 0x6bu

static void poison(const struct dma_pool *p)
{
    for (unsigned i = 0; i < p->count; i++)
        memset(phys_to_virt(p->regions[i].phys), RETIRED_POISON, p->regions[i].len);
}

/* Pages of a poisoned pool that no longer hold the poison. */
static unsigned changed_pages(const struct dma_pool *p)
{
    unsigned changed = 0;
    for (unsigned i = 0; i < p->count; i++) {
        const uint64_t *w = phys_to_virt(p->regions[i].phys);
        uint64_t pages = p->regions[i].len / PAGE_SIZE;
        for (uint64_t pg = 0; pg < pages; pg++, w += PAGE_SIZE / 8) {
            for (unsigned k = 0; k < PAGE_SIZE / 8; k++) {
                if (w[k] != RETIRED_POISON * 0x0101010101010101ull) {
                    changed++;
                    break;
                }
            }
        }
    }
    return changed;
}

static void retire(struct nvme_ctrl *c, struct dma_pool *held)
{
    unsigned n = changed_pages(held);
    if (n) {
        c->late_dma_pages += n;
        ktap_diag("nvme: %u page(s) of a reset controller's old queues and buffers were written "
                  "after it was disabled (CC.EN=0, CSTS.RDY=0): DMA after reset",
                  n);
    }
    if (cpu_is_qemu()) {
        for (unsigned i = 0; i < held->count; i++)
            c->kept_pages += held->regions[i].len / PAGE_SIZE;
        held->count = 0; /* never reused: see above */
        return;
    }
    dma_pool_release(held);
}

int nvme_reset(struct nvme_ctrl *c, struct pci_dev *d, const struct dma_space *space,
               uint64_t dma_limit)
{
    if (c->regs)
        nvme_disable(c);
    struct dma_pool *slot = &c->retired[c->retired_next];
    retire(c, slot); /* the oldest generation: held long enough */
    poison(&c->pool);
    *slot = c->pool;
    c->retired_next = (c->retired_next + 1) % NVME_RETIRED;
    return nvme_init(c, d, space, dma_limit);
}

void nvme_release(struct nvme_ctrl *c)
{
    if (c->regs)
        nvme_disable(c);
    poison(&c->pool);
    /* Give a late writer a moment to show itself. */
    udelay(2000);
    for (unsigned i = 0; i < NVME_RETIRED; i++)
        retire(c, &c->retired[i]);
    retire(c, &c->pool);
    if (c->kept_pages)
        ktap_diag("nvme: %u KiB of reset controllers' queues and buffers kept out of use "
                  "(QEMU can write to them after a reset)",
                  c->kept_pages * 4);
}
