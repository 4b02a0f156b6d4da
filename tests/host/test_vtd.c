// HOST-DEPS: lib/printf.c lib/ktap.c iommu/vtd.c iommu/qi.c iommu/fault.c iommu/context_entry.c
// iommu/pasid_entry.c iommu/entry_sync.c iommu/pasid_write.c
/* The VT-d engine against a fake register file: the GCMD/GSTS protocol
 * (persistent bits kept, one-shot bits awaited, a status bit that never
 * sets times out with a message naming it), the invalidation queue (waits
 * complete, a reserved descriptor raises IQE, is reported with its
 * contents, and the queue stays usable), fault recording (records read,
 * logged, cleared by writing F) and reason names. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "lib/printf.h"
#include "tests/host/check.h"

CHECK_STATE_DEFINE;

#define FAKE_BASE 0x10000ULL
/* QEMU 10's values (scalable + PASID) */
#define QEMU_CAP 0xd2008c222f0606ULL
#define QEMU_ECAP 0x490080f00f4aULL

struct fake {
    uint64_t cap, ecap;
    uint32_t gsts, fsts, fectl;
    uint32_t stuck; /* GSTS bits that never follow GCMD */
    uint64_t rtaddr, iqa, iqh, iqt;
    uint64_t frcd_lo, frcd_hi; /* the single fault recording register */
    uint32_t gcmd_log[32];
    unsigned ngcmd;
    uint64_t now;
};
static struct fake fk;

static char out[16384];
static size_t outlen;
static void sink(const char *s, size_t n)
{
    if (outlen + n < sizeof(out)) {
        memcpy(out + outlen, s, n);
        outlen += n;
        out[outlen] = 0;
    }
}

static unsigned fake_fro(void)
{
    return (unsigned)VTD_CAP_FRO(fk.cap) * 16;
}

static unsigned shift(void)
{
    return (fk.iqa & VTD_IQA_DW) ? 5 : 4;
}

/* The queue: process from head to tail like QEMU, inside the IQT write. */
static void process_queue(void)
{
    if (!(fk.gsts & VTD_GCMD_QIE) || (fk.fsts & VTD_FSTS_IQE))
        return;
    uint64_t *q = (uint64_t *)(uintptr_t)(fk.iqa & ~0xfffULL);
    unsigned qw = (fk.iqa & VTD_IQA_DW) ? 4 : 2, n = 4096 / (qw * 8);
    unsigned head = (unsigned)(fk.iqh >> shift()), tail = (unsigned)(fk.iqt >> shift());
    while (head != tail) {
        uint64_t *d = q + head * qw;
        unsigned type = d[0] & 0xf;
        if (type == 0 || (type == VTD_DESC_WAIT && !(d[0] & (3u << 4)))) {
            fk.fsts |= VTD_FSTS_IQE; /* reserved type, or QEMU's no-flag wait */
            break;
        }
        if (type == VTD_DESC_WAIT && (d[0] & (1u << 5)))
            *(volatile uint32_t *)(uintptr_t)(d[1] & ~3ULL) = (uint32_t)(d[0] >> 32);
        head = (head + 1) % n;
    }
    fk.iqh = (uint64_t)head << shift();
}

static uint64_t rd(unsigned off)
{
    switch (off) {
    case VTD_REG_VER:
        return 0x10;
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
    default:
        break;
    }
    if (off == fake_fro())
        return fk.frcd_lo;
    if (off == fake_fro() + 8)
        return fk.frcd_hi;
    return 0;
}

static void wr(unsigned off, uint64_t v, bool wide)
{
    switch (off) {
    case VTD_REG_GCMD: {
        uint32_t cmd = (uint32_t)v;
        if (fk.ngcmd < 32)
            fk.gcmd_log[fk.ngcmd++] = cmd;
        uint32_t persistent = (uint32_t)VTD_GSTS_PERSISTENT;
        uint32_t next = (fk.gsts & ~persistent) | (cmd & persistent);
        if (cmd & VTD_GCMD_SRTP)
            next |= VTD_GCMD_SRTP;
        if ((cmd & VTD_GCMD_QIE) && !(fk.gsts & VTD_GCMD_QIE))
            fk.iqh = 0;
        fk.gsts = (next & ~fk.stuck) | (fk.gsts & fk.stuck);
        return;
    }
    case VTD_REG_RTADDR:
        fk.rtaddr = v;
        return;
    case VTD_REG_FSTS:
        fk.fsts &= ~((uint32_t)v & (uint32_t)VTD_FSTS_W1C);
        return;
    case VTD_REG_FECTL:
        fk.fectl = (uint32_t)v;
        return;
    case VTD_REG_IQA:
        fk.iqa = v;
        return;
    case VTD_REG_IQT:
        fk.iqt = v;
        process_queue();
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
/* The engine never frees its tables: the test frees them all between
 * bring-ups. */
static void *allocations[64];
static unsigned nallocations;

static void *f_alloc(void *c, unsigned n)
{
    (void)c;
    if (nallocations == 64)
        return NULL;
    void *p = aligned_alloc(4096, n * 4096ULL);
    memset(p, 0, n * 4096ULL);
    return allocations[nallocations++] = p;
}

static void free_all(void)
{
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
static void f_store128(void *c, volatile uint64_t *p, const uint64_t *v)
{
    (void)c;
    p[0] = v[0];
    p[1] = v[1];
}

static const struct vtd_ops fake_ops = {
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
    .flush = NULL,
    .store128 = f_store128,
};

static struct vtd_unit unit;

static int bring_up(uint64_t cap, uint64_t ecap, enum vtd_mode_request want)
{
    char why[160];
    free_all();
    memset(&fk, 0, sizeof(fk));
    fk.cap = cap;
    fk.ecap = ecap;
    vtd_nunits = 0;
    vtd_fault_reset();
    outlen = 0;
    out[0] = 0;
    int rc = vtd_unit_init(&unit, 0, FAKE_BASE, 0, &fake_ops, want, why, sizeof(why));
    if (rc)
        printf("    # bring-up: %s\n", why);
    return rc;
}

TEST(caps_decode_qemu)
{
    struct vtd_caps c;
    vtd_caps_decode(QEMU_CAP, QEMU_ECAP, &c);
    CHECK_EQ_U64(c.mgaw, 48);
    CHECK_EQ_U64(c.sagaw, 6);
    CHECK_EQ_U64(c.fro * 16, 0x220);
    CHECK_EQ_U64(c.nfr, 1);
    CHECK_EQ_U64(c.iro * 16, 0xf0);
    CHECK_EQ_U64(c.mamv, 18);
    CHECK(c.qi && c.pt && c.smts && c.slts && c.pasid && !c.flts && !c.c && !c.cm, "flags");
    vtd_caps_decode(0x1d2008c222f0606ULL, 0x890000f00f4aULL, &c); /* x-flts */
    CHECK(c.flts && !c.slts && c.fs1gp && !c.srs, "x-flts flags");
}

TEST(gcmd_keeps_persistent_bits)
{
    CHECK(bring_up(QEMU_CAP, QEMU_ECAP, VTD_WANT_AUTO) == 0, "bring-up");
    CHECK(unit.mode == VTD_MODE_SCALABLE && unit.qi.enabled && unit.qi.wide, "scalable + QI");
    CHECK((fk.rtaddr & VTD_RTADDR_TTM_SCALABLE) != 0, "TTM scalable");
    CHECK(fk.ngcmd >= 2 && fk.gcmd_log[0] == VTD_GCMD_SRTP, "first command SRTP alone: %#x",
          fk.gcmd_log[0]);
    CHECK(fk.iqa & VTD_IQA_DW, "256-bit descriptors in scalable mode");
    fk.ngcmd = 0;
    CHECK(vtd_enable_translation(&unit), "TE on");
    CHECK(fk.gcmd_log[0] == (VTD_GCMD_QIE | VTD_GCMD_TE), "TE keeps QIE: %#x", fk.gcmd_log[0]);
    CHECK(vtd_gcmd_oneshot(&unit, VTD_GCMD_SRTP), "SRTP again");
    CHECK(fk.gcmd_log[1] == (VTD_GCMD_QIE | VTD_GCMD_TE | VTD_GCMD_SRTP),
          "one-shot keeps TE and QIE, and never repeats itself later: %#x", fk.gcmd_log[1]);
    CHECK(vtd_disable_translation(&unit), "TE off");
    CHECK(fk.gcmd_log[2] == VTD_GCMD_QIE, "TE off keeps QIE: %#x", fk.gcmd_log[2]);
}

TEST(stuck_status_bit_times_out_with_its_name)
{
    CHECK(bring_up(QEMU_CAP, QEMU_ECAP, VTD_WANT_AUTO) == 0, "bring-up");
    fk.stuck = VTD_GCMD_TE;
    outlen = 0;
    CHECK(!vtd_enable_translation(&unit), "TES never sets: must fail");
    CHECK(strstr(out, "timeout after") && strstr(out, "unit=0 GSTS.TES=1"), "message: %s", out);
    CHECK(!unit.translating, "not marked translating");
}

TEST(legacy_mode_uses_128bit_descriptors)
{
    CHECK(bring_up(QEMU_CAP, QEMU_ECAP, VTD_WANT_LEGACY) == 0, "bring-up");
    CHECK(unit.mode == VTD_MODE_LEGACY && !(fk.iqa & VTD_IQA_DW), "legacy, DW clear");
    CHECK(!(fk.rtaddr & VTD_RTADDR_TTM_SCALABLE), "TTM legacy");
    CHECK(vtd_inv_wait(&unit) == 0, "wait completes");
}

TEST(qi_wait_and_iqe_recovery)
{
    CHECK(bring_up(QEMU_CAP, QEMU_ECAP, VTD_WANT_AUTO) == 0, "bring-up");
    CHECK(vtd_inv_wait(&unit) == 0, "wait completes");
    uint64_t bad[4] = {0xbad00000000ULL, 0x1234, 0, 0};
    outlen = 0;
    CHECK(vtd_qi_submit(&unit, bad) != 0, "bad descriptor reported");
    CHECK(unit.qi.iqe == 1, "IQE counted: %u", unit.qi.iqe);
    CHECK(unit.qi.last_error_desc[0] == bad[0], "offending descriptor kept");
    CHECK(strstr(out, "IQE") && strstr(out, "0xbad00000000"), "report names it: %s", out);
    CHECK(!(fk.fsts & VTD_FSTS_IQE), "IQE cleared");
    CHECK(vtd_inv_all(&unit) == 0, "queue usable afterwards");
    CHECK(fk.iqh == fk.iqt, "queue drained");
}

TEST(qi_full_queue_wraps)
{
    CHECK(bring_up(QEMU_CAP, QEMU_ECAP, VTD_WANT_AUTO) == 0, "bring-up");
    for (int i = 0; i < 300; i++) /* 128 slots of 256 bits: wraps twice */
        CHECK(vtd_inv_iotlb(&unit, VTD_IOTLB_DOMAIN, 1, 0, 0, false) == 0, "submit %d", i);
    CHECK(vtd_inv_wait(&unit) == 0, "wait after wrapping");
}

TEST(fault_record_logged_and_cleared)
{
    CHECK(bring_up(QEMU_CAP, QEMU_ECAP, VTD_WANT_AUTO) == 0, "bring-up");
    uint32_t mark = vtd_fault_seq();
    fk.frcd_lo = 0x12345000;
    fk.frcd_hi = VTD_FRCD_F | (0x06ULL << 32) | 0x0018; /* 00:03.0, write, reason 6 */
    CHECK(vtd_fault_scan(&unit) == 1, "one record");
    CHECK(!(fk.frcd_hi & VTD_FRCD_F), "F cleared by writing 1");
    struct vtd_fault_record r;
    CHECK(vtd_faults_since(mark, 0x18, &r, 1) == 1, "found by sid");
    CHECK(vtd_faults_since(mark, 0x19, NULL, 0) == 0, "not for another sid");
    char line[200];
    vtd_fault_format(&r, line, sizeof(line));
    CHECK(!strcmp(line, "fault: unit=0 sid=00:03.0 pasid=- addr=0x12345000 type=write "
                        "reason=0x06 (read without read permission)"),
          "line: %s", line);
    CHECK(vtd_fault_count_sid(0x18) == 1, "per-device counter");
}

TEST(reason_names)
{
    CHECK(!strcmp(vtd_fault_reason_name(0x5b), "PASID entry programmed invalid (PGTT/AW/pointer)"),
          "0x5b");
    CHECK(vtd_fault_reason_class(0x71) == VTD_FAULT_NOT_PRESENT, "0x71 not present");
    CHECK(vtd_fault_reason_class(0x85) == VTD_FAULT_WRITE_DENIED, "0x85 write denied");
    CHECK(strstr(vtd_fault_reason_name(0x9f), "SSS") != NULL, "unlisted 0x9x named by group");
}

int main(void)
{
    printf_set_sink(sink);
    RUN(caps_decode_qemu);
    RUN(gcmd_keeps_persistent_bits);
    RUN(stuck_status_bit_times_out_with_its_name);
    RUN(legacy_mode_uses_128bit_descriptors);
    RUN(qi_wait_and_iqe_recovery);
    RUN(qi_full_queue_wraps);
    RUN(fault_record_logged_and_cleared);
    RUN(reason_names);
    free_all();
    return check_finish();
}
