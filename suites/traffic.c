/* Suite `traffic`: what each translation costs, and what a bad mapping does.
 *
 * The NVMe controller keeps verified traffic going for cfg.traffic_ms under
 * every translation its unit supports: translation off (the baseline), then
 * pass-through, second stage and first stage (legacy mode: PT and second
 * stage through the context entry).  Each run must be clean (no command
 * error, no data mismatch, no fault from the device) and is measured: IOPS,
 * MB/s, completion latency percentiles, longest completion gap; the last
 * line compares each translation with the baseline.
 *
 * Every DMA buffer is mapped at its physical address in every domain
 * (identity IOVAs), so one controller set-up serves all translations.  That
 * also makes the bad-mapping case simple: one data buffer's page is
 * unmapped in the domain while traffic runs, the faults must come from the
 * NVMe's source id at that page, the traffic generator must see the damage,
 * and after the page is mapped again traffic must be clean.
 *
 * bench=traffic adds a longer table over queue depths and transfer sizes;
 * high_mem=1 puts the DMA buffers (and page tables) above 4 GiB. */
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/tsc.h"
#include "drivers/fbcon.h"
#include "drivers/nvme.h"
#include "drivers/pci.h"
#include "drivers/traffic.h"
#include "iommu/domain.h"
#include "iommu/pasid_write.h"
#include "iommu/vtd.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/page.h"
#include "lib/parse.h"
#include "lib/printf.h"
#include "app/results.h"
#include "app/platform.h"
#include "suites/pt_fastpath.h"
#include "app/run.h"
#include "app/suite.h"
#include "suites/traffic.h"
#include "app/nvme_pick.h"
#include "app/vtd_setup.h"

#define AP_MARGIN_US 10000000 /* on top of a run's length before CPU 1 counts as stuck */

static struct tr tr;

const int tr_runs[TR_RUNS] = {TR_OFF, XS_PT, XS_SS_A, XS_FS_A};

const char *tr_run_name(int x)
{
    return x == TR_OFF ? "off" : xs_kind(x);
}

bool tr_supported(const struct tr *s, int x)
{
    return x == TR_OFF || s->xs.supported[x];
}

/* ---- translations ------------------------------------------------------------- */

/* Which translations can run; the unit's tables are built here. */
static void plan_translations(struct tr *s, struct vtd_unit *u, uint16_t sid,
                              const char *no_unit_why)
{
    s->xs.u = u;
    s->xs.sid = sid;
    if (!u) {
        xs_set_none(&s->xs, no_unit_why);
        return;
    }
    s->xs.legacy = u->mode == VTD_MODE_LEGACY;
    if (!s->xs.legacy && !u->ops->store128) {
        xs_set_none(&s->xs, "CMPXCHG16B missing: PASID entries cannot be updated atomically");
        return;
    }
    if (!s->xs.legacy) {
        if (vtd_attach_scalable(u, sid, 0)) {
            xs_set_none(&s->xs, "cannot attach the NVMe controller (scalable context entry)");
            return;
        }
        s->attached = true;
        s->pasid = vtd_rid_pasid(u, sid);
    }
    xs_set_build(&s->xs, u, sid,
                 XS_BIT(XS_BLOCKED) | XS_BIT(XS_PT) | XS_BIT(XS_SS_A) | XS_BIT(XS_FS_A));
    s->dma_map = (struct identity_map){s->xs.dom, s->xs.dom_ok, XS_DOMAINS, "traffic"};
}

/* Put the device under translation x; false with the reason in why.  The
 * controller must be idle: these are not hitless-update tests. */
bool tr_select(struct tr *s, int x, struct why *why)
{
    struct vtd_unit *u = s->xs.u;
    if (x == TR_OFF) {
        if (u && u->translating && !vtd_disable_translation(u))
            return why_set(why, "could not turn translation off (GSTS.TES stays set)");
        return true;
    }
    struct vtd_write_result r = xs_set_switch(&s->xs, x, ENTRY_SYNC_STRATEGY_HITLESS);
    if (!r.ok)
        return why_set(why, "%s", r.why.text[0] ? r.why.text : "entry update refused");
    s->used_pt |= x == XS_PT;
    if (!s->xs.u->translating && !vtd_enable_translation(s->xs.u))
        return why_set(why, "could not turn translation on (GSTS.TES never set)");
    return true;
}

/* ---- the controller and its traffic ------------------------------------------ */

/* (Re)initialise the controller: after a fatal status, or with deeper queues. */
static bool nvme_bringup(struct tr *s, uint32_t depth)
{
    s->nvme_up = false;
    /* The traffic buffers went back with the pool: identity IOVAs would
     * make stale pointers look valid in the new one, so forget them. */
    s->traffic.data = NULL;
    struct dma_space space = identity_space(&s->dma_map);
    if (nvme_reset(&s->nvme, s->pci, &space, vtd_iova_limit(s->xs.u)) ||
        nvme_create_io_queues(&s->nvme, depth + 1))
        return false;
    nvme_write_policy(&s->nvme, cfg.nvme_write);
    s->io_queue_depth = depth;
    s->nvme_up = true;
    return true;
}

static struct traffic_config traffic_cfg(struct tr *s, uint32_t qd, uint32_t io_kib)
{
    uint64_t io = io_kib * 1024ull, window = 4ull * qd * io;
    /* Room for four times the data in flight, so units rarely collide. */
    struct traffic_config tc = {
        .queue_depth = qd,
        .io_bytes = (uint32_t)io,
        .window_bytes = window > (4u << 20) ? window : 4u << 20,
        .write = s->nvme.writable,
        .seed = ++s->seed,
    };
    return tc;
}

struct ap_job {
    struct traffic *t;
    uint64_t us;
    bool ok;
};

static void ap_worker(void *arg)
{
    struct ap_job *j = arg;
    percpu_set_activity("NVMe traffic (suite traffic)");
    j->ok = traffic_run_for(j->t, j->us);
}

/* Start a timed stretch of traffic on CPU 1 when there is one; with one
 * CPU the caller polls it (traffic_run_for). */
static bool ap_start(struct tr *s, struct ap_job *j, uint64_t us)
{
    *j = (struct ap_job){&s->traffic, us, false};
    s->on_ap = !s->ap_stuck && cpus_online > 1 && smp_run_on(1, ap_worker, j);
    return s->on_ap;
}

static bool ap_finish(struct tr *s, struct ap_job *j)
{
    if (!s->on_ap)
        return traffic_run_for(&s->traffic, j->us);
    if (!smp_wait(1, j->us + AP_MARGIN_US)) {
        /* It still polls the queue: nothing else may touch the traffic. */
        s->ap_stuck = true;
        ktap_diag("traffic: CPU 1 did not finish a %llu us run", (unsigned long long)j->us);
        ksnprintf(s->lost, sizeof(s->lost),
                  "CPU 1 has been stuck in a traffic run since an earlier case (reported there)");
        return false;
    }
    return j->ok;
}

static bool run_traffic(struct tr *s, uint64_t us)
{
    struct ap_job j;
    ap_start(s, &j, us);
    return ap_finish(s, &j);
}

static void print_fault_lines(uint32_t mark, int sid)
{
    struct vtd_fault_record rec[4];
    char line[200];
    unsigned n = vtd_faults_since(mark, sid, rec, 4);
    for (unsigned i = 0; i < n && i < 4; i++) {
        vtd_fault_format(&rec[i], line, sizeof(line));
        ktap_diag("%s", line);
    }
}

/* One measured run: start (pre-fill), `us` of steady traffic, stop. */
bool tr_measured_run(struct tr *s, uint32_t qd, uint32_t io_kib, uint64_t us, struct run_result *r)
{
    memset(r, 0, sizeof(*r));
    r->ran = true;
    if (s->lost[0]) {
        r->lost = true;
        why_set(&r->why, "%s", s->lost);
        return false;
    }
    if (!s->nvme_up || s->nvme.dead || nvme_check_fatal(&s->nvme) ||
        qd + 1 > s->io_queue_depth + 1) {
        uint32_t depth = qd > s->io_queue_depth ? qd : s->io_queue_depth;
        if (!nvme_bringup(s, depth)) {
            why_set(&r->why, "NVMe reset failed: %s", s->nvme.error.text);
            ksnprintf(s->lost, sizeof(s->lost),
                      "the NVMe could not be reset in an earlier case (reported there)");
            return false;
        }
    }
    struct traffic_config tc = traffic_cfg(s, qd, io_kib);
    uint32_t mark = vtd_fault_seq();
    bool ok = traffic_start(&s->traffic, &s->nvme, &tc) == 0;
    if (ok)
        ok = run_traffic(s, us);
    if (!s->ap_stuck)
        traffic_stop(&s->traffic);
    vtd_fault_poll();
    r->faults = s->xs.u ? vtd_faults_since(mark, s->xs.sid, NULL, 0) : 0;
    r->st = s->traffic.st;
    r->depth = s->traffic.depth;
    r->io_bytes = tc.io_bytes;
    if (s->traffic.failed || !ok)
        why_set(&r->why, "%s",
                s->traffic.error.text[0] ? s->traffic.error.text : "traffic did not run");
    else if (r->st.errors || r->st.mismatches || r->faults)
        why_set(&r->why, "%llu errors, %llu mismatches, %u faults",
                (unsigned long long)r->st.errors, (unsigned long long)r->st.mismatches, r->faults);
    else if (!r->st.ops)
        why_set(&r->why, "no command completed");
    if (r->faults && r->why.text[0])
        print_fault_lines(mark, s->xs.sid);
    r->pass = !r->why.text[0];
    return r->pass;
}

enum ktap_result tr_result(const struct run_result *r)
{
    return r->lost ? KTAP_SKIP : r->pass ? KTAP_PASS : KTAP_FAIL;
}

/* ---- cases ------------------------------------------------------------------------ */

static void case_steady(struct tr *s, int i)
{
    int x = tr_runs[i];
    char name[32];
    ksnprintf(name, sizeof(name), "steady_%s", tr_run_name(x));
    if (!tr_supported(s, x)) {
        ktap_case(KTAP_SKIP, name, "%s", s->xs.why[x]);
        return;
    }
    fbcon_status(name);
    struct run_result *r = &s->res[i];
    struct why why;
    if (!tr_select(s, x, &why)) {
        r->ran = true;
        why_set(&r->why, "cannot select %s: %s", tr_run_name(x), why.text);
    } else {
        tr_measured_run(s, cfg.queue_depth, cfg.io_kib, (uint64_t)cfg.traffic_ms * 1000, r);
        tr_print_run(tr_run_name(x), r);
    }
    if (tr_result(r) == KTAP_FAIL)
        results_note_failure("traffic", name);
    ktap_case(tr_result(r), name, "%s", r->why.text);
}

static int bad_mapping_target(const struct tr *s, struct vtd_domain **d)
{
    static const int candidates[] = {XS_SS_A, XS_FS_A};
    for (unsigned i = 0; i < 2; i++) {
        int x = candidates[i], k = xs_domain_of(x);
        if (s->xs.supported[x] && s->xs.dom_ok[k]) {
            *d = (struct vtd_domain *)&s->xs.dom[k];
            return x;
        }
    }
    return -1;
}

/* Faults in [mark, now) from the NVMe, and whether every one of them (and
 * no other device's) is at `page`. */
static unsigned bad_mapping_faults(const struct tr *s, uint32_t mark, uint64_t page,
                                   bool *attributed)
{
    struct vtd_fault_record rec[16];
    unsigned n = vtd_faults_since(mark, s->xs.sid, rec, 16);
    unsigned all = vtd_faults_since(mark, -1, NULL, 0);
    /* A foreign device's faults are not a misattribution (real-hardware.md). */
    unsigned foreign = vtd_setup_foreign_faults_since(s->xs.u, mark);
    *attributed = n > 0 && all == n + foreign;
    for (unsigned i = 0; i < n && i < 16; i++)
        *attributed &= (rec[i].addr & ~0xfffull) == page;
    char line[200];
    for (unsigned i = 0; i < n && i < 2; i++) {
        vtd_fault_format(&rec[i], line, sizeof(line));
        ktap_diag("wrong_mapping: %s", line);
    }
    if (all != n)
        ktap_diag("wrong_mapping: %u fault(s) from other sources (%u foreign)", all - n, foreign);
    return n;
}

/* A timed run during which slot 0's data page disappears from domain d
 * (under load when CPU 1 carries the traffic).  Slot 0 is the lowest free
 * slot, which the generator always reuses first, so it is always busy.
 * Returns the unmapped page (0: traffic did not start), *r the run. */
static uint64_t run_with_hole(struct tr *s, int x, struct vtd_domain *d, uint32_t *mark,
                              struct run_result *r)
{
    struct traffic_config tc = traffic_cfg(s, cfg.queue_depth, cfg.io_kib);
    memset(r, 0, sizeof(*r));
    r->ran = true;
    if (traffic_start(&s->traffic, &s->nvme, &tc)) {
        why_set(&r->why, "traffic start: %s", s->traffic.error.text);
        return 0;
    }
    uint64_t page = s->traffic.slots[0].buf_iova & ~0xfffull;
    uint64_t us = (uint64_t)cfg.traffic_ms * 1000;
    struct ap_job j;
    bool ap = ap_start(s, &j, us);
    if (ap)
        udelay(us / 4);
    *mark = vtd_fault_seq();
    int rc = vtd_domain_unmap(d, page, 0x1000, s->pasid);
    ktap_diag("wrong_mapping: %s domain %u: IOVA %#llx (slot 0 data, phys %#llx) unmapped%s "
              "while traffic runs on %s",
              tr_run_name(x), d->did, (unsigned long long)page,
              (unsigned long long)virt_to_phys(s->traffic.slots[0].buf), rc ? " (FAILED)" : "",
              ap ? "CPU 1" : "the bootstrap CPU");
    if (ap)
        ap_finish(s, &j);
    else
        traffic_run_for(&s->traffic, us);
    if (!s->ap_stuck)
        traffic_stop(&s->traffic);
    vtd_fault_poll();
    r->st = s->traffic.st;
    r->depth = s->traffic.depth;
    r->io_bytes = tc.io_bytes;
    if (rc)
        why_set(&r->why, "unmap failed: %s", pgtable_strerror(rc));
    return page;
}

/* What the hole must have caused: faults from the NVMe, all at the page,
 * and damage the traffic generator saw.  Empty why when it did. */
static void judge_hole(const struct tr *s, uint32_t mark, uint64_t page, struct run_result *r,
                       struct why *why)
{
    bool attributed;
    r->faults = bad_mapping_faults(s, mark, page, &attributed);
    tr_print_run("with the bad mapping", r);
    if (!r->faults)
        why_set(why, "no fault from the NVMe%s",
                s->used_pt && !vtd_options.pt_ctx_flush
                    ? "; the device used pass-through before: try quirk=pt_ctx_flush"
                    : "");
    else if (!attributed)
        why_set(why, "faults not all from the NVMe at IOVA %#llx", (unsigned long long)page);
    else if (!r->st.errors && !r->st.mismatches)
        why_set(why, "%u faults but the traffic generator saw no error or mismatch", r->faults);
    else
        ktap_diag("wrong_mapping: %u fault(s) from the NVMe at the unmapped page; the traffic "
                  "generator saw %llu errors and %llu mismatches",
                  r->faults, (unsigned long long)r->st.errors,
                  (unsigned long long)r->st.mismatches);
}

/* While traffic runs, one data buffer page disappears from the domain;
 * then it is mapped again and a fresh run must be clean. */
static void case_wrong_mapping(struct tr *s)
{
    const char *name = "wrong_mapping";
    struct vtd_domain *d;
    int x = bad_mapping_target(s, &d);
    if (x < 0) {
        ktap_case(KTAP_SKIP, name, "needs a translating domain (second or first stage): %s",
                  s->xs.why[XS_SS_A]);
        return;
    }
    fbcon_status(name);
    struct why why = {""};
    struct why e;
    bool selected = tr_select(s, x, &e);
    struct run_result r;
    if (!selected || !tr_measured_run(s, cfg.queue_depth, cfg.io_kib, 20000, &r)) {
        ktap_case(!selected ? KTAP_FAIL : tr_result(&r), name, "%s before the bad mapping: %s",
                  tr_run_name(x), !selected ? e.text : r.why.text);
        return;
    }
    uint32_t mark = 0;
    uint64_t page = run_with_hole(s, x, d, &mark, &r);
    if (r.why.text[0])
        why_set(&why, "%s", r.why.text);
    else
        judge_hole(s, mark, page, &r, &why);
    /* Fix the mapping; tr_measured_run resets the controller if the damage
     * left it failed. */
    if (page) {
        int rc = vtd_domain_map(d, page, page, 0x1000, PGTABLE_R | PGTABLE_W);
        if (rc && !why.text[0])
            why_set(&why, "remap failed: %s", pgtable_strerror(rc));
    }
    bool recovered =
        tr_measured_run(s, cfg.queue_depth, cfg.io_kib, (uint64_t)cfg.traffic_ms * 1000, &r);
    tr_print_run("after the fix", &r);
    if (!why.text[0] && !recovered)
        why_set(&why, "traffic did not recover after the fix: %s", r.why.text);
    if (why.text[0])
        results_note_failure("traffic", name);
    ktap_case(why.text[0] ? KTAP_FAIL : KTAP_PASS, name, "%s", why.text);
}

/* ---- the pass-through fast-path probe without an edu (suites/pt_fastpath.h) ---- */

static bool probe_to_pt(void *ctx)
{
    return tr_select(ctx, XS_PT, NULL);
}

static bool probe_to_translating(void *ctx)
{
    struct tr *s = ctx;
    return tr_select(s, s->xs.supported[XS_SS_A] ? XS_SS_A : XS_FS_A, NULL);
}

/* One page read from the disk into IOVA phys: the controller writes it. */
static bool probe_write(void *ctx, uint64_t phys)
{
    struct tr *s = ctx;
    struct nvme_prp prp = {phys, 0};
    return nvme_rw_sync(&s->nvme, false, 0, PAGE_SIZE / s->nvme.lba_size, &prp) >= 0;
}

/* The NVMe as the probe's DMA engine when no edu ran it (a lab machine):
 * the page it reads into comes from the allocator, not the controller's
 * DMA space, so the translating domains do not map it. */
static void probe_pt_fastpath(struct tr *s)
{
    bool translating = s->xs.supported[XS_SS_A] || s->xs.supported[XS_FS_A];
    if (!pt_fastpath_pending() || s->xs.legacy || !s->xs.supported[XS_PT] || !translating ||
        !s->nvme.lba_size || s->nvme.lba_size > PAGE_SIZE)
        return;
    struct pt_fastpath_dev dev = {
        .name = "NVMe",
        .translating = s->xs.supported[XS_SS_A] ? "SS" : "FS",
        .u = s->xs.u,
        .sid = s->xs.sid,
        .dma_limit = vtd_iova_limit(s->xs.u),
        .ctx = s,
        .to_pt = probe_to_pt,
        .to_translating = probe_to_translating,
        .write = probe_write,
    };
    pt_fastpath_probe_with(&dev);
}

/* ---- set-up and tear-down ------------------------------------------------------ */

static void report_setup(const struct tr *s)
{
    char sid[8];
    ktap_diag("traffic: NVMe %s \"%s\" on %s%s, %s, queue depth %u, %u KiB per command, "
              "%u ms per translation, traffic on %s",
              vtd_sid_str(s->xs.sid, sid), s->nvme.model,
              s->xs.u ? (s->xs.legacy ? "a legacy-mode unit" : "a scalable-mode unit") : "no unit",
              cfg.high_mem ? ", buffers preferred above 4 GiB" : "",
              s->nvme.writable ? "read/write" : "read-only", cfg.queue_depth, cfg.io_kib,
              cfg.traffic_ms, cpus_online > 1 ? "CPU 1" : "the bootstrap CPU");
}

/* Leave nothing behind: controller off, its entry blocked, the unit's
 * translation as found. */
static void teardown(struct tr *s)
{
    if (s->nvme.regs && !s->ap_stuck) {
        nvme_release(&s->nvme);
        s->traffic.data = NULL;
    }
    if (s->xs.u && !s->ap_stuck) {
        if ((s->xs.legacy || s->attached) && s->xs.supported[XS_BLOCKED])
            xs_set_switch(&s->xs, XS_BLOCKED, ENTRY_SYNC_STRATEGY_HITLESS);
        for (int i = 0; i < XS_DOMAINS; i++)
            if (s->xs.dom_ok[i])
                vtd_domain_destroy(&s->xs.dom[i]);
        if (s->te_before != s->xs.u->translating) {
            if (s->te_before)
                vtd_enable_translation(s->xs.u);
            else
                vtd_disable_translation(s->xs.u);
        }
    }
    alloc_prefer_high(false);
    vtd_fault_poll();
}

static void suite_traffic(void)
{
    struct tr *s = &tr;
    memset(s, 0, sizeof(*s));
    struct why no_nvme;
    s->pci = nvme_pick(" to generate traffic", &no_nvme);
    if (!s->pci) {
        vtd_suite_unavailable("traffic", no_nvme.text);
        return;
    }
    /* From here on, queues, buffers and IOMMU tables (root, context and
     * PASID tables too when this suite brings the unit up) come from the top
     * of memory: the IOMMU must reach and produce addresses above 4 GiB. */
    alloc_prefer_high(cfg.high_mem != 0);
    static struct why no_unit; /* s->xs keeps a pointer to its text */
    why_clear(&no_unit);
    struct vtd_unit *u =
        vtd_setup_unit_for(s->pci->seg, s->pci->bus, s->pci->dev, s->pci->fn, &no_unit);
    s->te_before = u && u->translating;
    plan_translations(s, u, vtd_sid(s->pci->bus, s->pci->dev, s->pci->fn), no_unit.text);
    ktap_suite_begin("traffic", -1);
    pt_fastpath_probe();
    /* Set up with translation off: every identity IOVA is also valid. */
    struct why why;
    bool off = tr_select(s, TR_OFF, &why);
    uint32_t depth = cfg.queue_depth;
    if (config_list_has(cfg.bench, "traffic") && depth < BENCH_QD_MAX)
        depth = BENCH_QD_MAX;
    if (!off || !nvme_bringup(s, depth)) {
        ktap_case(KTAP_FAIL, "nvme_setup", "%s", !off ? why.text : s->nvme.error.text);
        results_note_failure("traffic", "nvme_setup");
        teardown(s);
        ktap_suite_end();
        return;
    }
    report_setup(s);
    probe_pt_fastpath(s);
    for (int i = 0; i < TR_RUNS; i++)
        case_steady(s, i);
    tr_print_overhead(s);
    case_wrong_mapping(s);
    tr_case_high_mem(s);
    tr_case_bench(s);
    teardown(s);
    fbcon_status("traffic: done");
    ktap_suite_end();
}

SUITE("traffic", 50, suite_traffic);
