/* NVMe I/O: PRP construction, READ/WRITE submission, status names. */
#include "drivers/nvme.h"
#include "lib/printf.h"

int nvme_build_prp(uint64_t iova, uint32_t len, uint64_t *list, uint64_t list_iova,
                   struct nvme_prp *out)
{
    uint32_t first = NVME_PAGE - (uint32_t)(iova & (NVME_PAGE - 1));
    out->prp1 = iova;
    out->prp2 = 0;
    if (!len || len <= first)
        return 0;
    uint64_t next = (iova & ~(uint64_t)(NVME_PAGE - 1)) + NVME_PAGE;
    uint32_t rest = len - first;
    if (rest <= NVME_PAGE) {
        out->prp2 = next; /* exactly two pages: PRP2 is the second page */
        return 0;
    }
    /* More: PRP2 points to a list of the remaining pages.  One list page
     * only (no chaining), so it must not cross a page boundary. */
    uint32_t entries = (rest + NVME_PAGE - 1) / NVME_PAGE;
    if ((list_iova & 7) || (list_iova & (NVME_PAGE - 1)) + entries * 8ull > NVME_PAGE)
        return -1;
    for (uint32_t i = 0; i < entries; i++)
        list[i] = next + (uint64_t)i * NVME_PAGE;
    out->prp2 = list_iova;
    return 0;
}

int nvme_submit_rw(struct nvme_ctrl *c, bool write, uint64_t slba, uint32_t nblocks,
                   const struct nvme_prp *prp, uint16_t cid)
{
    if (c->dead || !c->io.qid || !nblocks || nblocks > 0x10000)
        return -1;
    struct nvme_sqe e = {
        .cdw0 = (write ? NVME_IO_WRITE : NVME_IO_READ) | (uint32_t)cid << 16,
        .nsid = c->nsid,
        .prp1 = prp->prp1,
        .prp2 = prp->prp2,
        .cdw10 = (uint32_t)slba,
        .cdw11 = (uint32_t)(slba >> 32),
        .cdw12 = nblocks - 1, /* 0-based count */
    };
    return nvme_queue_push(&c->io, &e);
}

int nvme_rw_sync(struct nvme_ctrl *c, bool write, uint64_t slba, uint32_t nblocks,
                 const struct nvme_prp *prp)
{
    /* Command ids of synchronous I/O stay clear of the traffic's slots. */
    const uint16_t cid = 0xfff0;
    if (nvme_submit_rw(c, write, slba, nblocks, prp, cid))
        return -1;
    struct nvme_done d;
    if (nvme_wait(c, &c->io, cid, &d, write ? "WRITE" : "READ"))
        return -1;
    return d.status;
}

const char *nvme_status_name(uint16_t status, char *buf, unsigned size)
{
    static const struct {
        uint16_t sf; /* SCT << 8 | SC */
        const char *name;
    } names[] = {
        {0x000, "success"},
        {0x001, "invalid opcode"},
        {0x002, "invalid field"},
        {0x003, "command id conflict"},
        {0x004, "data transfer error"},
        {0x006, "internal error"},
        {0x007, "abort requested"},
        {0x00b, "invalid namespace or format"},
        {0x00c, "command sequence error"},
        {0x013, "invalid PRP offset"},
        {0x080, "LBA out of range"},
        {0x081, "capacity exceeded"},
        {0x082, "namespace not ready"},
        {0x101, "invalid queue identifier"},
        {0x102, "invalid queue size"},
        {0x280, "write fault"},
        {0x281, "unrecovered read error"},
        {0x286, "access denied"},
    };
    uint16_t sf = status & 0x7ff;
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].sf == sf)
            return names[i].name;
    ksnprintf(buf, size, "sct %u sc %#x%s", NVME_SF_SCT(status), NVME_SF_SC(status),
              status & (1u << 14) ? " dnr" : "");
    return buf;
}
