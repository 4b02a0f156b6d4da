/* QEMU's "edu" teaching device (1234:11e8) as a DMA engine.
 *
 * One transfer at a time between host memory and a 4 KiB buffer inside the
 * device (device address 0x40000); QEMU completes it about 100 ms after the
 * command.  The device drops address bits above 28, so every IOVA handed to
 * it must lie below 256 MiB. */
#ifndef DRIVERS_EDU_H
#define DRIVERS_EDU_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/pci.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_BUF_SIZE 4096u
#define EDU_DMA_LIMIT (1ull << 28)
/* Longest wait for one transfer: 20 times QEMU's 100 ms, for slow TCG hosts. */
#define EDU_DMA_TIMEOUT_US 2000000u

enum edu_status {
    EDU_OK,
    EDU_BAD_ARGS, /* outside the device buffer or beyond the 28-bit mask */
    EDU_BUSY,     /* a transfer is still running */
    EDU_TIMEOUT,  /* the transfer did not complete in time */
    EDU_GONE,     /* the registers read all ones */
};

struct edu {
    struct pci_dev *pci;
    uint64_t mmio;
    uint32_t ident;
};

/* Map BAR0, enable memory decode and bus mastering, check the identity and
 * liveness registers.  Returns EDU_OK or why not. */
enum edu_status edu_init(struct edu *e, struct pci_dev *d);
/* Liveness register: writes v, expects ~v back. */
bool edu_alive(const struct edu *e, uint32_t v);

/* Start a transfer without waiting (dev_off is the offset in the device
 * buffer).  to_device: host memory at iova -> device buffer. */
enum edu_status edu_dma_start(const struct edu *e, bool to_device, uint64_t iova, uint32_t dev_off,
                              uint32_t len);
bool edu_dma_busy(const struct edu *e);
enum edu_status edu_dma_wait(const struct edu *e, uint64_t timeout_us);

/* Start and wait (bounded by EDU_DMA_TIMEOUT_US). */
enum edu_status edu_dma_to_device(const struct edu *e, uint64_t iova, uint32_t dev_off,
                                  uint32_t len);
enum edu_status edu_dma_from_device(const struct edu *e, uint64_t iova, uint32_t dev_off,
                                    uint32_t len);
const char *edu_status_name(enum edu_status s);

#endif
