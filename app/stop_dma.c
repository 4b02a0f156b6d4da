/* Stopping the DMA of the devices the tests drove: see stop_dma.h. */
#include "app/stop_dma.h"

#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"
#include "drivers/edu.h"
#include "drivers/nvme.h"
#include "drivers/pci.h"
#include "iommu/vtd.h"
#include "lib/kstring.h"
#include "lib/printf.h"
#include "app/nvme_pick.h"
#include "app/vtd_setup.h"

/* An abort must end: CAP.TO may allow up to 127.5 s, this run waits at
 * most 5 s per controller and says so when it gives up. */
#define STOP_MAX_US 5000000u

/* The device is behind a unit vtdsync brought up, and a suite took it. */
static bool taken(const struct pci_dev *d)
{
    /* vtd_nunits > 0: vtd_setup ran, so the lookup brings nothing up. */
    if (!vtd_nunits)
        return false;
    struct vtd_unit *u = vtd_setup_unit_peek(d->seg, d->bus, d->dev, d->fn, NULL);
    return u && !vtd_setup_is_foreign(u, vtd_sid(d->bus, d->dev, d->fn));
}

/* Disable the controller; what happened, for the device's line. */
static void stop_nvme(const struct pci_dev *d, char *what, size_t n)
{
    uint64_t regs = d->nbars ? d->bars[0].base : 0;
    if (!regs || !paging_is_mapped(regs)) {
        ksnprintf(what, n, "registers never mapped");
        return;
    }
    uint32_t csts;
    uint64_t us;
    if (nvme_stop_regs(regs, STOP_MAX_US, &csts, &us))
        ksnprintf(what, n, "did NOT stop: CSTS %#x after %llu us", csts, (unsigned long long)us);
    else
        ksnprintf(what, n, "stopped: CC.EN=0, CSTS.RDY=0 after %llu us", (unsigned long long)us);
}

void stop_test_dma(void)
{
    for (unsigned i = 0; i < pci_count(); i++) {
        const struct pci_dev *d = pci_get(i);
        bool nvme = d->class_code == NVME_CLASS_CODE;
        bool edu = d->vendor == EDU_VENDOR && d->device == EDU_DEVICE;
        if ((!nvme && !edu) || !(pci_read16(d, PCI_COMMAND) & PCI_CMD_MASTER) || !taken(d))
            continue;
        char what[96] = "";
        /* Bus mastering off first: from this write on the function can no
         * longer reach memory, whatever it still has queued. */
        pci_set_master(d, false);
        if (nvme && cpu_is_qemu())
            /* QEMU 10.0.2's NVMe crashes (SIGSEGV) when it is disabled
             * while a command waits on an IOMMU fault (scenario
             * faults-watchdog: the watchdog ends a fault storm).  With bus
             * mastering off its DMA is stopped all the same. */
            ksnprintf(what, sizeof(what),
                      "left enabled (QEMU finding: disabling it mid-fault crashes QEMU)");
        else if (nvme)
            stop_nvme(d, what, sizeof(what));
        if (what[0])
            kprintf("# end: NVMe %02x:%02x.%x %s, bus mastering off\n", d->bus, d->dev, d->fn,
                    what);
        else
            kprintf("# end: edu %02x:%02x.%x: bus mastering off\n", d->bus, d->dev, d->fn);
    }
}
