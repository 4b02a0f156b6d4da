/* The one NVMe controller the suites drive (devices, traffic, transitions,
 * faults, platform): the function device= names, else the first NVMe. */
#ifndef APP_NVME_PICK_H
#define APP_NVME_PICK_H

#include "lib/why.h"

struct pci_dev;

#define NVME_CLASS_CODE 0x010802 /* mass storage, NVM, NVMe I/O controller */

/* The controller, or NULL with why set: device= names no function or a
 * function that is not an NVMe controller, or (without device=) there is
 * none: platform_no_nvme(tail), e.g. tail " to generate traffic". */
struct pci_dev *nvme_pick(const char *tail, struct why *why);

#endif
