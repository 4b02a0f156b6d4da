/* NVMe controller bring-up: reset, admin queue, identify, write policy. */
#include "drivers/nvme.h"

#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/parse.h"
#include "lib/printf.h"

static void fail(struct nvme_ctrl *c, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void fail(struct nvme_ctrl *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(c->error.text, sizeof(c->error.text), fmt, ap);
    va_end(ap);
}

static uint32_t rd32(const struct nvme_ctrl *c, uint32_t off)
{
    return mmio_read32(c->regs + off);
}

bool nvme_check_fatal(struct nvme_ctrl *c)
{
    uint32_t csts = rd32(c, NVME_REG_CSTS);
    if (csts == 0xffffffffu) {
        fail(c, "controller stopped responding (CSTS reads all ones)");
        c->dead = true;
    } else if (csts & NVME_CSTS_CFS) {
        fail(c, "controller fatal status (CSTS %#x)", csts);
        c->dead = true;
    }
    return c->dead;
}

/* Done waiting: RDY reached `want`, or the controller is gone, or (when
 * enabling) it reported a fatal status that RDY will never outlast. */
static bool ready_settled(struct nvme_ctrl *c, bool want, uint32_t *csts)
{
    *csts = rd32(c, NVME_REG_CSTS);
    if (*csts == 0xffffffffu || (want && (*csts & NVME_CSTS_CFS)))
        return true;
    return !!(*csts & NVME_CSTS_RDY) == want;
}

static bool wait_ready(struct nvme_ctrl *c, bool want)
{
    uint32_t csts = 0;
    if (!WAIT_FOR(ready_settled(c, want, &csts), c->ready_timeout_us,
                  want ? "NVMe CSTS.RDY=1" : "NVMe CSTS.RDY=0")) {
        fail(c, "CSTS.RDY did not become %d within %u ms (CSTS %#x)", want,
             c->ready_timeout_us / 1000, csts);
        return false;
    }
    if (csts == 0xffffffffu || (want && (csts & NVME_CSTS_CFS))) {
        nvme_check_fatal(c);
        return false;
    }
    return true;
}

void nvme_disable(struct nvme_ctrl *c)
{
    uint32_t cc = rd32(c, NVME_REG_CC);
    if (cc == 0xffffffffu || !(cc & NVME_CC_EN))
        return;
    /* Clearing EN while RDY is still rising is undefined: let it settle. */
    if (!(rd32(c, NVME_REG_CSTS) & (NVME_CSTS_RDY | NVME_CSTS_CFS)))
        wait_ready(c, true);
    mmio_write32(c->regs + NVME_REG_CC, cc & ~NVME_CC_EN);
    wait_ready(c, false);
}

static bool regs_rdy_is(uint64_t regs, bool want, uint32_t *csts)
{
    *csts = mmio_read32(regs + NVME_REG_CSTS);
    return *csts == 0xffffffffu || !!(*csts & NVME_CSTS_RDY) == want;
}

int nvme_stop_regs(uint64_t regs, uint64_t max_us, uint32_t *csts, uint64_t *waited_us)
{
    uint64_t t0 = rdtsc();
    uint32_t cc = mmio_read32(regs + NVME_REG_CC);
    uint64_t to = (uint64_t)NVME_CAP_TO(mmio_read64(regs + NVME_REG_CAP)) * 500000u;
    uint64_t budget = to && to < max_us ? to : max_us;
    *csts = mmio_read32(regs + NVME_REG_CSTS);
    *waited_us = 0;
    if (cc == 0xffffffffu || *csts == 0xffffffffu)
        return -1;
    if (cc & NVME_CC_EN) {
        /* Clearing EN while RDY is still rising is undefined (NVMe 3.5.1):
         * let an enable in progress finish, within the same budget. */
        if (!(*csts & (NVME_CSTS_RDY | NVME_CSTS_CFS)))
            WAIT_FOR(regs_rdy_is(regs, true, csts), budget, "NVMe CSTS.RDY=1 before stopping");
        mmio_write32(regs + NVME_REG_CC, cc & ~NVME_CC_EN);
    }
    bool stopped = WAIT_FOR(regs_rdy_is(regs, false, csts), budget, "NVMe CSTS.RDY=0 (stop)");
    *waited_us = ticks_to_us(rdtsc() - t0);
    return stopped && *csts != 0xffffffffu ? 0 : -1;
}

/* --- queues ------------------------------------------------------------------ */

static int queue_alloc(struct nvme_ctrl *c, struct nvme_queue *q, uint16_t qid, uint32_t depth)
{
    uint64_t sq_pages = (depth * sizeof(struct nvme_sqe) + NVME_PAGE - 1) / NVME_PAGE;
    uint64_t cq_pages = (depth * sizeof(struct nvme_cqe) + NVME_PAGE - 1) / NVME_PAGE;
    /* Re-creating a queue reuses its memory when it is large enough. */
    if (!q->sq || q->depth < depth) {
        q->sq = dma_pool_alloc(&c->pool, sq_pages, &q->sq_iova);
        q->cq = dma_pool_alloc(&c->pool, cq_pages, &q->cq_iova);
        if (!q->sq || !q->cq) {
            fail(c, "no memory for queue %u (%u entries)", qid, depth);
            q->sq = 0;
            return -1;
        }
    } else {
        memset((void *)q->sq, 0, sq_pages * NVME_PAGE);
        memset((void *)q->cq, 0, cq_pages * NVME_PAGE);
    }
    q->qid = qid;
    q->depth = (uint16_t)depth;
    q->sq_tail = q->sq_head = q->cq_head = 0;
    q->phase = 1;
    q->sq_db = c->regs + NVME_REG_DOORBELL + (2u * qid) * c->db_stride;
    q->cq_db = c->regs + NVME_REG_DOORBELL + (2u * qid + 1) * c->db_stride;
    return 0;
}

int nvme_queue_push(struct nvme_queue *q, const struct nvme_sqe *e)
{
    if ((uint16_t)((q->sq_tail + 1) % q->depth) == q->sq_head)
        return -1;
    memcpy((void *)&q->sq[q->sq_tail], e, sizeof(*e));
    q->sq_tail = (uint16_t)((q->sq_tail + 1) % q->depth);
    mfence(); /* the entry (and any data) is in memory before the doorbell */
    mmio_write32(q->sq_db, q->sq_tail);
    return 0;
}

unsigned nvme_reap(struct nvme_ctrl *c, struct nvme_queue *q, struct nvme_done *out, unsigned max)
{
    unsigned n = 0;
    while (n < max) {
        volatile struct nvme_cqe *e = &q->cq[q->cq_head];
        uint16_t status = e->status;
        if ((status & 1) != q->phase)
            break;
        compiler_barrier();
        out[n].cid = e->cid;
        out[n].status = status >> 1;
        out[n].dw0 = e->dw0;
        uint16_t sqhd = e->sqhd;
        if (sqhd < q->depth)
            q->sq_head = sqhd;
        else
            ktap_diag("nvme: queue %u completion with SQ head %u beyond depth %u", q->qid, sqhd,
                      q->depth);
        if (++q->cq_head == q->depth) {
            q->cq_head = 0;
            q->phase ^= 1;
        }
        n++;
    }
    if (n)
        mmio_write32(q->cq_db, q->cq_head);
    (void)c;
    return n;
}

int nvme_wait(struct nvme_ctrl *c, struct nvme_queue *q, uint16_t cid, struct nvme_done *out,
              const char *what)
{
    uint64_t dl = deadline_after_us(NVME_CMD_TIMEOUT_US);
    for (;;) {
        if (nvme_reap(c, q, out, 1)) {
            if (out->cid == cid)
                return 0;
            ktap_diag("nvme: stray completion on queue %u: cid %u status %#x", q->qid, out->cid,
                      out->status);
            continue;
        }
        if (nvme_check_fatal(c))
            return -1;
        if (deadline_passed(dl)) {
            fail(c, "%s (cid %u) timed out after %u ms", what, cid, NVME_CMD_TIMEOUT_US / 1000);
            c->dead = true; /* the command may still complete and DMA later */
            return -1;
        }
        cpu_relax();
    }
}

/* One admin command, waited for.  Returns the status field or -1. */
static int admin_cmd(struct nvme_ctrl *c, struct nvme_sqe *cmd, uint32_t *dw0)
{
    if (c->dead)
        return -1;
    uint16_t cid = c->next_admin_cid++;
    cmd->cdw0 = (cmd->cdw0 & 0xffff) | (uint32_t)cid << 16;
    if (nvme_queue_push(&c->admin, cmd)) {
        fail(c, "admin queue full");
        return -1;
    }
    struct nvme_done d;
    if (nvme_wait(c, &c->admin, cid, &d, "admin command"))
        return -1;
    if (dw0)
        *dw0 = d.dw0;
    return d.status;
}

static int admin_checked(struct nvme_ctrl *c, struct nvme_sqe *cmd, const char *what)
{
    int s = admin_cmd(c, cmd, 0);
    if (s > 0) {
        char why[48];
        fail(c, "%s failed: %s", what, nvme_status_name((uint16_t)s, why, sizeof(why)));
    }
    return s ? -1 : 0;
}

int nvme_create_io_queues(struct nvme_ctrl *c, uint32_t depth)
{
    uint32_t max = c->max_entries < NVME_MAX_DEPTH ? c->max_entries : NVME_MAX_DEPTH;
    depth = depth < 2 ? 2 : depth > max ? max : depth;
    if (c->io.qid) {
        struct nvme_sqe del = {.cdw0 = NVME_ADMIN_DELETE_SQ, .cdw10 = 1};
        admin_checked(c, &del, "delete I/O SQ");
        del = (struct nvme_sqe){.cdw0 = NVME_ADMIN_DELETE_CQ, .cdw10 = 1};
        admin_checked(c, &del, "delete I/O CQ");
        c->io.qid = 0;
    }
    if (queue_alloc(c, &c->io, 1, depth))
        return -1;
    /* Physically contiguous, interrupts off: completions are polled. */
    struct nvme_sqe cq = {.cdw0 = NVME_ADMIN_CREATE_CQ,
                          .prp1 = c->io.cq_iova,
                          .cdw10 = (depth - 1) << 16 | 1,
                          .cdw11 = 1};
    if (admin_checked(c, &cq, "create I/O CQ"))
        return -1;
    struct nvme_sqe sq = {.cdw0 = NVME_ADMIN_CREATE_SQ,
                          .prp1 = c->io.sq_iova,
                          .cdw10 = (depth - 1) << 16 | 1,
                          .cdw11 = 1u << 16 | 1};
    if (admin_checked(c, &sq, "create I/O SQ"))
        return -1;
    return 0;
}

/* --- identify ----------------------------------------------------------------- */

static void copy_trimmed(char *dst, const uint8_t *src, unsigned n)
{
    unsigned len = n;
    while (len && (src[len - 1] == ' ' || src[len - 1] == 0))
        len--;
    for (unsigned i = 0; i < len; i++)
        dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
    dst[len] = 0;
}

static int identify(struct nvme_ctrl *c, uint32_t cns, uint32_t nsid)
{
    memset(c->scratch, 0, NVME_PAGE);
    struct nvme_sqe cmd = {
        .cdw0 = NVME_ADMIN_IDENTIFY, .nsid = nsid, .prp1 = c->scratch_iova, .cdw10 = cns};
    return admin_checked(c, &cmd,
                         cns == NVME_CNS_CONTROLLER  ? "identify controller"
                         : cns == NVME_CNS_NAMESPACE ? "identify namespace"
                                                     : "active namespace list");
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int identify_controller(struct nvme_ctrl *c)
{
    if (identify(c, NVME_CNS_CONTROLLER, 0))
        return -1;
    const uint8_t *id = c->scratch;
    c->vid = (uint16_t)(id[NVME_IDC_VID] | id[NVME_IDC_VID + 1] << 8);
    copy_trimmed(c->serial, id + NVME_IDC_SN, 20);
    copy_trimmed(c->model, id + NVME_IDC_MN, 40);
    copy_trimmed(c->firmware, id + NVME_IDC_FR, 8);
    c->nn = le32(id + NVME_IDC_NN);
    uint8_t mdts = id[NVME_IDC_MDTS];
    c->max_xfer = NVME_MAX_XFER;
    if (mdts && mdts < 20 && (NVME_PAGE << mdts) < c->max_xfer)
        c->max_xfer = NVME_PAGE << mdts;
    if ((id[NVME_IDC_SQES] & 0xf) > 6 || (id[NVME_IDC_CQES] & 0xf) > 4) {
        fail(c, "controller needs larger queue entries (SQES %#x CQES %#x)", id[NVME_IDC_SQES],
             id[NVME_IDC_CQES]);
        return -1;
    }
    return 0;
}

static int identify_namespace(struct nvme_ctrl *c)
{
    uint32_t nsid = 1;
    /* The active list (NVMe 1.1+) finds the first namespace that exists. */
    if (!identify(c, NVME_CNS_ACTIVE_NS_LIST, 0) && le32(c->scratch))
        nsid = le32(c->scratch);
    why_clear(&c->error);
    if (!nsid || nsid > c->nn) {
        fail(c, "no active namespace (NN %u)", c->nn);
        return -1;
    }
    if (identify(c, NVME_CNS_NAMESPACE, nsid))
        return -1;
    const uint8_t *id = c->scratch;
    uint64_t nsze = le32(id + NVME_IDN_NSZE) | (uint64_t)le32(id + NVME_IDN_NSZE + 4) << 32;
    uint8_t fmt = id[NVME_IDN_FLBAS] & 0xf;
    uint32_t lbaf = le32(id + NVME_IDN_LBAF + 4 * fmt);
    uint32_t lbads = (lbaf >> 16) & 0xff, ms = lbaf & 0xffff;
    if (!nsze || lbads < 9 || lbads > 16) {
        fail(c, "namespace %u: size %llu blocks, LBA data size 2^%u: unusable", nsid,
             (unsigned long long)nsze, lbads);
        return -1;
    }
    if (ms) {
        fail(c, "namespace %u has %u bytes of metadata per block: not supported", nsid, ms);
        return -1;
    }
    c->nsid = nsid;
    c->ns_blocks = nsze;
    c->lba_size = 1u << lbads;
    return 0;
}

/* --- bring-up ------------------------------------------------------------------ */

/* Interrupts stay off (completions are polled): INTx disabled, MSI and
 * MSI-X enable bits cleared, so a stray completion interrupt cannot fire. */
static void quiet_interrupts(const struct pci_dev *d)
{
    pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_CMD_INTX_DISABLE);
    if (d->caps.msi)
        pci_write16(d, d->caps.msi + 2, pci_read16(d, d->caps.msi + 2) & ~1u);
    if (d->caps.msix)
        pci_write16(d, d->caps.msix + 2, pci_read16(d, d->caps.msix + 2) & ~(1u << 15));
}

static int enable(struct nvme_ctrl *c)
{
    nvme_disable(c);
    if (c->dead || (rd32(c, NVME_REG_CSTS) & NVME_CSTS_RDY)) {
        if (!c->error.text[0])
            fail(c, "controller did not disable");
        return -1;
    }
    if (queue_alloc(c, &c->admin, 0, NVME_ADMIN_DEPTH))
        return -1;
    c->io.qid = 0;
    mmio_write32(c->regs + NVME_REG_AQA, (NVME_ADMIN_DEPTH - 1) << 16 | (NVME_ADMIN_DEPTH - 1));
    mmio_write64(c->regs + NVME_REG_ASQ, c->admin.sq_iova);
    mmio_write64(c->regs + NVME_REG_ACQ, c->admin.cq_iova);
    mmio_write32(c->regs + NVME_REG_CC, NVME_CC_IOSQES_64 | NVME_CC_IOCQES_16 | NVME_CC_EN);
    if (!wait_ready(c, true))
        return -1;
    return 0;
}

int nvme_init(struct nvme_ctrl *c, struct pci_dev *d, const struct dma_space *space,
              uint64_t dma_limit)
{
    memset(c, 0, sizeof(*c));
    c->pci = d;
    dma_pool_init(&c->pool, space, dma_limit);
    c->regs = pci_map_bar(d, 0, 0x2000);
    if (!c->regs) {
        fail(c, "BAR0 is not an assigned memory BAR of at least 8 KiB");
        return -1;
    }
    pci_enable_mem(d);
    quiet_interrupts(d);
    pci_set_master(d, true);
    c->cap = mmio_read64(c->regs + NVME_REG_CAP);
    c->vs = rd32(c, NVME_REG_VS);
    if (c->cap == ~0ull) {
        fail(c, "registers read all ones");
        return -1;
    }
    c->db_stride = 4u << NVME_CAP_DSTRD(c->cap);
    c->max_entries = NVME_CAP_MQES(c->cap) + 1;
    uint32_t to = NVME_CAP_TO(c->cap);
    c->ready_timeout_us = (to ? to : 1) * 500000u;
    if (NVME_CAP_MPSMIN(c->cap) != 0 || !NVME_CAP_CSS_NVM(c->cap) || c->max_entries < 2) {
        fail(c, "unsupported CAP %#llx (needs 4 KiB pages and the NVM command set)",
             (unsigned long long)c->cap);
        return -1;
    }
    if (d->bars[0].size < NVME_REG_DOORBELL + 4u * c->db_stride) {
        fail(c, "BAR0 (%llu bytes) too small for the doorbells",
             (unsigned long long)d->bars[0].size);
        return -1;
    }
    c->scratch = dma_pool_alloc(&c->pool, 1, &c->scratch_iova);
    if (!c->scratch) {
        fail(c, "no memory for the identify page");
        return -1;
    }
    if (enable(c) || identify_controller(c) || identify_namespace(c))
        return -1;
    /* One I/O queue pair; some controllers insist on being told first. */
    struct nvme_sqe nq = {.cdw0 = NVME_ADMIN_SET_FEATURES, .cdw10 = NVME_FEAT_NUM_QUEUES};
    if (admin_cmd(c, &nq, 0) < 0)
        return -1;
    return 0;
}

bool nvme_write_policy(struct nvme_ctrl *c, const char *policy)
{
    uint64_t nsid;
    bool scratch = !strcmp(c->model, "QEMU NVMe Ctrl") && !strcmp(c->serial, "vtdsync0");
    if (scratch) {
        c->writable = true;
        ksnprintf(c->write_why, sizeof(c->write_why), "QEMU scratch disk (serial vtdsync0)");
    } else if (!strcmp(policy, "allow")) {
        c->writable = true;
        ksnprintf(c->write_why, sizeof(c->write_why), "nvme_write=allow");
    } else if (parse_u64(policy, &nsid) && nsid == c->nsid) {
        c->writable = true;
        ksnprintf(c->write_why, sizeof(c->write_why), "nvme_write=%s names namespace %u", policy,
                  c->nsid);
    } else {
        c->writable = false;
        ksnprintf(c->write_why, sizeof(c->write_why),
                  "read-only: nvme_write=%s and \"%s\" serial \"%s\" ns %u is not the "
                  "QEMU scratch disk",
                  policy, c->model, c->serial, c->nsid);
    }
    return c->writable;
}
