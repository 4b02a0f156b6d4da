/* The NVMe controller under test: see nvme_pick.h. */
#include "app/nvme_pick.h"

#include "drivers/pci.h"
#include "lib/parse.h"
#include "lib/printf.h"
#include "app/platform.h"
#include "app/run.h"

struct pci_dev *nvme_pick(const char *tail, struct why *why)
{
    if (!cfg.device[0]) {
        struct pci_dev *d = pci_find_class(NVME_CLASS_CODE, 0xffffff, 0);
        if (!d)
            platform_no_nvme(tail, why);
        return d;
    }
    uint16_t seg;
    uint8_t bus, dev, fn;
    struct pci_dev *d = NULL;
    if (parse_bdf(cfg.device, &seg, &bus, &dev, &fn))
        d = pci_find_bdf(seg, bus, dev, fn);
    if (!d)
        why_set(why, "device=%s names no PCI function", cfg.device);
    else if (d->class_code != NVME_CLASS_CODE)
        why_set(why, "device=%s is not an NVMe controller (class 01:08:02)", cfg.device);
    else
        return d;
    return NULL;
}
