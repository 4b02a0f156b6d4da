/* Invalidation queue and register-based invalidation (spec 6.5). */
#include "iommu/qi.h"

#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/printf.h"

/* Descriptor fields (spec 6.5.2.x), qword 0 unless noted. */
#define DESC_G(g) ((uint64_t)(g) << 4)
#define DESC_DID(d) ((uint64_t)(d) << 16)
#define DESC_SID(s) ((uint64_t)(s) << 32)
#define DESC_FM(f) ((uint64_t)((f)&3) << 48)
#define DESC_PASID(p) ((uint64_t)((p)&0xfffff) << 32)
#define DESC_IOTLB_DW (1ULL << 6)
#define DESC_IOTLB_DR (1ULL << 7)
#define DESC_DEVTLB_MIP(q) ((uint64_t)((q)&0x1f) << 16)
#define DESC_PDEVTLB_MIP(q) ((uint64_t)((q)&0x1f) << 4)
#define DESC_PDEVTLB_SID(s) ((uint64_t)(s) << 16)
#define DESC_PDEVTLB_S (1ULL << 11) /* qword 1 */
#define DESC_WAIT_IF (1ULL << 4)
#define DESC_WAIT_SW (1ULL << 5)
#define DESC_WAIT_FN (1ULL << 6)
#define DESC_WAIT_DATA(d) ((uint64_t)(d) << 32)
/* qword 1 of the address-carrying descriptors */
#define DESC_ADDR(a, am, ih) (((a) & ~0xfffULL) | ((ih) ? 1ULL << 6 : 0) | ((am)&0x3f))

const char *vtd_desc_type_name(unsigned type)
{
    switch (type) {
    case VTD_DESC_CC:
        return "context-cache";
    case VTD_DESC_IOTLB:
        return "iotlb";
    case VTD_DESC_DEVTLB:
        return "device-tlb";
    case VTD_DESC_IEC:
        return "interrupt-entry-cache";
    case VTD_DESC_WAIT:
        return "wait";
    case VTD_DESC_PIOTLB:
        return "pasid-iotlb";
    case VTD_DESC_PC:
        return "pasid-cache";
    case VTD_DESC_PDEVTLB:
        return "pasid-device-tlb";
    default:
        return "reserved";
    }
}

static unsigned desc_type(const uint64_t *d)
{
    return (unsigned)((d[0] & 0xf) | ((d[0] >> 5) & 0x70)); /* 3:0 + 11:9 */
}

/* The SID of a device-TLB descriptor: bits 47:32 in type 3, 31:16 in the
 * PASID-based type 8 (whose 51:32 hold the PASID). */
static uint16_t devtlb_desc_sid(const uint64_t *d)
{
    return (uint16_t)(desc_type(d) == VTD_DESC_PDEVTLB ? d[0] >> 16 : d[0] >> 32);
}

static int format_devtlb(const uint64_t *d, char *buf, unsigned len)
{
    char b[8];
    bool pasid = desc_type(d) == VTD_DESC_PDEVTLB;
    unsigned pfsid = (unsigned)(((d[0] >> 12) & 0xf) | ((d[0] >> 52) << 4));
    unsigned mip = (unsigned)((d[0] >> (pasid ? 4 : 16)) & 0x1f);
    bool s = (d[1] >> (pasid ? 11 : 0)) & 1;
    int n = ksnprintf(buf, len, " sid=%s pfsid=%#x mip=%u", vtd_sid_str(devtlb_desc_sid(d), b),
                      pfsid, mip);
    if (pasid)
        n += ksnprintf(buf + n, len - n, " pasid=%u g=%d", (unsigned)((d[0] >> 32) & 0xfffff),
                       (int)(d[1] & 1));
    n += ksnprintf(buf + n, len - n, " addr=%#llx s=%d", (unsigned long long)(d[1] & ~0xfffULL),
                   (int)s);
    return n;
}

int vtd_desc_format(const uint64_t *d, bool wide, char *buf, unsigned len)
{
    unsigned type = desc_type(d);
    unsigned g = (unsigned)((d[0] >> 4) & 3);
    int n = ksnprintf(buf, len, "[%#llx %#llx", (unsigned long long)d[0], (unsigned long long)d[1]);
    if (wide)
        n += ksnprintf(buf + n, len - n, " %#llx %#llx", (unsigned long long)d[2],
                       (unsigned long long)d[3]);
    n += ksnprintf(buf + n, len - n, "] type=%#x (%s)", type, vtd_desc_type_name(type));
    switch (type) {
    case VTD_DESC_CC:
    case VTD_DESC_IOTLB:
        n += ksnprintf(buf + n, len - n, " g=%u did=%u", g, (unsigned)((d[0] >> 16) & 0xffff));
        break;
    case VTD_DESC_PIOTLB:
    case VTD_DESC_PC:
        n += ksnprintf(buf + n, len - n, " g=%u did=%u pasid=%u", g,
                       (unsigned)((d[0] >> 16) & 0xffff), (unsigned)((d[0] >> 32) & 0xfffff));
        break;
    case VTD_DESC_WAIT:
        n += ksnprintf(buf + n, len - n, " sw=%d if=%d", (int)((d[0] >> 5) & 1),
                       (int)((d[0] >> 4) & 1));
        break;
    case VTD_DESC_DEVTLB:
    case VTD_DESC_PDEVTLB:
        n += format_devtlb(d, buf + n, len - n);
        break;
    default:
        break;
    }
    return n;
}

static unsigned desc_qwords(const struct vtd_unit *u)
{
    return u->qi.wide ? 4 : 2;
}

static unsigned desc_shift(const struct vtd_unit *u)
{
    return u->qi.wide ? 5 : 4; /* IQH/IQT hold byte offsets (11.4.9.1) */
}

static unsigned hw_head(struct vtd_unit *u)
{
    return (unsigned)((vtd_read64(u, VTD_REG_IQH) & 0x7fff0ULL) >> desc_shift(u));
}

static void kick_tail(struct vtd_unit *u)
{
    vtd_write64(u, VTD_REG_IQT, (uint64_t)u->qi.tail << desc_shift(u));
}

/* ---- error handling (spec 6.5.2.10) -------------------------------------------- */

static void report_and_fix_iqe(struct vtd_unit *u)
{
    struct vtd_qi *q = &u->qi;
    unsigned head = hw_head(u);
    uint64_t *slot = &q->queue[head * desc_qwords(u)];
    uint64_t rec = vtd_read64(u, VTD_REG_IQERCD);
    char desc[224];
    memset(q->last_error_desc, 0, sizeof(q->last_error_desc));
    memcpy(q->last_error_desc, slot, desc_qwords(u) * 8);
    q->last_error_index = head;
    vtd_desc_format(slot, q->wide, desc, sizeof(desc));
    ktap_diag("qi: unit=%d IQE (invalidation queue error) at index %u IQEI=%u: %s", u->index, head,
              (unsigned)VTD_IQERCD_IQEI(rec), desc);
    if (slot[0] == q->filler[0] && slot[1] == q->filler[1]) {
        /* Our own replacement was refused too: stop using the queue rather
         * than loop on it. */
        ktap_diag("qi: unit=%d the replacement descriptor was refused as well: queue abandoned",
                  u->index);
        q->broken = true;
        return;
    }
    /* The unit stopped at the bad descriptor (IQH points at it).  Replace
     * it with a harmless one so that what was queued behind it still runs
     * once fetching resumes.  The spec allows a wait with neither SW nor IF
     * as a plain fence, but QEMU rejects it, so the filler is a wait with a
     * status write to a scratch word next to the real status. */
    memset(slot, 0, desc_qwords(u) * 8);
    slot[0] = q->filler[0];
    slot[1] = q->filler[1];
    vtd_flush(u, slot, desc_qwords(u) * 8);
}

/* ITE names only the source id (IQERCD.ITESID) and IQH need not point at
 * the culprit (6.5.2.10: the unit keeps fetching past a device-TLB
 * invalidation while it waits for the device).  The newest device-TLB
 * descriptor for that source in the ring is the one that timed out. */
static const uint64_t *find_devtlb(struct vtd_unit *u, uint16_t sid, unsigned *index)
{
    struct vtd_qi *q = &u->qi;
    for (unsigned back = 1; back <= q->entries; back++) {
        unsigned i = (q->tail + q->entries - back) % q->entries;
        const uint64_t *d = &q->queue[i * desc_qwords(u)];
        unsigned type = desc_type(d);
        if ((type == VTD_DESC_DEVTLB || type == VTD_DESC_PDEVTLB) && devtlb_desc_sid(d) == sid) {
            *index = i;
            return d;
        }
    }
    return NULL;
}

static void report_ite(struct vtd_unit *u, uint16_t sid)
{
    struct vtd_qi *q = &u->qi;
    char desc[224], b[8];
    unsigned index = 0;
    const uint64_t *d = find_devtlb(u, sid, &index);
    memset(q->last_error_desc, 0, sizeof(q->last_error_desc));
    if (d) {
        memcpy(q->last_error_desc, d, desc_qwords(u) * 8);
        q->last_error_index = index;
        vtd_desc_format(d, q->wide, desc, sizeof(desc));
    } else {
        ksnprintf(desc, sizeof(desc), "(no device-TLB descriptor for it in the queue)");
    }
    /* Pending waits were aborted by the unit: vtd_inv_wait fails them. */
    ktap_diag("qi: unit=%d ITE (device-TLB invalidation time-out) sid=%s at index %u head=%u: %s",
              u->index, vtd_sid_str(sid, b), index, hw_head(u), desc);
}

uint32_t vtd_qi_check_errors(struct vtd_unit *u)
{
    struct vtd_qi *q = &u->qi;
    if (!q->enabled || q->broken)
        return 0;
    uint32_t fsts = vtd_read32(u, VTD_REG_FSTS);
    uint32_t err = fsts & (uint32_t)(VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE);
    if (!err)
        return 0;
    q->errors++;
    if (err & VTD_FSTS_IQE) {
        q->iqe++;
        report_and_fix_iqe(u);
    }
    if (err & (VTD_FSTS_ITE | VTD_FSTS_ICE)) {
        uint64_t rec = vtd_read64(u, VTD_REG_IQERCD);
        if (err & VTD_FSTS_ITE) {
            q->ite++;
            report_ite(u, (uint16_t)VTD_IQERCD_ITESID(rec));
        }
        if (err & VTD_FSTS_ICE) {
            q->ice++;
            ktap_diag("qi: unit=%d ICE (invalid device-TLB invalidation completion) sid=%#llx",
                      u->index, (unsigned long long)VTD_IQERCD_ICESID(rec));
        }
    }
    /* RW1C: clear exactly the bits handled (never PFO: fault.c owns it). */
    vtd_write32(u, VTD_REG_FSTS, err);
    /* The spec resumes fetching once IQE is clear; QEMU resumes only on
     * the next IQT write.  Rewriting the same tail serves both. */
    kick_tail(u);
    return err;
}

/* ---- submission --------------------------------------------------------------- */

int vtd_qi_submit(struct vtd_unit *u, const uint64_t *desc)
{
    struct vtd_qi *q = &u->qi;
    if (q->broken)
        return -1;
    unsigned next = (q->tail + 1) % q->entries;
    if (next == hw_head(u)) {
        /* Full: the unit has not fetched the oldest descriptor yet. */
        q->full_waits++;
        vtd_wait_begin(u, "invalidation queue space");
        const struct vtd_ops *o = u->ops;
        uint64_t start = o->now_us(o->ctx);
        while (next == hw_head(u)) {
            vtd_qi_check_errors(u);
            if (q->broken || o->now_us(o->ctx) - start >= VTD_INV_TIMEOUT_US) {
                char d[224];
                vtd_desc_format(desc, q->wide, d, sizeof(d));
                ktap_diag("timeout after %u us waiting for unit=%d invalidation queue space "
                          "(IQH=%u IQT=%u, %u slots): descriptor not queued: %s",
                          VTD_INV_TIMEOUT_US, u->index, hw_head(u), q->tail, q->entries, d);
                return -1;
            }
            o->relax(o->ctx);
        }
    }
    uint64_t *slot = &q->queue[q->tail * desc_qwords(u)];
    memcpy(slot, desc, desc_qwords(u) * 8);
    vtd_flush(u, slot, desc_qwords(u) * 8);
    q->tail = next;
    q->submitted++;
    kick_tail(u);
    /* QEMU processes the queue inside the IQT write: an error shows up now
     * and is reported next to the descriptor that caused it. */
    return vtd_qi_check_errors(u) ? -1 : 0;
}

static int submit2(struct vtd_unit *u, uint64_t q0, uint64_t q1)
{
    uint64_t d[4] = {q0, q1, 0, 0};
    return vtd_qi_submit(u, d);
}

/* ---- register-based invalidation (spec 6.5.1, 11.4.7, 11.4.8) ------------- */

static int reg_context(struct vtd_unit *u, enum vtd_cc_gran g, uint16_t did, uint16_t sid,
                       uint8_t fm)
{
    uint64_t cmd = VTD_CCMD_ICC | ((uint64_t)g << VTD_CCMD_CIRG_SHIFT) |
                   ((uint64_t)(fm & 3) << VTD_CCMD_FM_SHIFT) |
                   ((uint64_t)sid << VTD_CCMD_SID_SHIFT) | did;
    vtd_write64(u, VTD_REG_CCMD, cmd);
    return vtd_wait64(u, VTD_REG_CCMD, VTD_CCMD_ICC, 0, "CCMD.ICC=0") ? 0 : -1;
}

static int reg_iotlb(struct vtd_unit *u, enum vtd_iotlb_gran g, uint16_t did, uint64_t addr,
                     uint8_t am, bool ih)
{
    unsigned off = u->caps.iro * 16;
    if (g == VTD_IOTLB_PAGE)
        vtd_write64(u, off, DESC_ADDR(addr, am, ih));
    uint64_t cmd = VTD_IOTLB_IVT | ((uint64_t)g << VTD_IOTLB_IIRG_SHIFT) |
                   ((uint64_t)did << VTD_IOTLB_DID_SHIFT);
    if (u->caps.drd)
        cmd |= VTD_IOTLB_DR;
    if (u->caps.dwd)
        cmd |= VTD_IOTLB_DW;
    vtd_write64(u, off + 8, cmd);
    return vtd_wait64(u, off + 8, VTD_IOTLB_IVT, 0, "IOTLB.IVT=0") ? 0 : -1;
}

/* ---- the invalidation operations ------------------------------------------------ */

int vtd_inv_context(struct vtd_unit *u, enum vtd_cc_gran g, uint16_t did, uint16_t sid, uint8_t fm)
{
    if (!u->qi.enabled)
        return reg_context(u, g, did, sid, fm);
    return submit2(u, VTD_DESC_CC | DESC_G(g) | DESC_DID(did) | DESC_SID(sid) | DESC_FM(fm), 0);
}

int vtd_inv_iotlb(struct vtd_unit *u, enum vtd_iotlb_gran g, uint16_t did, uint64_t addr,
                  uint8_t am, bool ih)
{
    if (g == VTD_IOTLB_PAGE && (!u->caps.psi || am > u->caps.mamv))
        g = VTD_IOTLB_DOMAIN; /* page-selective not offered: widen (11.4.2 PSI, MAMV) */
    if (!u->qi.enabled)
        return reg_iotlb(u, g, did, addr, am, ih);
    uint64_t q0 = VTD_DESC_IOTLB | DESC_G(g) | DESC_DID(did);
    if (u->caps.drd)
        q0 |= DESC_IOTLB_DR; /* drain reads/writes where the unit can */
    if (u->caps.dwd)
        q0 |= DESC_IOTLB_DW;
    return submit2(u, q0, g == VTD_IOTLB_PAGE ? DESC_ADDR(addr, am, ih) : 0);
}

int vtd_inv_pasid_cache(struct vtd_unit *u, enum vtd_pc_gran g, uint16_t did, uint32_t pasid)
{
    if (!u->qi.enabled)
        return -1; /* scalable mode never runs without QI */
    return submit2(u, VTD_DESC_PC | DESC_G(g) | DESC_DID(did) | DESC_PASID(pasid), 0);
}

int vtd_inv_piotlb(struct vtd_unit *u, enum vtd_piotlb_gran g, uint16_t did, uint32_t pasid,
                   uint64_t addr, uint8_t am, bool ih)
{
    if (!u->qi.enabled)
        return -1;
    if (g == VTD_PIOTLB_PAGE && am > u->caps.mamv)
        g = VTD_PIOTLB_PASID;
    return submit2(u, VTD_DESC_PIOTLB | DESC_G(g) | DESC_DID(did) | DESC_PASID(pasid),
                   g == VTD_PIOTLB_PAGE ? DESC_ADDR(addr, am, ih) : 0);
}

/* PFSID (6.5.2.5, 6.5.2.6): bits 15:12 hold PFSID[3:0], bits 63:52
 * PFSID[15:4], in both device-TLB descriptors.  The field is meaningful
 * only where the unit throttles device-TLB invalidations per physical
 * function (ECAP.DIT); elsewhere it is reserved, must be 0, and QEMU
 * rejects a non-zero one with IQE. */
static uint64_t devtlb_pfsid(const struct vtd_unit *u, const struct vtd_devtlb_target *t)
{
    if (!(u->ecap & VTD_ECAP_DIT))
        return 0;
    return ((uint64_t)(t->pf_sid & 0xf) << 12) | ((uint64_t)(t->pf_sid >> 4) << 52);
}

/* Address and size (6.5.2.5): a size of 2^(12+n) bytes is written as S=1
 * with address bits 12 .. 12+n-2 set and bit 12+n-1 clear; S=0 is one
 * 4 KiB page.  Returns the address field with the low 12 bits clear. */
static uint64_t devtlb_addr(uint64_t addr, unsigned size_order, bool *s)
{
    uint64_t a = addr & ~0xfffULL;
    *s = size_order != 0;
    if (size_order)
        a |= ((1ULL << (11 + size_order)) - 1) & ~0xfffULL;
    return a;
}

/* The queue and ECAP.DT, and a range the size encoding can express: at
 * most 2^64 bytes, aligned to its size (the address bits below the size
 * carry the size, so an unaligned address would name another range). */
static bool devtlb_usable(const struct vtd_unit *u, uint64_t addr, unsigned size_order)
{
    if (!u->qi.enabled || !u->caps.dt)
        return false;
    uint64_t mask = size_order >= VTD_DEVTLB_ALL ? ~0ULL : (1ULL << (12 + size_order)) - 1;
    if (size_order > VTD_DEVTLB_ALL || (addr & mask)) {
        ktap_diag("qi: unit=%d device-TLB invalidation of %#llx, 2^%u bytes: beyond 2^64 or not "
                  "aligned to its size; not queued",
                  u->index, (unsigned long long)addr, 12 + size_order);
        return false;
    }
    return true;
}

int vtd_inv_devtlb(struct vtd_unit *u, const struct vtd_devtlb_target *t, uint64_t addr,
                   unsigned size_order)
{
    if (!devtlb_usable(u, addr, size_order))
        return -1;
    bool s;
    uint64_t a = devtlb_addr(addr, size_order, &s);
    /* qword 0: MIP 20:16, SID 47:32; qword 1: S in bit 0 */
    uint64_t q0 = VTD_DESC_DEVTLB | DESC_DEVTLB_MIP(t->qdep) | DESC_SID(t->sid) |
                  devtlb_pfsid(u, t);
    return submit2(u, q0, a | (s ? 1 : 0));
}

int vtd_inv_pasid_devtlb(struct vtd_unit *u, const struct vtd_devtlb_target *t, uint32_t pasid,
                         uint64_t addr, unsigned size_order)
{
    if (u->mode != VTD_MODE_SCALABLE || !devtlb_usable(u, addr, size_order))
        return -1;
    bool s;
    uint64_t a = devtlb_addr(addr, size_order, &s);
    /* qword 0: MIP 8:4, SID 31:16, PASID 51:32; qword 1: S in bit 11, and
     * G in bit 0 left clear: only this PASID's translations (VT-d 3.0
     * dropped global pages from device-TLB invalidation). */
    uint64_t q0 = VTD_DESC_PDEVTLB | DESC_PDEVTLB_MIP(t->qdep) | DESC_PDEVTLB_SID(t->sid) |
                  DESC_PASID(pasid) | devtlb_pfsid(u, t);
    return submit2(u, q0, a | (s ? DESC_PDEVTLB_S : 0));
}

int vtd_inv_wait(struct vtd_unit *u)
{
    struct vtd_qi *q = &u->qi;
    if (!q->enabled)
        return 0; /* register invalidations complete synchronously */
    uint32_t token = ++q->next_token;
    if (!token)
        token = ++q->next_token;
    uint32_t errors_before = q->errors, ite_before = q->ite;
    /* Status write only: SW and IF together make QEMU abort, and the
     * firmware polls anyway. */
    int rc = submit2(u, VTD_DESC_WAIT | DESC_WAIT_SW | DESC_WAIT_FN | DESC_WAIT_DATA(token),
                     q->status_phys);
    q->waits++;
    vtd_wait_begin(u, "invalidation wait status");
    const struct vtd_ops *o = u->ops;
    uint64_t start = o->now_us(o->ctx);
    while (*q->status != token) {
        vtd_qi_check_errors(u);
        if (q->broken)
            return -1;
        if (q->ite != ite_before && *q->status != token) {
            /* An ITE aborts the waits pending in the unit (6.5.2.10): this
             * status will never be written, so stop polling for it now. */
            ktap_diag("qi: unit=%d invalidation wait %u aborted by the ITE", u->index, token);
            return -1;
        }
        if (o->now_us(o->ctx) - start >= VTD_INV_TIMEOUT_US) {
            if (*q->status == token)
                break;
            ktap_diag("timeout after %u us waiting for unit=%d invalidation wait status %u "
                      "(IQH=%u IQT=%u status=%u)",
                      VTD_INV_TIMEOUT_US, u->index, token, hw_head(u), q->tail, *q->status);
            return -1;
        }
        o->relax(o->ctx);
    }
    return (rc || q->errors != errors_before) ? -1 : 0;
}

int vtd_inv_all(struct vtd_unit *u)
{
    int rc = vtd_inv_context(u, VTD_CC_GLOBAL, 0, 0, 0);
    rc |= vtd_inv_iotlb(u, VTD_IOTLB_GLOBAL, 0, 0, 0, false);
    if (u->mode == VTD_MODE_SCALABLE)
        rc |= vtd_inv_pasid_cache(u, VTD_PC_GLOBAL, 0, 0);
    rc |= vtd_inv_wait(u);
    return rc ? -1 : 0;
}

/* ---- bring-up / tear-down -------------------------------------------------------- */

int vtd_qi_init(struct vtd_unit *u)
{
    struct vtd_qi *q = &u->qi;
    memset(q, 0, sizeof(*q));
    if (!u->caps.qi) {
        ktap_diag("vtd: unit=%d ECAP.QI=0: register-based invalidation", u->index);
        return 0;
    }
    q->wide = u->mode == VTD_MODE_SCALABLE;
    q->queue = u->ops->alloc_pages(u->ops->ctx, 1);
    uint32_t *status = u->ops->alloc_pages(u->ops->ctx, 1);
    if (!q->queue || !status) {
        ktap_diag("vtd: unit=%d out of memory for the invalidation queue", u->index);
        return -1;
    }
    q->status = status;
    q->queue_phys = u->ops->virt_to_phys(u->ops->ctx, q->queue);
    q->status_phys = u->ops->virt_to_phys(u->ops->ctx, status);
    q->entries = 4096 / (desc_qwords(u) * 8); /* QS = 0: one page */
    q->filler[0] = VTD_DESC_WAIT | DESC_WAIT_SW;
    q->filler[1] = q->status_phys + 8; /* scratch word, data 0 */
    /* The queue must be off and empty-tailed when it is (re)programmed:
     * hardware resets IQH when QIE is set and expects IQT = 0 (6.5.2). */
    vtd_write64(u, VTD_REG_IQT, 0);
    vtd_write64(u, VTD_REG_IQA, q->queue_phys | (q->wide ? VTD_IQA_DW : 0) | 0 /* QS */);
    if (!vtd_gcmd_enable(u, VTD_GCMD_QIE, true))
        return -1;
    q->enabled = true;
    return 0;
}

void vtd_qi_disable(struct vtd_unit *u)
{
    uint32_t gsts = vtd_read32(u, VTD_REG_GSTS);
    if (!(gsts & VTD_GCMD_QIE))
        return;
    /* Spec 6.5.2: disable only once IQH has caught up with IQT. */
    vtd_wait_begin(u, "invalidation queue drain");
    const struct vtd_ops *o = u->ops;
    uint64_t start = o->now_us(o->ctx);
    while ((vtd_read64(u, VTD_REG_IQH) & 0x7fff0ULL) != (vtd_read64(u, VTD_REG_IQT) & 0x7fff0ULL)) {
        if (u->qi.enabled)
            vtd_qi_check_errors(u);
        if (u->qi.broken || o->now_us(o->ctx) - start >= VTD_INV_TIMEOUT_US) {
            ktap_diag("timeout after %u us waiting for unit=%d invalidation queue to drain",
                      VTD_INV_TIMEOUT_US, u->index);
            break;
        }
        o->relax(o->ctx);
    }
    vtd_gcmd_enable(u, VTD_GCMD_QIE, false);
    u->qi.enabled = false;
}
