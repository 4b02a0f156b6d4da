/* The fake VT-d register file (see vtd_fake.h). */
#include "tests/host/vtd_fake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/vtd_regs.h"
#include "lib/printf.h"

struct fake fk;
char fake_out[16384];
size_t fake_outlen;

static void sink(const char *s, size_t n)
{
    if (fake_outlen + n < sizeof(fake_out)) {
        memcpy(fake_out + fake_outlen, s, n);
        fake_outlen += n;
        fake_out[fake_outlen] = 0;
    }
}

void fake_out_clear(void)
{
    fake_outlen = 0;
    fake_out[0] = 0;
}

void fake_init(void)
{
    printf_set_sink(sink);
}

static unsigned fake_fro(void)
{
    return (unsigned)VTD_CAP_FRO(fk.cap) * 16;
}

static unsigned shift(void)
{
    return (fk.iqa & VTD_IQA_DW) ? 5 : 4;
}

/* The queue: from head to tail like QEMU, inside the IQT write.  A
 * device-TLB invalidation to no_ats_sid never completes, which a unit
 * notices while it holds the next wait: ITE is set, the source recorded,
 * and that wait (and any fetched while ITE stays set) is dropped without
 * its status write (spec 6.5.2.10). */
void fake_process_queue(void)
{
    if (fk.stall || !(fk.gsts & VTD_GCMD_QIE) || (fk.fsts & VTD_FSTS_IQE))
        return;
    uint64_t *q = (uint64_t *)(uintptr_t)(fk.iqa & ~0xfffULL);
    unsigned qw = (fk.iqa & VTD_IQA_DW) ? 4 : 2, n = 4096 / (qw * 8);
    unsigned head = (unsigned)(fk.iqh >> shift()), tail = (unsigned)(fk.iqt >> shift());
    while (head != tail) {
        uint64_t *d = q + head * qw;
        unsigned type = d[0] & 0xf;
        fk.last_desc_type = type; /* QEMU notes it before it checks it */
        bool reserved = type == 0 || (type > VTD_DESC_PDEVTLB && !(d[0] & 0xe00)); /* 11:9 */
        if (reserved || (type == VTD_DESC_WAIT && !(d[0] & (3u << 4)))) {
            fk.fsts |= VTD_FSTS_IQE; /* reserved type, or QEMU's no-flag wait */
            break;
        }
        if (fk.ndesc < FAKE_DESC_LOG) {
            memset(fk.desc[fk.ndesc], 0, sizeof(fk.desc[0]));
            memcpy(fk.desc[fk.ndesc], d, qw * 8);
        }
        fk.ndesc++;
        /* SID: bits 47:32 of the device-TLB descriptor, 31:16 of the
         * PASID-based one. */
        if ((type == VTD_DESC_DEVTLB && fk.no_ats_sid == (int)(uint16_t)(d[0] >> 32)) ||
            (type == VTD_DESC_PDEVTLB && fk.no_ats_sid == (int)(uint16_t)(d[0] >> 16)))
            fk.ite_pending = true;
        if (type == VTD_DESC_WAIT && fk.ite_pending) {
            fk.ite_pending = false;
            fk.fsts |= VTD_FSTS_ITE;
            fk.iqercd = (uint64_t)(uint16_t)fk.no_ats_sid << 48;
        }
        if (type == VTD_DESC_WAIT && (d[0] & (1u << 5))) {
            if (fk.fsts & VTD_FSTS_ITE)
                fk.aborted++;
            else
                *(volatile uint32_t *)(uintptr_t)(d[1] & ~3ULL) = (uint32_t)(d[0] >> 32);
        }
        head = (head + 1) % n;
    }
    fk.iqh = (uint64_t)head << shift();
}

static uint64_t rd(unsigned off)
{
    if (fk.all_ones)
        return ~0ULL;
    switch (off) {
    case VTD_REG_VER:
        return fk.ver ? fk.ver : 0x10;
    case VTD_REG_CAP:
        return fk.cap;
    case VTD_REG_ECAP:
        return fk.ecap;
    case VTD_REG_GSTS:
        return fk.gsts;
    case VTD_REG_RTADDR:
        return fk.rtaddr;
    case VTD_REG_FSTS:
        return fk.fsts | (fk.frcd_hi & VTD_FRCD_F ? VTD_FSTS_PPF : 0);
    case VTD_REG_FECTL:
        return fk.fectl;
    case VTD_REG_IQH:
        return fk.iqh;
    case VTD_REG_IQT:
        return fk.iqt;
    case VTD_REG_IQA:
        return fk.iqa;
    case VTD_REG_IQERCD:
        return fk.iqercd;
    case VTD_REG_PMEN:
        return fk.pmen;
    case VTD_REG_PLMBASE:
        return fk.plmbase;
    case VTD_REG_PLMLIMIT:
        return fk.plmlimit;
    case VTD_REG_PHMBASE:
        return fk.phmbase;
    case VTD_REG_PHMLIMIT:
        return fk.phmlimit;
    case VTD_REG_IRTA:
        return fk.irta;
    default:
        break;
    }
    if (off == fake_fro())
        return fk.frcd_lo;
    if (off == fake_fro() + 8)
        return fk.frcd_hi;
    return 0;
}

/* QEMU turns the queue off only when it is empty and the last descriptor
 * it fetched was a wait (vtd_queued_inv_disable_check); the spec asks
 * software for that but the unit just stops. */
static bool qie_may_turn_off(void)
{
    if (!fk.qemu_rules)
        return true;
    return (fk.iqh >> shift()) == (fk.iqt >> shift()) && fk.last_desc_type == VTD_DESC_WAIT;
}

static void log_write(unsigned off, uint64_t v)
{
    if (fk.nwrites < FAKE_WRITE_LOG)
        fk.writes[fk.nwrites] = (struct fake_write){off, v, fk.gsts};
    fk.nwrites++;
}

/* Protected memory regions: PRS follows EPM at once (or never). */
static bool wr_pmr(unsigned off, uint64_t v)
{
    switch (off) {
    case VTD_REG_PMEN:
        fk.pmen = ((uint32_t)v & (uint32_t)VTD_PMEN_EPM) | (fk.pmen & (uint32_t)VTD_PMEN_PRS);
        if (!fk.pmen_stuck)
            fk.pmen = (fk.pmen & ~(uint32_t)VTD_PMEN_PRS) |
                      ((fk.pmen & VTD_PMEN_EPM) ? (uint32_t)VTD_PMEN_PRS : 0);
        return true;
    case VTD_REG_PLMBASE:
        fk.plmbase = (uint32_t)v;
        return true;
    case VTD_REG_PLMLIMIT:
        fk.plmlimit = (uint32_t)v;
        return true;
    case VTD_REG_PHMBASE:
        fk.phmbase = v;
        return true;
    case VTD_REG_PHMLIMIT:
        fk.phmlimit = v;
        return true;
    case VTD_REG_IRTA:
        fk.irta = v;
        return true;
    default:
        return false;
    }
}

static void wr(unsigned off, uint64_t v, bool wide)
{
    log_write(off, v);
    if (wr_pmr(off, v))
        return;
    switch (off) {
    case VTD_REG_GCMD: {
        uint32_t cmd = (uint32_t)v;
        if (fk.ngcmd < 32)
            fk.gcmd_log[fk.ngcmd++] = cmd;
        uint32_t persistent = (uint32_t)VTD_GSTS_PERSISTENT;
        uint32_t next = (fk.gsts & ~persistent) | (cmd & persistent);
        if (cmd & VTD_GCMD_SRTP)
            next |= VTD_GCMD_SRTP;
        if (cmd & VTD_GCMD_SIRTP)
            next |= VTD_GCMD_SIRTP;
        if ((cmd & VTD_GCMD_QIE) && !(fk.gsts & VTD_GCMD_QIE))
            fk.iqh = 0;
        if (!(cmd & VTD_GCMD_QIE) && (fk.gsts & VTD_GCMD_QIE) && !(fk.stuck & VTD_GCMD_QIE)) {
            if (qie_may_turn_off())
                fk.iqh = 0; /* IQH reads 0 while the queue is off (11.4.9.1) */
            else
                next |= VTD_GCMD_QIE;
        }
        fk.gsts = (next & ~fk.stuck) | (fk.gsts & fk.stuck);
        return;
    }
    case VTD_REG_RTADDR:
        if ((fk.gsts & VTD_GCMD_TE) && ((v ^ fk.rtaddr) & (3ULL << 10)))
            fk.ttm_changes_under_te++;
        fk.rtaddr = v;
        return;
    case VTD_REG_FSTS: {
        bool iqe = fk.fsts & VTD_FSTS_IQE;
        fk.fsts &= ~((uint32_t)v & (uint32_t)VTD_FSTS_W1C);
        if (!(fk.fsts & VTD_FSTS_ITE))
            fk.iqercd &= ~(0xffffULL << 48);
        /* The spec's unit fetches again once IQE is clear (6.5.2.10);
         * QEMU's waits for the next IQT write. */
        if (iqe && !(fk.fsts & VTD_FSTS_IQE) && !fk.qemu_rules)
            fake_process_queue();
        return;
    }
    case VTD_REG_FECTL:
        fk.fectl = (uint32_t)v;
        return;
    case VTD_REG_IQA:
        fk.iqa = v;
        return;
    case VTD_REG_IQT:
        fk.iqt = v;
        fake_process_queue();
        return;
    default:
        break;
    }
    if (off == fake_fro() + 12 && !wide && (v & 0x80000000u))
        fk.frcd_hi &= ~VTD_FRCD_F;
}

static uint32_t f_read32(void *c, uint64_t a)
{
    (void)c;
    return (uint32_t)rd((unsigned)(a - FAKE_BASE));
}
static uint64_t f_read64(void *c, uint64_t a)
{
    (void)c;
    return rd((unsigned)(a - FAKE_BASE));
}
static void f_write32(void *c, uint64_t a, uint32_t v)
{
    (void)c;
    wr((unsigned)(a - FAKE_BASE), v, false);
}
static void f_write64(void *c, uint64_t a, uint64_t v)
{
    (void)c;
    wr((unsigned)(a - FAKE_BASE), v, true);
}
static uint64_t f_now(void *c)
{
    (void)c;
    return fk.now += 1000; /* every look at the clock costs 1 ms */
}
static void f_relax(void *c)
{
    (void)c;
}

const struct fake_mem_hooks *fake_mem_hooks;

/* The engine never frees its tables: they are all freed between bring-ups. */
static void *allocations[64];
static unsigned nallocations;

static void *f_alloc(void *c, unsigned n)
{
    (void)c;
    if (nallocations == 64)
        return NULL;
    void *p = aligned_alloc(4096, n * 4096ULL);
    memset(p, 0, n * 4096ULL);
    if (fake_mem_hooks)
        fake_mem_hooks->alloc(p, n * 4096ULL);
    return allocations[nallocations++] = p;
}

void fake_free_all(void)
{
    if (fake_mem_hooks)
        fake_mem_hooks->free_all();
    while (nallocations)
        free(allocations[--nallocations]);
}
static uint64_t f_v2p(void *c, const void *p)
{
    (void)c;
    return (uint64_t)(uintptr_t)p;
}
static void *f_p2v(void *c, uint64_t p)
{
    (void)c;
    return (void *)(uintptr_t)p;
}
static void f_flush(void *c, const void *p, size_t len)
{
    (void)c;
    if (fake_mem_hooks)
        fake_mem_hooks->flush(p, len);
}
static void f_store128(void *c, volatile uint64_t *p, const uint64_t *v)
{
    (void)c;
    p[0] = v[0];
    p[1] = v[1];
}

const struct vtd_ops fake_ops = {
    .read32 = f_read32,
    .read64 = f_read64,
    .write32 = f_write32,
    .write64 = f_write64,
    .now_us = f_now,
    .cycles = f_now,
    .relax = f_relax,
    .alloc_pages = f_alloc,
    .virt_to_phys = f_v2p,
    .phys_to_virt = f_p2v,
    .flush = f_flush,
    .store128 = f_store128,
};

int fake_bring_up(struct vtd_unit *u, uint64_t cap, uint64_t ecap, enum vtd_mode_request want,
                  void (*setup)(void), struct why *why)
{
    fake_free_all();
    memset(&fk, 0, sizeof(fk));
    fk.cap = cap;
    fk.ecap = ecap;
    fk.no_ats_sid = -1;
    if (setup)
        setup();
    vtd_nunits = 0;
    vtd_fault_reset();
    fake_out_clear();
    return vtd_unit_init(u, 0, FAKE_BASE, 0, &fake_ops, want, why);
}
