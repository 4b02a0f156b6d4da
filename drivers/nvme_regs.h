/* NVMe controller registers, queue entry layouts and opcodes (NVMe base
 * specification 1.4/2.0; only what vtdsync uses). */
#ifndef DRIVERS_NVME_REGS_H
#define DRIVERS_NVME_REGS_H

#include <stdint.h>

enum {
    NVME_REG_CAP = 0x00,
    NVME_REG_VS = 0x08,
    NVME_REG_CC = 0x14,
    NVME_REG_CSTS = 0x1c,
    NVME_REG_AQA = 0x24,
    NVME_REG_ASQ = 0x28,
    NVME_REG_ACQ = 0x30,
    NVME_REG_DOORBELL = 0x1000,
};

/* CAP */
#define NVME_CAP_MQES(c) ((uint32_t)((c)&0xffff))
#define NVME_CAP_TO(c) ((uint32_t)(((c) >> 24) & 0xff)) /* 500 ms units */
#define NVME_CAP_DSTRD(c) ((uint32_t)(((c) >> 32) & 0xf))
#define NVME_CAP_CSS_NVM(c) (((c) >> 37) & 1)
#define NVME_CAP_MPSMIN(c) ((uint32_t)(((c) >> 48) & 0xf))

/* CC: 64-byte submission and 16-byte completion entries, 4 KiB pages. */
#define NVME_CC_EN (1u << 0)
#define NVME_CC_IOSQES_64 (6u << 16)
#define NVME_CC_IOCQES_16 (4u << 20)

/* CSTS */
#define NVME_CSTS_RDY (1u << 0)
#define NVME_CSTS_CFS (1u << 1)

struct nvme_sqe {
    uint32_t cdw0; /* opcode 7:0, command id 31:16 */
    uint32_t nsid;
    uint32_t cdw2, cdw3;
    uint64_t mptr;
    uint64_t prp1, prp2;
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
_Static_assert(sizeof(struct nvme_sqe) == 64, "submission entry is 64 bytes");

struct nvme_cqe {
    uint32_t dw0, dw1;
    uint16_t sqhd, sqid;
    uint16_t cid;
    uint16_t status; /* bit 0: phase tag; 15:1 status field */
};
_Static_assert(sizeof(struct nvme_cqe) == 16, "completion entry is 16 bytes");

/* Status field (status >> 1): SC 7:0, SCT 10:8, DNR 14. */
#define NVME_SF_SC(s) ((s)&0xff)
#define NVME_SF_SCT(s) (((s) >> 8) & 7)

enum nvme_admin_opcode {
    NVME_ADMIN_DELETE_SQ = 0x00,
    NVME_ADMIN_CREATE_SQ = 0x01,
    NVME_ADMIN_DELETE_CQ = 0x04,
    NVME_ADMIN_CREATE_CQ = 0x05,
    NVME_ADMIN_IDENTIFY = 0x06,
    NVME_ADMIN_SET_FEATURES = 0x09,
};
enum nvme_io_opcode {
    NVME_IO_WRITE = 0x01,
    NVME_IO_READ = 0x02,
};
enum {
    NVME_CNS_NAMESPACE = 0x00,
    NVME_CNS_CONTROLLER = 0x01,
    NVME_CNS_ACTIVE_NS_LIST = 0x02,
    NVME_FEAT_NUM_QUEUES = 0x07,
};

/* Identify controller / namespace byte offsets. */
enum {
    NVME_IDC_VID = 0,
    NVME_IDC_SN = 4,
    NVME_IDC_MN = 24,
    NVME_IDC_FR = 64,
    NVME_IDC_MDTS = 77,
    NVME_IDC_SQES = 512,
    NVME_IDC_CQES = 513,
    NVME_IDC_NN = 516,
    NVME_IDN_NSZE = 0,
    NVME_IDN_FLBAS = 26,
    NVME_IDN_LBAF = 128,
};

#endif
