/* Fault recording, the fault event interrupt, reason names, the fault log. */
#include "iommu/fault.h"

#include "iommu/vtd.h"
#include "iommu/vtd_alias.h"
#include "iommu/vtd_regs.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/printf.h"

static struct vtd_fault_record fault_log[VTD_FAULT_LOG];
static volatile uint32_t log_seq; /* latest record */
static uint32_t printed_seq;      /* latest record printed (or skipped) */
static struct {
    uint16_t sid;
    uint64_t count;
} sid_counts[VTD_FAULT_SID_SLOTS];
static unsigned sid_slots;
static uint64_t rate_window_us;
static unsigned rate_lines;
static uint32_t rate_suppressed;
/* Run-wide: lines printed, lines dropped (rate limit or ring overrun),
 * and the PFO count already reported, for vtd_fault_summary_of(). */
static uint64_t lines_printed, lines_suppressed, overflows_reported;

/* ---- reason codes (spec 7.1.3 and the scalable-mode tables of 7.2) ------ */

struct reason {
    uint8_t code;
    enum vtd_fault_class cls;
    const char *name;
};

static const struct reason reasons[] = {
    /* legacy mode (and register/queue independent) */
    {0x01, VTD_FAULT_NOT_PRESENT, "root entry not present"},
    {0x02, VTD_FAULT_NOT_PRESENT, "context entry not present"},
    {0x03, VTD_FAULT_ENTRY_INVALID, "context entry programmed invalid"},
    {0x04, VTD_FAULT_ADDRESS, "address beyond MGAW/AGAW"},
    {0x05, VTD_FAULT_WRITE_DENIED, "write without write permission"},
    {0x06, VTD_FAULT_READ_DENIED, "read without read permission"},
    {0x07, VTD_FAULT_ENTRY_INVALID, "second-level paging entry access error"},
    {0x08, VTD_FAULT_ENTRY_INVALID, "root table access error"},
    {0x09, VTD_FAULT_ENTRY_INVALID, "context table access error"},
    {0x0a, VTD_FAULT_ENTRY_INVALID, "root entry reserved bit set"},
    {0x0b, VTD_FAULT_ENTRY_INVALID, "context entry reserved bit set"},
    {0x0c, VTD_FAULT_ENTRY_INVALID, "second-level paging entry reserved bit set"},
    {0x0d, VTD_FAULT_OTHER, "request blocked by context entry translation type"},
    /* interrupt remapping */
    {0x20, VTD_FAULT_OTHER, "interrupt request reserved field set"},
    {0x21, VTD_FAULT_OTHER, "interrupt index beyond IRT size"},
    {0x22, VTD_FAULT_OTHER, "IRTE not present"},
    {0x23, VTD_FAULT_OTHER, "IRT access error"},
    {0x24, VTD_FAULT_OTHER, "IRTE reserved field set"},
    {0x25, VTD_FAULT_OTHER, "compatibility interrupt blocked"},
    {0x26, VTD_FAULT_OTHER, "interrupt source id check failed"},
    /* scalable mode: root/context (SCT), PASID directory/table (SPD/SPT),
     * first stage (SFS), generic translation (SGN), second stage (SSS) */
    {0x30, VTD_FAULT_ENTRY_INVALID, "scalable root table access error"},
    {0x31, VTD_FAULT_ENTRY_INVALID, "invalid RTADDR.TTM"},
    {0x47, VTD_FAULT_OTHER, "page request with context PRE=0"},
    {0x50, VTD_FAULT_ENTRY_INVALID, "PASID directory access error"},
    {0x51, VTD_FAULT_NOT_PRESENT, "PASID directory entry not present"},
    {0x52, VTD_FAULT_ENTRY_INVALID, "PASID directory entry reserved bit set"},
    {0x58, VTD_FAULT_ENTRY_INVALID, "PASID table access error"},
    {0x59, VTD_FAULT_NOT_PRESENT, "PASID entry not present"},
    {0x5a, VTD_FAULT_ENTRY_INVALID, "PASID entry reserved bit set"},
    {0x5b, VTD_FAULT_ENTRY_INVALID, "PASID entry programmed invalid (PGTT/AW/pointer)"},
    {0x70, VTD_FAULT_ENTRY_INVALID, "first-stage paging entry access error"},
    {0x71, VTD_FAULT_NOT_PRESENT, "first-stage paging entry not present"},
    {0x72, VTD_FAULT_ENTRY_INVALID, "first-stage paging entry reserved bit set"},
    {0x73, VTD_FAULT_ENTRY_INVALID, "invalid FSPTPTR in PASID entry"},
    {0x80, VTD_FAULT_ADDRESS, "first-stage input address not canonical"},
    {0x81, VTD_FAULT_OTHER, "user request to supervisor page (U/S)"},
    {0x85, VTD_FAULT_WRITE_DENIED, "write to a read-only page"},
    {0x87, VTD_FAULT_OTHER, "output address in the interrupt range"},
    {0x90, VTD_FAULT_ENTRY_INVALID, "second-stage paging entry access error"},
    {0x91, VTD_FAULT_NOT_PRESENT, "second-stage paging entry not present"},
    {0x92, VTD_FAULT_ENTRY_INVALID, "second-stage paging entry reserved bit set"},
};

static const struct reason *find_reason(uint8_t code)
{
    for (size_t i = 0; i < ARRAY_SIZE(reasons); i++)
        if (reasons[i].code == code)
            return &reasons[i];
    return NULL;
}

const char *vtd_fault_reason_name(uint8_t code)
{
    const struct reason *r = find_reason(code);
    if (r)
        return r->name;
    switch (code >> 4) {
    case 0x3:
    case 0x4:
        return "scalable context fault (SCT, unlisted code)";
    case 0x5:
        return "PASID directory/table fault (SPD/SPT, unlisted code)";
    case 0x7:
        return "first-stage fault (SFS, unlisted code)";
    case 0x8:
        return "translation fault (SGN, unlisted code)";
    case 0x9:
        return "second-stage fault (SSS, unlisted code)";
    default:
        return "reserved/unknown";
    }
}

enum vtd_fault_class vtd_fault_reason_class(uint8_t code)
{
    const struct reason *r = find_reason(code);
    return r ? r->cls : VTD_FAULT_OTHER;
}

const char *vtd_fault_class_name(enum vtd_fault_class c)
{
    switch (c) {
    case VTD_FAULT_NOT_PRESENT:
        return "not-present";
    case VTD_FAULT_WRITE_DENIED:
        return "write-denied";
    case VTD_FAULT_READ_DENIED:
        return "read-denied";
    case VTD_FAULT_ENTRY_INVALID:
        return "entry-invalid";
    case VTD_FAULT_ADDRESS:
        return "address";
    default:
        return "other";
    }
}

/* ---- the log ------------------------------------------------------------------ */

static void count_sid(uint16_t sid)
{
    for (unsigned i = 0; i < sid_slots; i++) {
        if (sid_counts[i].sid == sid) {
            sid_counts[i].count++;
            return;
        }
    }
    if (sid_slots < VTD_FAULT_SID_SLOTS) {
        sid_counts[sid_slots].sid = sid;
        sid_counts[sid_slots++].count = 1;
    }
}

uint64_t vtd_fault_count_sid(uint16_t sid)
{
    for (unsigned i = 0; i < sid_slots; i++)
        if (sid_counts[i].sid == sid)
            return sid_counts[i].count;
    return 0;
}

uint32_t vtd_fault_seq(void)
{
    return log_seq;
}

unsigned vtd_faults_since(uint32_t since, int sid, struct vtd_fault_record *out, unsigned max)
{
    unsigned n = 0;
    uint32_t last = log_seq;
    uint32_t first = since + 1;
    if (last >= VTD_FAULT_LOG && first <= last - VTD_FAULT_LOG)
        first = last - VTD_FAULT_LOG + 1; /* older ones were overwritten */
    for (uint32_t s = first; s <= last && s; s++) {
        const struct vtd_fault_record *r = &fault_log[s % VTD_FAULT_LOG];
        /* A fault at a DMA alias is the device's that owns the alias. */
        if (sid >= 0 && r->sid != (uint16_t)sid && !(r->alias && r->owner == (uint16_t)sid))
            continue;
        if (out && n < max)
            out[n] = *r;
        n++;
    }
    return n;
}

int vtd_fault_format(const struct vtd_fault_record *r, char *buf, size_t len)
{
    char sid[8], pasid[12], owner[32] = "";
    if (r->pasid_present)
        ksnprintf(pasid, sizeof(pasid), "%u", r->pasid);
    else
        ksnprintf(pasid, sizeof(pasid), "-");
    /* A source-id that is a device's DMA alias names that device. */
    if (r->alias)
        ksnprintf(owner, sizeof(owner), " alias-of=%s", vtd_sid_str(r->owner, sid));
    return ksnprintf(
        buf, len, "fault: unit=%u sid=%s pasid=%s addr=%#llx type=%s reason=%#04x (%s)%s", r->unit,
        vtd_sid_str(r->sid, sid), pasid, (unsigned long long)r->addr,
        r->is_write ? "write" : "read", r->reason, vtd_fault_reason_name(r->reason), owner);
}

void vtd_fault_reset(void)
{
    memset(fault_log, 0, sizeof(fault_log));
    log_seq = printed_seq = 0;
    sid_slots = 0;
    rate_window_us = 0;
    rate_lines = 0;
    rate_suppressed = 0;
    lines_printed = lines_suppressed = overflows_reported = 0;
}

/* ---- scanning (spec 7.2.1 primary fault logging) ------------------------------- */

static void scan_once(struct vtd_unit *u, unsigned *found)
{
    unsigned base = u->caps.fro * 16;
    for (unsigned i = 0; i < u->caps.nfr; i++) {
        unsigned off = base + i * 16;
        uint64_t hi = vtd_read64(u, off + 8);
        if (!(hi & VTD_FRCD_F))
            continue;
        uint64_t lo = vtd_read64(u, off);
        uint32_t seq = log_seq + 1;
        struct vtd_fault_record *r = &fault_log[seq % VTD_FAULT_LOG];
        r->seq = seq;
        r->unit = (uint8_t)u->index;
        r->reason = (uint8_t)VTD_FRCD_FR(hi);
        r->sid = (uint16_t)VTD_FRCD_SID(hi);
        r->pasid_present = hi & VTD_FRCD_PP;
        r->pasid = (uint32_t)VTD_FRCD_PV(hi);
        r->exec = hi & VTD_FRCD_EXE;
        r->priv = hi & VTD_FRCD_PRIV;
        r->is_write = !(hi & VTD_FRCD_T);
        r->addr = lo & VTD_FRCD_FI_MASK;
        r->scalable = u->mode == VTD_MODE_SCALABLE;
        /* Whose fault it is, decided now: the alias may change owner
         * before the record is read (a walk of the unit's list, safe in
         * the interrupt handler: a list that grows keeps its old copy). */
        int owner = vtd_alias_owner(u, r->sid);
        r->alias = owner >= 0;
        r->owner = r->alias ? (uint16_t)owner : 0;
        __atomic_store_n(&log_seq, seq, __ATOMIC_RELEASE);
        count_sid(r->sid);
        u->fault.total++;
        (*found)++;
        /* F is RW1C in the top dword (bit 127); a 32-bit write touches
         * nothing else (11.4.14). */
        vtd_write32(u, off + 12, (uint32_t)(VTD_FRCD_F >> 32));
    }
    if (vtd_read32(u, VTD_REG_FSTS) & VTD_FSTS_PFO) {
        /* Overflow: faults were dropped while every register was full. */
        u->fault.overflows++;
        vtd_write32(u, VTD_REG_FSTS, (uint32_t)VTD_FSTS_PFO);
    }
}

unsigned vtd_fault_scan(struct vtd_unit *u)
{
    struct vtd_fault_state *f = &u->fault;
    unsigned found = 0;
    if (__atomic_exchange_n(&f->scanning, 1, __ATOMIC_ACQUIRE)) {
        f->rescan = 1; /* the scan in progress picks it up */
        return 0;
    }
    do {
        f->rescan = 0;
        uint64_t overflows = f->overflows;
        scan_once(u, &found);
        if (f->overflows != overflows)
            found++;
    } while (__atomic_load_n(&f->rescan, __ATOMIC_ACQUIRE));
    __atomic_store_n(&f->scanning, 0, __ATOMIC_RELEASE);
    return found;
}

void vtd_fault_irq(struct vtd_unit *u)
{
    u->fault.irqs++;
    vtd_fault_scan(u);
}

/* The rate limit's clock: the first unit's (every unit's ops read the
 * same CPU clock). */
static uint64_t now_us(struct vtd_unit *const *units, unsigned n)
{
    if (!n)
        return 0;
    const struct vtd_ops *o = units[0]->ops;
    return o->now_us(o->ctx);
}

/* Close the rate window once a second has passed, saying how many lines it
 * dropped.  Checked on every call, not only when new faults arrive: the
 * last window of a storm must be reported even if no fault follows. */
static void rate_window_roll(uint64_t now)
{
    if (now - rate_window_us < 1000000)
        return;
    if (rate_suppressed)
        ktap_diag("faults: %u more fault lines suppressed (rate limit %u/s)", rate_suppressed,
                  VTD_FAULT_PRINT_BURST);
    rate_window_us = now;
    rate_lines = 0;
    rate_suppressed = 0;
}

void vtd_fault_print_pending(struct vtd_unit *const *units, unsigned n)
{
    struct vtd_fault_totals t;
    rate_window_roll(now_us(units, n));
    /* PFO is counted in the scan (maybe in the interrupt handler): one
     * line per window with the count, never one per overflow. */
    vtd_fault_totals_of(units, n, &t);
    uint64_t ov = t.overflows;
    if (ov != overflows_reported && rate_lines < VTD_FAULT_PRINT_BURST) {
        ktap_diag("faults: primary fault overflow (FSTS.PFO) %llu time(s): faults were dropped "
                  "by the hardware",
                  (unsigned long long)(ov - overflows_reported));
        overflows_reported = ov;
        rate_lines++;
    }
    uint32_t last = __atomic_load_n(&log_seq, __ATOMIC_ACQUIRE);
    if (last == printed_seq)
        return;
    if (last - printed_seq > VTD_FAULT_LOG) {
        uint32_t lost = last - printed_seq - VTD_FAULT_LOG;
        ktap_diag("faults: %u records overwritten before they could be printed", lost);
        lines_suppressed += lost;
        printed_seq = last - VTD_FAULT_LOG;
    }
    char line[192];
    while (printed_seq != last) {
        printed_seq++;
        if (rate_lines >= VTD_FAULT_PRINT_BURST) {
            rate_suppressed++;
            lines_suppressed++;
            continue;
        }
        rate_lines++;
        lines_printed++;
        vtd_fault_format(&fault_log[printed_seq % VTD_FAULT_LOG], line, sizeof(line));
        ktap_diag("%s", line);
    }
}

void vtd_fault_poll_units(struct vtd_unit *const *units, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        vtd_fault_scan(units[i]);
    vtd_fault_print_pending(units, n);
}

void vtd_fault_totals_of(struct vtd_unit *const *units, unsigned n, struct vtd_fault_totals *t)
{
    memset(t, 0, sizeof(*t));
    for (unsigned i = 0; i < n; i++) {
        t->recorded += units[i]->fault.total;
        t->overflows += units[i]->fault.overflows;
        t->irqs += units[i]->fault.irqs;
    }
    t->printed = lines_printed;
    t->suppressed = lines_suppressed;
}

void vtd_fault_summary_of(struct vtd_unit *const *units, unsigned n, bool always)
{
    vtd_fault_print_pending(units, n);
    struct vtd_fault_totals t;
    vtd_fault_totals_of(units, n, &t);
    if (!always && !t.recorded && !t.overflows)
        return;
    /* The open window's drops are part of the summary's count already;
     * say them here rather than wait for a window that may never roll. */
    if (rate_suppressed)
        ktap_diag("faults: %u more fault lines suppressed (rate limit %u/s)", rate_suppressed,
                  VTD_FAULT_PRINT_BURST);
    rate_suppressed = 0;
    ktap_diag("faults: %llu recorded, %llu printed, %llu suppressed, PFO seen %llu times, "
              "%llu fault events",
              (unsigned long long)t.recorded, (unsigned long long)t.printed,
              (unsigned long long)t.suppressed, (unsigned long long)t.overflows,
              (unsigned long long)t.irqs);
}

/* ---- fault event interrupt (spec 5.1.6 compatibility-format MSI) ---------- */

void vtd_fault_arm_msi(struct vtd_unit *u, uint8_t vector, uint32_t msi_dest)
{
    vtd_write32(u, VTD_REG_FECTL, (uint32_t)VTD_ECTL_IM);
    vtd_write32(u, VTD_REG_FEDATA, vector); /* fixed delivery, edge */
    vtd_write32(u, VTD_REG_FEADDR, 0xfee00000u | (msi_dest & 0xff) << 12);
    vtd_write32(u, VTD_REG_FEUADDR, 0);
    u->fault.vector = vector;
    u->fault.msi_armed = true;
    vtd_write32(u, VTD_REG_FECTL, 0); /* unmask */
}

void vtd_fault_mask(struct vtd_unit *u)
{
    vtd_write32(u, VTD_REG_FECTL, (uint32_t)VTD_ECTL_IM);
    u->fault.msi_armed = false;
}
