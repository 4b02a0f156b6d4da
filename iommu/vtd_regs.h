/* VT-d remapping unit registers: offsets and bit definitions.
 *
 * Section numbers refer to the Intel VT-d Architecture Specification
 * (rev. 4.x/5.x), chapter 11 "Register Descriptions" unless noted.  Only
 * what vtdsync programs or reports is defined here. */
#ifndef IOMMU_VTD_REGS_H
#define IOMMU_VTD_REGS_H

#define VTD_BIT(n) (1ULL << (n))
#define VTD_FIELD(v, hi, lo) (((v) >> (lo)) & ((1ULL << ((hi) - (lo) + 1)) - 1))

/* ---- offsets (11.4) ------------------------------------------------------ */
#define VTD_REG_VER 0x00     /* 32: version */
#define VTD_REG_CAP 0x08     /* 64: capabilities */
#define VTD_REG_ECAP 0x10    /* 64: extended capabilities */
#define VTD_REG_GCMD 0x18    /* 32: global command, write-only in effect */
#define VTD_REG_GSTS 0x1c    /* 32: global status */
#define VTD_REG_RTADDR 0x20  /* 64: root table address */
#define VTD_REG_CCMD 0x28    /* 64: context command (register invalidation) */
#define VTD_REG_FSTS 0x34    /* 32: fault status */
#define VTD_REG_FECTL 0x38   /* 32: fault event control */
#define VTD_REG_FEDATA 0x3c  /* 32: fault event data */
#define VTD_REG_FEADDR 0x40  /* 32: fault event address */
#define VTD_REG_FEUADDR 0x44 /* 32: fault event upper address */
#define VTD_REG_AFLOG 0x58   /* 64: advanced fault log */
#define VTD_REG_PMEN 0x64    /* 32: protected memory enable */
#define VTD_REG_PLMBASE 0x68 /* 32 */
#define VTD_REG_PLMLIMIT 0x6c
#define VTD_REG_PHMBASE 0x70 /* 64 */
#define VTD_REG_PHMLIMIT 0x78
#define VTD_REG_IQH 0x80    /* 64: invalidation queue head */
#define VTD_REG_IQT 0x88    /* 64: invalidation queue tail */
#define VTD_REG_IQA 0x90    /* 64: invalidation queue address */
#define VTD_REG_ICS 0x9c    /* 32: invalidation completion status */
#define VTD_REG_IECTL 0xa0  /* 32: invalidation event control */
#define VTD_REG_IEDATA 0xa4 /* 32 */
#define VTD_REG_IEADDR 0xa8 /* 32 */
#define VTD_REG_IEUADDR 0xac
#define VTD_REG_IQERCD 0xb0 /* 64: invalidation queue error record */
#define VTD_REG_IRTA 0xb8   /* 64: interrupt remapping table address */
/* Register-set size the unit needs mapped: the fault recording and IOTLB
 * registers sit at CAP/ECAP-reported offsets inside the DRHD's range. */

/* ---- CAP (11.4.2) ---------------------------------------------------------- */
#define VTD_CAP_ND(c) VTD_FIELD(c, 2, 0) /* domain ids: 2^(4+2*ND) */
#define VTD_CAP_AFL VTD_BIT(3)
#define VTD_CAP_RWBF VTD_BIT(4)              /* required write-buffer flushing */
#define VTD_CAP_PLMR VTD_BIT(5)              /* protected low-memory region */
#define VTD_CAP_PHMR VTD_BIT(6)              /* protected high-memory region */
#define VTD_CAP_CM VTD_BIT(7)                /* caching mode: not-present entries cached */
#define VTD_CAP_SAGAW(c) VTD_FIELD(c, 12, 8) /* bit1 39-bit, bit2 48, bit3 57 */
#define VTD_CAP_MGAW(c) (VTD_FIELD(c, 21, 16) + 1)
#define VTD_CAP_ZLR VTD_BIT(22)
#define VTD_CAP_FRO(c) VTD_FIELD(c, 33, 24) /* fault recording at FRO * 16 */
#define VTD_CAP_SLLPS(c) VTD_FIELD(c, 37, 34)
#define VTD_CAP_PSI VTD_BIT(39)             /* page-selective IOTLB invalidation */
#define VTD_CAP_NFR(c) VTD_FIELD(c, 47, 40) /* fault recording regs - 1 */
#define VTD_CAP_MAMV(c) VTD_FIELD(c, 53, 48)
#define VTD_CAP_DWD VTD_BIT(54)
#define VTD_CAP_DRD VTD_BIT(55)
#define VTD_CAP_FS1GP VTD_BIT(56)
#define VTD_CAP_PI VTD_BIT(59)
#define VTD_CAP_FS5LP VTD_BIT(60)
#define VTD_CAP_ESIRTPS VTD_BIT(62)
#define VTD_CAP_ESRTPS VTD_BIT(63)

/* ---- ECAP (11.4.3) --------------------------------------------------------- */
#define VTD_ECAP_C VTD_BIT(0)  /* page walks coherent */
#define VTD_ECAP_QI VTD_BIT(1) /* queued invalidation */
#define VTD_ECAP_DT VTD_BIT(2) /* device-TLB */
#define VTD_ECAP_IR VTD_BIT(3)
#define VTD_ECAP_EIM VTD_BIT(4)
#define VTD_ECAP_PT VTD_BIT(6)              /* pass-through */
#define VTD_ECAP_SC VTD_BIT(7)              /* snoop control */
#define VTD_ECAP_IRO(e) VTD_FIELD(e, 17, 8) /* IOTLB registers at IRO * 16 */
#define VTD_ECAP_MHMV(e) VTD_FIELD(e, 23, 20)
#define VTD_ECAP_NEST VTD_BIT(26)
#define VTD_ECAP_PRS VTD_BIT(29)
#define VTD_ECAP_ERS VTD_BIT(30)
#define VTD_ECAP_SRS VTD_BIT(31)
#define VTD_ECAP_PSS(e) VTD_FIELD(e, 39, 35) /* PASID bits - 1 */
#define VTD_ECAP_PASID VTD_BIT(40)
#define VTD_ECAP_DIT VTD_BIT(41)
#define VTD_ECAP_PDS VTD_BIT(42)
#define VTD_ECAP_SMTS VTD_BIT(43) /* scalable mode */
#define VTD_ECAP_VCS VTD_BIT(44)
#define VTD_ECAP_SLADS VTD_BIT(45)
#define VTD_ECAP_SLTS VTD_BIT(46) /* second-stage translation */
#define VTD_ECAP_FLTS VTD_BIT(47) /* first-stage translation */
#define VTD_ECAP_SMPWCS VTD_BIT(48) /* scalable-mode page walks snooped (PWSNP) */
#define VTD_ECAP_RPS VTD_BIT(49) /* RID_PASID field supported */

/* ---- GCMD / GSTS (11.4.4, 11.4.5): same bit positions ------------------ */
#define VTD_GCMD_TE VTD_BIT(31)    /* translation enable (persistent) */
#define VTD_GCMD_SRTP VTD_BIT(30)  /* set root table pointer (one-shot) */
#define VTD_GCMD_SFL VTD_BIT(29)   /* set fault log (one-shot) */
#define VTD_GCMD_EAFL VTD_BIT(28)  /* advanced fault logging (persistent) */
#define VTD_GCMD_WBF VTD_BIT(27)   /* write-buffer flush (one-shot) */
#define VTD_GCMD_QIE VTD_BIT(26)   /* queued invalidation enable (persistent) */
#define VTD_GCMD_IRE VTD_BIT(25)   /* interrupt remapping enable (persistent) */
#define VTD_GCMD_SIRTP VTD_BIT(24) /* set IR table pointer (one-shot) */
#define VTD_GCMD_CFI VTD_BIT(23)   /* compatibility format interrupts (persistent) */
/* The status bits that reflect a persistent enable: the base of every new
 * command, so that writing one command does not switch another off. */
#define VTD_GSTS_PERSISTENT                                                                        \
    (VTD_GCMD_TE | VTD_GCMD_EAFL | VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_CFI)

/* ---- RTADDR (11.4.6) ------------------------------------------------------- */
#define VTD_RTADDR_TTM_LEGACY (0ULL << 10)
#define VTD_RTADDR_TTM_SCALABLE (1ULL << 10)

/* ---- CCMD (11.4.7) ---------------------------------------------------------- */
#define VTD_CCMD_ICC VTD_BIT(63)
#define VTD_CCMD_CIRG_SHIFT 61
#define VTD_CCMD_CAIG(v) VTD_FIELD(v, 60, 59)
#define VTD_CCMD_FM_SHIFT 32
#define VTD_CCMD_SID_SHIFT 16

/* ---- IOTLB registers (11.4.8): IVA at IRO*16, IOTLB at IRO*16 + 8 -------- */
#define VTD_IOTLB_IVT VTD_BIT(63)
#define VTD_IOTLB_IIRG_SHIFT 60
#define VTD_IOTLB_IAIG(v) VTD_FIELD(v, 58, 57)
#define VTD_IOTLB_DR VTD_BIT(49)
#define VTD_IOTLB_DW VTD_BIT(48)
#define VTD_IOTLB_DID_SHIFT 32
#define VTD_IVA_IH VTD_BIT(6)

/* ---- FSTS (11.4.9.1) -------------------------------------------------------- */
#define VTD_FSTS_PFO VTD_BIT(0) /* primary fault overflow, RW1C */
#define VTD_FSTS_PPF VTD_BIT(1) /* primary pending fault, RO (OR of all F) */
#define VTD_FSTS_AFO VTD_BIT(2)
#define VTD_FSTS_APF VTD_BIT(3)
#define VTD_FSTS_IQE VTD_BIT(4) /* invalidation queue error, RW1C */
#define VTD_FSTS_ICE VTD_BIT(5) /* invalidation completion error, RW1C */
#define VTD_FSTS_ITE VTD_BIT(6) /* invalidation time-out error, RW1C */
#define VTD_FSTS_FRI(v) VTD_FIELD(v, 15, 8)
#define VTD_FSTS_W1C                                                                               \
    (VTD_FSTS_PFO | VTD_FSTS_AFO | VTD_FSTS_APF | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE)

/* ---- FECTL / IECTL (11.4.9.2, 11.4.9.x) ---------------------------------- */
#define VTD_ECTL_IM VTD_BIT(31) /* interrupt mask */
#define VTD_ECTL_IP VTD_BIT(30) /* interrupt pending */

/* ---- PMEN (11.4.13) ---------------------------------------------------------- */
#define VTD_PMEN_EPM VTD_BIT(31)
#define VTD_PMEN_PRS VTD_BIT(0)

/* ---- IQA / IQT / ICS / IQERCD (11.4.9) -------------------------------- */
#define VTD_IQA_DW VTD_BIT(11) /* 256-bit descriptors (scalable mode only) */
#define VTD_IQA_QS_MASK 7ULL   /* queue is 2^QS pages */
#define VTD_ICS_IWC VTD_BIT(0)
#define VTD_IQERCD_IQEI(v) VTD_FIELD(v, 3, 0)
#define VTD_IQERCD_ICESID(v) VTD_FIELD(v, 47, 32)
#define VTD_IQERCD_ITESID(v) VTD_FIELD(v, 63, 48)

/* ---- fault recording register, 128 bits (11.4.14) ---------------------- */
/* low qword */
#define VTD_FRCD_FI_MASK 0xfffffffffffff000ULL
/* high qword (spec bits 127:64, here relative to bit 64) */
#define VTD_FRCD_SID(h) VTD_FIELD(h, 15, 0)
#define VTD_FRCD_PRIV VTD_BIT(29)           /* 93 */
#define VTD_FRCD_EXE VTD_BIT(30)            /* 94 */
#define VTD_FRCD_PP VTD_BIT(31)             /* 95: PASID present */
#define VTD_FRCD_FR(h) VTD_FIELD(h, 39, 32) /* 103:96 fault reason */
#define VTD_FRCD_PV(h) VTD_FIELD(h, 59, 40) /* 123:104 PASID value */
#define VTD_FRCD_AT(h) VTD_FIELD(h, 61, 60) /* 125:124 */
#define VTD_FRCD_T VTD_BIT(62)              /* 126: 1 = read, 0 = write */
#define VTD_FRCD_F VTD_BIT(63)              /* 127: fault, RW1C */

/* ---- root and context tables (9.1, 9.2) -------------------------------- */
#define VTD_ROOT_P VTD_BIT(0)  /* legacy P / scalable LP (qword 0) */
#define VTD_ROOT_UP VTD_BIT(0) /* scalable UP (qword 1, bit 64) */
#define VTD_ROOT_CTP_MASK 0xfffffffffffff000ULL

/* ---- PASID directory entry (9.5) --------------------------------------- */
#define VTD_PDIR_P VTD_BIT(0)
#define VTD_PDIR_FPD VTD_BIT(1)
#define VTD_PDIR_PTP_MASK 0xfffffffffffff000ULL

#endif
