/* The traffic suite's figures: per-run lines, the overhead line, the
 * bench=traffic table, and where high_mem=1 put the buffers. */
#include "arch/x86/paging.h"
#include "arch/x86/percpu.h"
#include "drivers/fbcon.h"
#include "iommu/vtd.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/page.h"
#include "lib/printf.h"
#include "app/results.h"
#include "app/run.h"
#include "suites/traffic.h"

uint64_t tr_iops(const struct run_result *r)
{
    uint64_t us = r->st.elapsed_us ? r->st.elapsed_us : 1;
    return r->st.ops * 1000000 / us;
}

/* MB/s (10^6 bytes) in tenths. */
uint64_t tr_mbps10(const struct run_result *r)
{
    uint64_t us = r->st.elapsed_us ? r->st.elapsed_us : 1;
    return r->st.bytes * 10 / us;
}

/* "+3.1%" / "-0.4%": how much lower x is than base (positive: slower). */
const char *tr_overhead(uint64_t base, uint64_t x, char *buf, unsigned len)
{
    if (!base) {
        ksnprintf(buf, len, "n/a");
        return buf;
    }
    int64_t pm = ((int64_t)base - (int64_t)x) * 1000 / (int64_t)base;
    uint64_t a = pm < 0 ? (uint64_t)-pm : (uint64_t)pm;
    ksnprintf(buf, len, "%s%llu.%llu%%", pm < 0 ? "-" : "+", (unsigned long long)(a / 10),
              (unsigned long long)(a % 10));
    return buf;
}

void tr_print_run(const char *label, const struct run_result *r)
{
    const struct traffic_stats *st = &r->st;
    uint64_t mb = tr_mbps10(r);
    ktap_diag("traffic %s: %llu ops (%llu reads, %llu writes) in %llu ms, qd %u io %u B: "
              "%llu IOPS, %llu.%llu MB/s; latency p50 <%llu us p99 <%llu us p99.9 <%llu us "
              "max %llu us; max gap %llu us; errors %llu mismatches %llu faults %u; "
              "read back %llu written units at stop",
              label, (unsigned long long)st->ops, (unsigned long long)st->reads,
              (unsigned long long)st->writes, (unsigned long long)(st->elapsed_us / 1000), r->depth,
              r->io_bytes, (unsigned long long)tr_iops(r), (unsigned long long)(mb / 10),
              (unsigned long long)(mb % 10), (unsigned long long)traffic_percentile_us(st, 500),
              (unsigned long long)traffic_percentile_us(st, 990),
              (unsigned long long)traffic_percentile_us(st, 999),
              (unsigned long long)st->max_latency_us, (unsigned long long)st->max_gap_us,
              (unsigned long long)st->errors, (unsigned long long)st->mismatches, r->faults,
              (unsigned long long)st->read_back);
}

void tr_print_overhead(const struct tr *s)
{
    char line[200], o[16];
    int n = 0;
    const struct run_result *base = &s->res[0]; /* TR_OFF */
    for (int i = 1; i < TR_RUNS; i++) {
        int x = tr_runs[i];
        const struct run_result *r = &s->res[i];
        if (!r->pass || !base->pass)
            n += ksnprintf(line + n, sizeof(line) - n, "; %s %s", tr_run_name(x),
                           s->xs.supported[x] ? "failed" : "skipped");
        else
            n += ksnprintf(line + n, sizeof(line) - n, "; %s %s (%llu IOPS)", tr_run_name(x),
                           tr_overhead(tr_iops(base), tr_iops(r), o, sizeof(o)),
                           (unsigned long long)tr_iops(r));
    }
    ktap_diag("traffic overhead vs translation off (%llu IOPS)%s",
              (unsigned long long)tr_iops(base), line);
}

/* The translating state whose domain the bad-mapping case edits. */
void tr_case_bench(struct tr *s)
{
    static const struct {
        uint32_t qd, io_kib;
    } rows[] = {{1, 4}, {8, 4}, {32, 4}, {8, 64}};
    if (!config_list_has(cfg.bench, "traffic")) {
        ktap_case(KTAP_SKIP, "bench", "bench=traffic not requested");
        return;
    }
    fbcon_status("bench");
    uint64_t us = 5ull * cfg.traffic_ms * 1000;
    struct why why = {""};
    char o[16], label[32];
    ktap_diag("bench: %llu ms per row, traffic on %s", (unsigned long long)(us / 1000),
              cpus_online > 1 ? "CPU 1" : "the bootstrap CPU");
    ktap_diag("bench: xlate  qd  io_KiB     IOPS     MB/s  p50_us  p99_us  gap_us  vs_off");
    for (unsigned i = 0; i < ARRAY_SIZE(rows); i++) {
        uint64_t base = 0;
        for (int k = 0; k < TR_RUNS; k++) {
            int x = tr_runs[k];
            if (!tr_supported(s, x))
                continue;
            struct run_result r;
            struct why e;
            bool selected = tr_select(s, x, &e);
            ksnprintf(label, sizeof(label), "%s qd %u io %u KiB", tr_run_name(x), rows[i].qd,
                      rows[i].io_kib);
            if (!selected || !tr_measured_run(s, rows[i].qd, rows[i].io_kib, us, &r)) {
                if (selected && r.lost) {
                    ktap_case(KTAP_SKIP, "bench", "%s", r.why.text);
                    return;
                }
                if (!why.text[0])
                    why_set(&why, "%s: %s", label, !selected ? e.text : r.why.text);
                continue;
            }
            if (x == TR_OFF)
                base = tr_iops(&r);
            uint64_t mb = tr_mbps10(&r);
            ktap_diag("bench: %-5s %3u %7u %8llu %6llu.%llu %7llu %7llu %7llu  %s", tr_run_name(x),
                      r.depth, rows[i].io_kib, (unsigned long long)tr_iops(&r),
                      (unsigned long long)(mb / 10), (unsigned long long)(mb % 10),
                      (unsigned long long)traffic_percentile_us(&r.st, 500),
                      (unsigned long long)traffic_percentile_us(&r.st, 990),
                      (unsigned long long)r.st.max_gap_us,
                      x == TR_OFF ? "-" : tr_overhead(base, tr_iops(&r), o, sizeof(o)));
        }
    }
    if (why.text[0])
        results_note_failure("traffic", "bench");
    ktap_case(why.text[0] ? KTAP_FAIL : KTAP_PASS, "bench", "%s", why.text);
}

/* ---- memory above 4 GiB ----------------------------------------------------- */

static bool ram_above_4g(void)
{
    for (uint32_t i = 0; i < boot->nranges; i++) {
        const struct mem_range *r = &boot->ranges[i];
        if (r->kind == MEM_FREE && r->base + r->pages * PAGE_SIZE > FOUR_GIB)
            return true;
    }
    return false;
}

static const char *stage_name(const struct vtd_domain *d)
{
    return d->pt.params.format == PGTABLE_FIRST_STAGE ? "first-stage" : "second-stage";
}

/* The domains must translate `iova` to itself, as the IOMMU will walk it. */
static bool domains_translate(const struct tr *s, uint64_t iova, struct why *why)
{
    for (int i = 0; i < XS_DOMAINS; i++) {
        if (!s->xs.dom_ok[i])
            continue;
        struct pgtable_xlate x;
        pgtable_translate(&s->xs.dom[i].pt, iova, PGTABLE_ACC_READ | PGTABLE_ACC_WRITE, &x);
        if (x.fault != PGTABLE_XLATE_OK || x.phys != iova) {
            why_set(why, "%s table: IOVA %#llx -> %s %#llx", stage_name(&s->xs.dom[i]),
                    (unsigned long long)iova, pgtable_fault_name(x.fault),
                    (unsigned long long)x.phys);
            return false;
        }
    }
    return true;
}

void tr_case_high_mem(struct tr *s)
{
    const char *name = "high_mem_buffers";
    if (!cfg.high_mem) {
        ktap_case(KTAP_SKIP, name, "high_mem=1 not requested");
        return;
    }
    if (!s->nvme_up || !s->traffic.data) {
        ktap_case(KTAP_FAIL, name, "no NVMe buffers to look at");
        return;
    }
    uint64_t lo = ~0ull, hi = 0;
    struct why why = {""};
    const struct dma_pool *p = &s->nvme.pool;
    for (unsigned i = 0; i < p->count; i++) {
        const struct dma_region *r = &p->regions[i];
        lo = r->phys < lo ? r->phys : lo;
        hi = r->phys + r->len > hi ? r->phys + r->len : hi;
        /* The CPU reaches it through our page tables, the device through
         * the IOMMU's: check both ends of every region. */
        for (uint64_t a = r->phys; !why.text[0] && a < r->phys + r->len; a += r->len - PAGE_SIZE) {
            if (!paging_is_mapped(a))
                why_set(&why, "%#llx not in the firmware's page tables", (unsigned long long)a);
            else
                domains_translate(s, a, &why);
            if (r->len == PAGE_SIZE)
                break;
        }
    }
    uint64_t data = virt_to_phys(s->traffic.data);
    ktap_diag("high_mem: %u NVMe regions (queues, identify page, data, PRP lists) in "
              "[%#llx, %#llx); traffic data at %#llx (%llu KiB), PRP lists at %#llx",
              p->count, (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)data,
              (unsigned long long)(s->traffic.data_bytes / 1024),
              (unsigned long long)virt_to_phys(s->traffic.lists));
    for (int i = 0; i < XS_DOMAINS; i++)
        if (s->xs.dom_ok[i])
            ktap_diag("high_mem: %s page table root at %#llx", stage_name(&s->xs.dom[i]),
                      (unsigned long long)pgtable_root(&s->xs.dom[i].pt));
    if (s->xs.u)
        ktap_diag("high_mem: unit %d root table at %#llx, invalidation queue at %#llx",
                  s->xs.u->index, (unsigned long long)virt_to_phys(s->xs.u->root),
                  (unsigned long long)s->xs.u->qi.queue_phys);
    if (cfg.json) {
        int ss = xs_domain_of(XS_SS_A), fs = xs_domain_of(XS_FS_A);
        kprintf("json: {\"case\":\"high_mem_buffers\",\"lo\":%llu,\"hi\":%llu,\"data\":%llu,"
                "\"ss_root\":%llu,\"fs_root\":%llu,\"root_table\":%llu,\"queue\":%llu}\n",
                (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)data,
                (unsigned long long)(s->xs.dom_ok[ss] ? pgtable_root(&s->xs.dom[ss].pt) : 0),
                (unsigned long long)(s->xs.dom_ok[fs] ? pgtable_root(&s->xs.dom[fs].pt) : 0),
                (unsigned long long)(s->xs.u ? virt_to_phys(s->xs.u->root) : 0),
                (unsigned long long)(s->xs.u ? s->xs.u->qi.queue_phys : 0));
    }
    if (!why.text[0] && lo < FOUR_GIB) {
        if (!ram_above_4g()) {
            ktap_case(KTAP_SKIP, name, "no free RAM above 4 GiB (buffers at %#llx)",
                      (unsigned long long)lo);
            return;
        }
        why_set(&why, "a buffer at %#llx is below 4 GiB", (unsigned long long)lo);
    }
    if (!why.text[0])
        ktap_diag("high_mem: all NVMe DMA buffers above 4 GiB, mapped by the CPU and every domain");
    else
        results_note_failure("traffic", name);
    ktap_case(why.text[0] ? KTAP_FAIL : KTAP_PASS, name, "%s", why.text);
}
