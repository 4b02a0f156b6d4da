/* Resetting a controller that has been in use, and handing its memory back.
 *
 * A reset gives the controller fresh queues and buffers.  The old ones go
 * to the quarantine (drivers/nvme_quarantine.c): poisoned, held for a
 * number of later resets and a time, and checked before the allocator gets
 * them back; a page written meanwhile is reported as DMA after reset and
 * stays out of use.
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
 * belong to something else.  Never reusing the memory under QEMU ran a
 * long soak out of memory (about 90 KiB a reset), so the quarantine holds
 * it for many resets and seconds instead, which is bounded.  A controller
 * that honours CC.EN=0 cannot write late at all. */
#include "arch/x86/tsc.h"
#include "drivers/nvme.h"
#include "drivers/nvme_quarantine.h"
#include "lib/ktap.h"

int nvme_reset(struct nvme_ctrl *c, struct pci_dev *d, const struct dma_space *space,
               uint64_t dma_limit)
{
    if (c->regs)
        nvme_disable(c);
    uint64_t now = uptime_us();
    nvmeq_recycle(now); /* the oldest generations: held long enough */
    nvmeq_retire(&c->pool, now);
    return nvme_init(c, d, space, dma_limit);
}

void nvme_release(struct nvme_ctrl *c)
{
    if (c->regs)
        nvme_disable(c);
    nvmeq_retire(&c->pool, uptime_us());
    /* Give a late writer a moment to show itself, then check all held. */
    udelay(2000);
    uint64_t now = uptime_us();
    nvmeq_check_all(now);
    nvmeq_recycle(now);
    struct nvmeq_stats st;
    nvmeq_get_stats(&st);
    ktap_diag("nvme: reset controllers' memory: %llu KiB in quarantine, %llu KiB handed back "
              "after its checks, %llu KiB kept out after DMA after reset (%u region(s)); "
              "%u generations",
              (unsigned long long)st.held_pages * 4, (unsigned long long)st.recycled_pages * 4,
              (unsigned long long)st.kept_pages * 4, st.late_regions, st.generation);
}
