/* NVMe controller driver: polled, one admin queue and one I/O queue pair.
 *
 * Serves QEMU's emulated controller and real SSDs alike.  Every queue,
 * identify page and data buffer comes from the controller's dma_pool, so
 * the device only ever sees addresses the caller's dma_space produced.
 * Every wait is bounded (CAP.TO for enable/disable, a per-command timeout
 * otherwise); a fatal controller status ends the driver's use cleanly with
 * a message in ctrl->error.text. */
#ifndef DRIVERS_NVME_H
#define DRIVERS_NVME_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/dma.h"
#include "drivers/nvme_regs.h"
#include "drivers/pci.h"
#include "lib/why.h"

#define NVME_PAGE 4096u
#define NVME_ADMIN_DEPTH 32u
#define NVME_MAX_DEPTH 1024u
/* One PRP list page without chaining: 512 entries plus PRP1. */
#define NVME_MAX_XFER (512u * NVME_PAGE)
#define NVME_CMD_TIMEOUT_US 5000000u

struct nvme_queue {
    uint16_t qid, depth;
    volatile struct nvme_sqe *sq;
    volatile struct nvme_cqe *cq;
    uint64_t sq_iova, cq_iova;
    uint64_t sq_db, cq_db; /* doorbell register addresses */
    uint16_t sq_tail, sq_head, cq_head;
    uint8_t phase;
};

/* Where a transfer's data is, as the controller sees it. */
struct nvme_prp {
    uint64_t prp1, prp2;
};

struct nvme_done {
    uint16_t cid;
    uint16_t status; /* status field without the phase bit; 0 = success */
    uint32_t dw0;
};

struct nvme_ctrl {
    struct pci_dev *pci;
    uint64_t regs;
    uint64_t cap;
    uint32_t vs;
    uint32_t db_stride;        /* bytes between doorbells */
    uint32_t ready_timeout_us; /* from CAP.TO */
    uint32_t max_entries;      /* CAP.MQES + 1 */
    uint32_t max_xfer;         /* bytes per command (MDTS, capped) */
    struct dma_pool pool;
    struct nvme_queue admin, io;
    uint8_t *scratch; /* one page for identify data */
    uint64_t scratch_iova;
    uint16_t next_admin_cid;
    uint16_t vid;
    char model[41], serial[21], firmware[9];
    uint32_t nn;
    /* The namespace used for I/O. */
    uint32_t nsid;
    uint64_t ns_blocks;
    uint32_t lba_size;
    bool writable;
    char write_why[112]; /* why writes are allowed or refused */
    bool dead;           /* fatal status or no response: no more commands */
    struct why error;
};

/* Map BAR0, reset and enable the controller, identify it and its first
 * active namespace.  dma_limit: highest physical address + 1 the pool may
 * use (0: any).  Returns 0, or -1 with ctrl->error set. */
int nvme_init(struct nvme_ctrl *c, struct pci_dev *d, const struct dma_space *space,
              uint64_t dma_limit);
/* Create (or re-create) I/O queue pair 1 with `depth` entries, clamped to
 * [2, min(CAP.MQES + 1, NVME_MAX_DEPTH)].  Returns 0 or -1. */
int nvme_create_io_queues(struct nvme_ctrl *c, uint32_t depth);
/* Disable the controller (CC.EN = 0, bounded wait): DMA stops. */
void nvme_disable(struct nvme_ctrl *c);
/* Stop the controller whose registers are mapped at regs, when no struct
 * nvme_ctrl is at hand (the end of a run, whose suite may have been
 * interrupted): CC.EN = 0, then CSTS.RDY = 0 within CAP.TO, at most max_us.
 * 0 when it is stopped; -1 when RDY stayed 1 or the registers read all
 * ones.  *csts: the last CSTS read; *waited_us: time spent. */
int nvme_stop_regs(uint64_t regs, uint64_t max_us, uint32_t *csts, uint64_t *waited_us);
/* nvme_init for a controller that may have been in use: disable it, retire
 * its queues and buffers to the quarantine (drivers/nvme_quarantine.h:
 * poisoned, held, checked for writes after the disable before reuse), and
 * initialise it afresh. */
int nvme_reset(struct nvme_ctrl *c, struct pci_dev *d, const struct dma_space *space,
               uint64_t dma_limit);
/* Disable the controller and retire all its DMA memory to the quarantine;
 * everything held is checked once more and what is ripe handed back. */
void nvme_release(struct nvme_ctrl *c);
/* Decide whether writes are allowed: policy is cfg.nvme_write ("deny",
 * "allow" or a namespace id).  QEMU's scratch disk (model "QEMU NVMe Ctrl",
 * serial "vtdsync0") is always writable.  Sets c->writable and c->write_why. */
bool nvme_write_policy(struct nvme_ctrl *c, const char *policy);
/* CSTS.CFS or all ones: marks the controller dead with a message. */
bool nvme_check_fatal(struct nvme_ctrl *c);

/* Describe a transfer of len bytes at contiguous device address iova; list
 * (CPU address) / list_iova is a PRP list area that must not cross a page
 * boundary.  Returns 0, or -1 when the transfer needs more entries. */
int nvme_build_prp(uint64_t iova, uint32_t len, uint64_t *list, uint64_t list_iova,
                   struct nvme_prp *out);
/* Queue one READ/WRITE on the I/O queue and ring the doorbell.  -1 when the
 * queue is full or the controller is dead. */
int nvme_submit_rw(struct nvme_ctrl *c, bool write, uint64_t slba, uint32_t nblocks,
                   const struct nvme_prp *prp, uint16_t cid);
/* Copy e into q and ring its doorbell; -1 when q is full. */
int nvme_queue_push(struct nvme_queue *q, const struct nvme_sqe *e);
/* Reap up to max completions of queue q (phase-tag polling). */
unsigned nvme_reap(struct nvme_ctrl *c, struct nvme_queue *q, struct nvme_done *out, unsigned max);
/* Poll q until command `cid` completes (NVME_CMD_TIMEOUT_US); 0 with *out
 * filled, or -1 (timeout: the controller is marked dead, since the command
 * may still DMA). */
int nvme_wait(struct nvme_ctrl *c, struct nvme_queue *q, uint16_t cid, struct nvme_done *out,
              const char *what);
/* One READ/WRITE, waited for (bounded).  Returns the status field (0 =
 * success), or -1 on timeout / dead controller. */
int nvme_rw_sync(struct nvme_ctrl *c, bool write, uint64_t slba, uint32_t nblocks,
                 const struct nvme_prp *prp);
/* "success", "LBA out of range", ... or "sct N sc 0xNN". */
const char *nvme_status_name(uint16_t status, char *buf, unsigned size);

#endif
