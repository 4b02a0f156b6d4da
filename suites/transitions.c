/* Suite `transitions`: the main job.
 *
 * The traffic device's RID_PASID entry (or, in legacy mode, its context
 * entry) is switched between every ordered pair of the states the unit
 * supports, K times each, while an application processor keeps verified
 * NVMe traffic going.  Each switch is made with entry_sync and, side by
 * side, with clear-then-update; each is measured (class, syncs, cycles, DMA
 * completed during the update, faults, data mismatches, completion gap,
 * recovery) and judged:
 *
 *   hitless  - no fault, no mismatch, no error, traffic keeps flowing;
 *   breaking - faults from the non-present window are reported, not
 *              failed; data must stay intact and traffic must recover;
 *              a window with FPD set (the old or the new entry sets it)
 *              must report none: case fpd_window_quiet judges them all;
 *   ->blocked - DMA must stop landing: a probe read faults and its buffer
 *              keeps its canary; blocked-> - traffic resumes.
 *
 * Memory layout "same pages": every translation maps each DMA buffer at
 * its physical address (identity IOVAs), so SS-A, SS-B, FS-A, FS-B and PT
 * all show the device the same memory and data stays correct throughout.
 * SS-A+FPD and FS-A+FPD are SS-A and FS-A with fault reporting disabled.
 * The "distinct pages" check lives in stale.c. */
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/tsc.h"
#include "drivers/console.h"
#include "drivers/fbcon.h"
#include "drivers/nvme.h"
#include "drivers/pci.h"
#include "drivers/traffic.h"
#include "iommu/domain.h"
#include "iommu/pasid_write.h"
#include "iommu/vtd.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/parse.h"
#include "lib/page.h"
#include "lib/printf.h"
#include "app/checkpoint.h"
#include "app/results.h"
#include "app/platform.h"
#include "suites/pt_exit.h"
#include "suites/pt_fastpath.h"
#include "app/run.h"
#include "app/suite.h"
#include "suites/transitions.h"
#include "suites/transitions_judge.h"
#include "app/nvme_pick.h"
#include "app/vtd_setup.h"

static struct tx tx;

/* ---- switching ---------------------------------------------------------------- */

struct vtd_write_result tx_switch(struct tx *t, int to, enum entry_sync_strategy strategy)
{
    struct vtd_write_result r = xs_set_switch(&t->dev.xs, to, strategy);
    if (r.ok)
        t->dev.current = to;
    t->dev.used_pt |= r.ok && to == XS_PT;
    return r;
}

/* ---- traffic on an application processor ----------------------------------- */

static void traffic_worker(void *arg)
{
    struct tx *t = arg;
    percpu_set_activity("NVMe traffic");
    while (!__atomic_load_n(&t->w.stop, __ATOMIC_ACQUIRE)) {
        if (!traffic_poll(&t->w.traffic))
            break;
    }
}

static bool traffic_resume(struct tx *t)
{
    if (t->w.running)
        return true;
    if (t->dev.nvme.dead || t->dev.nvme_needs_reset) {
        /* After a blocked window the controller may have reported a fatal
         * status (a queue fetch faulted): reset and rebuild it. */
        struct dma_space space = identity_space(&t->dev.dma_map);
        t->w.traffic.data = NULL; /* its buffers are retired with the old queues */
        if (nvme_reset(&t->dev.nvme, t->dev.nvme_pci, &space, vtd_iova_limit(t->dev.xs.u)) ||
            nvme_create_io_queues(&t->dev.nvme, cfg.queue_depth + 1)) {
            ktap_diag("transitions: NVMe reset failed: %s", t->dev.nvme.error.text);
            return false;
        }
        nvme_write_policy(&t->dev.nvme, cfg.nvme_write);
        t->dev.nvme_needs_reset = false;
        t->dev.resets++;
    }
    struct traffic_config tc = {
        .queue_depth = cfg.queue_depth,
        .io_bytes = cfg.io_kib * 1024,
        .window_bytes = 1u << 20,
        .write = t->dev.nvme.writable,
        .seed = 7 + t->dev.resets,
        .poisoned_reads_apart = true, /* judged by judge_poisoned_reads */
    };
    if (traffic_start(&t->w.traffic, &t->dev.nvme, &tc)) {
        ktap_diag("transitions: traffic start failed: %s", t->w.traffic.error.text);
        return false;
    }
    t->w.running = true;
    __atomic_store_n(&t->w.stop, false, __ATOMIC_RELEASE);
    t->w.on_ap = cpus_online > 1 && smp_run_on(1, traffic_worker, t);
    return true;
}

static void traffic_pause(struct tx *t)
{
    if (!t->w.running)
        return;
    __atomic_store_n(&t->w.stop, true, __ATOMIC_RELEASE);
    if (t->w.on_ap && !smp_wait(1, 5000000))
        ktap_diag("transitions: traffic CPU did not stop within 5 s");
    traffic_stop(&t->w.traffic);
    const struct traffic_stats *st = &t->w.traffic.st;
    t->res.read_back += st->read_back;
    t->res.read_back_mismatches += st->read_back_mismatches;
    if (st->read_back_mismatches)
        ktap_diag("transitions: %llu of %llu written units read back wrong when traffic paused "
                  "in %s",
                  (unsigned long long)st->read_back_mismatches, (unsigned long long)st->read_back,
                  xs_name(t->dev.current));
    t->w.running = false;
    t->w.on_ap = false;
}

/* Keep traffic moving for `us`: on the AP it already is; with one CPU the
 * bootstrap processor polls it. */
void tx_let_traffic_run(struct tx *t, uint64_t us)
{
    if (!t->w.running)
        return;
    if (t->w.on_ap)
        udelay(us);
    else
        traffic_run_for(&t->w.traffic, us);
}

static uint64_t snap(const volatile uint64_t *v)
{
    return __atomic_load_n(v, __ATOMIC_ACQUIRE);
}

/* Let traffic run until `want` more commands completed after `since`, or
 * TX_RECOVER_US passed: recovery is judged by completions, not by a fixed
 * time, because an emulated machine under load can be slow for a while. */
static uint64_t wait_for_ops(struct tx *t, uint64_t since, uint64_t want)
{
    uint64_t deadline = deadline_after_us(TX_RECOVER_US);
    tx_let_traffic_run(t, TX_SETTLE_US);
    while (snap(&t->w.traffic.st.ops) - since < want && !deadline_passed(deadline) &&
           !t->w.traffic.failed)
        tx_let_traffic_run(t, 1000);
    return snap(&t->w.traffic.st.ops) - since;
}

/* Into blocked: no DMA may land.  A read into a canary buffer must fault
 * and leave the canary; QEMU's NVMe then reports a fatal status (its queue
 * fetch failed), so the controller is reset on the way out of blocked. */
static bool probe_blocked(struct tx *t, struct why *why)
{
    uint64_t iova;
    uint8_t *buf = dma_pool_alloc(&t->dev.nvme.pool, 1, &iova);
    if (!buf) {
        why_set(why, "no memory for the probe buffer");
        return false;
    }
    memset(buf, 0xc5, 4096);
    if (t->dev.nvme.dead || nvme_check_fatal(&t->dev.nvme)) {
        why_set(why, "the NVMe controller had failed before the probe (%s)",
                t->dev.nvme.error.text[0] ? t->dev.nvme.error.text : "CSTS.CFS");
        t->dev.nvme_needs_reset = true;
        return false;
    }
    uint32_t mark = vtd_fault_seq();
    struct nvme_prp prp = { iova, 0 };
    nvme_submit_rw(&t->dev.nvme, false, 0, 4096 / t->dev.nvme.lba_size, &prp, 0x7ff0);
    /* The controller works asynchronously (under emulation it can take a
     * while): wait, bounded, until its attempt has faulted or landed. */
    unsigned faults = 0;
    bool intact = true;
    uint64_t deadline = deadline_after_us(TX_PROBE_US);
    do {
        udelay(5000);
        vtd_fault_poll();
        faults = vtd_faults_since(mark, t->dev.xs.sid, NULL, 0);
        for (int i = 0; i < 4096; i++)
            intact &= buf[i] == 0xc5;
    } while (!faults && intact && !deadline_passed(deadline));
    t->dev.nvme_needs_reset = true;
    /* Both symptoms follow from the pass-through finding once the device has
     * used PT: say so, rather than leave two puzzles. */
    const char *hint = t->dev.used_pt && !vtd_options.pt_ctx_flush
                           ? " (the device used pass-through before: see pt_exit_translates)"
                           : "";
    if (!intact) {
        why_set(why, "DMA landed while blocked (probe buffer overwritten)%s", hint);
        return false;
    }
    if (!faults) {
        why_set(why, "the blocked entry raised no fault for a DMA attempt%s", hint);
        return false;
    }
    return true;
}

/* After a breaking update QEMU's NVMe may have reported a fatal status (a
 * queue access faulted in the window), as real controllers may: like an OS
 * driver, reset it and count the reset; traffic must flow again after. */
static void recover_after_window(struct tx *t, struct tx_measure *m)
{
    if (!t->w.traffic.failed && !nvme_check_fatal(&t->dev.nvme))
        return;
    m->resets++;
    traffic_pause(t);
    t->dev.nvme_needs_reset = true;
    if (traffic_resume(t))
        wait_for_ops(t, 0, TX_RECOVER_OPS);
}

/* Bring the entry to `from` with the controller healthy (when `from` lets
 * it do DMA), so every measured update starts from the same ground. */
static bool reach(struct tx *t, int from, bool traffic_wanted, struct why *why)
{
    if (t->dev.current != from) {
        if (from == XS_BLOCKED || t->dev.current == XS_BLOCKED)
            traffic_pause(t);
        struct vtd_write_result r = tx_switch(t, from, ENTRY_SYNC_STRATEGY_HITLESS);
        if (!r.ok) {
            why_set(why, "could not reach %s: %s", xs_name(from), r.why.text);
            return false;
        }
    }
    /* A breaking switch on the way (or an earlier failed update) may have
     * left the controller failed: its queue fetch faulted in the window.
     * Every measurement starts from a healthy controller, and a blocked
     * probe needs one that still fetches commands. */
    if (t->w.running && (t->w.traffic.failed || nvme_check_fatal(&t->dev.nvme))) {
        traffic_pause(t);
        t->dev.nvme_needs_reset = true;
    }
    if (from != XS_BLOCKED && !traffic_resume(t)) {
        why_set(why, "traffic could not start in %s", xs_name(from));
        return false;
    }
    if (!traffic_wanted)
        traffic_pause(t);
    return true;
}

/* A breaking update under traffic whose window had FPD set: any fault it
 * reported is one neither entry would report.  Counted for the case
 * fpd_window_quiet, which judges them all at once. */
static void note_fpd_window(struct tx *t, const struct tx_measure *m, bool died,
                            const struct vtd_fault_record *first)
{
    t->res.fpd_windows++;
    t->res.fpd_windows_hit += m->faults || m->errors || m->resets || died || m->faults_lost;
    if (m->faults && !t->res.fpd_window_faults)
        t->res.fpd_window_reason = first->reason;
    /* An overflow means the unit tried to record a fault: never "none". */
    t->res.fpd_window_faults += m->faults ? m->faults : m->faults_lost;
}

/* Start the update right after the traffic rang a doorbell: commands are
 * then fresh in the queue and the device works on them while the entry
 * changes.  Bounded; with one CPU the bootstrap processor polls until it
 * has submitted one. */
static void after_doorbell(struct tx *t)
{
    const volatile uint64_t *sub = &t->w.traffic.st.submitted;
    uint64_t s0 = snap(sub), dl = deadline_after_us(TX_DOORBELL_US);
    while (snap(sub) == s0 && !deadline_passed(dl) && !t->w.traffic.failed) {
        if (t->w.on_ap)
            cpu_relax();
        else if (!traffic_poll(&t->w.traffic))
            break;
    }
}

/* The traffic's suspects (drivers/traffic.h), judged once their units were
 * re-read after the window.  QEMU's NVMe completes a command with success
 * even when its data transfer faulted: a read then leaves its buffer
 * poisoned, a write stores what it could not fetch.  Such a command was
 * lost, not corrupted, when its DMA faulted inside a breaking window: a
 * fault of the window names its buffer, or, since a unit may record only
 * the first of a burst of faults from one source (QEMU drops the others
 * while that record is pending, without PFO) or none at all (FPD set, or
 * an overflow), the window faulted for this device or could not record.
 * A lost read must re-read right (the disk is intact); a lost write is
 * the device's report, its block is unknown from then on.  Anything else
 * is a mismatch; a lost command in a hitless update is a failure. */
static void judge_suspects(struct tx *t, struct tx_measure *m, uint32_t mark, uint64_t win_start_us,
                           bool fpd_window, struct why *why)
{
    struct traffic *tr = &t->w.traffic;
    uint32_t head = __atomic_load_n(&tr->suspect_head, __ATOMIC_ACQUIRE);
    if (tr->suspect_tail == head)
        return;
    static struct vtd_fault_record rec[VTD_FAULT_LOG];
    uint64_t dl = deadline_after_us(TX_RECOVER_US);
    for (uint32_t i = tr->suspect_tail; i != head; i++) {
        struct traffic_suspect *x = &tr->suspect[i % TRAFFIC_SUSPECTS];
        while (__atomic_load_n(&x->state, __ATOMIC_ACQUIRE) == SUSPECT_PENDING && t->w.running &&
               !tr->failed && !deadline_passed(dl))
            tx_let_traffic_run(t, 1000);
    }
    vtd_fault_poll();
    unsigned n = vtd_faults_since(mark, t->dev.xs.sid, rec, VTD_FAULT_LOG);
    if (n > VTD_FAULT_LOG)
        n = VTD_FAULT_LOG;
    bool unrecorded = fpd_window || m->faults_lost || n > 0;
    for (uint32_t i = tr->suspect_tail; i != head; i++) {
        const struct traffic_suspect *x = &tr->suspect[i % TRAFFIC_SUSPECTS];
        uint32_t state = __atomic_load_n(&x->state, __ATOMIC_ACQUIRE);
        struct tx_suspect_facts f = {
            .write = x->write,
            .reread = state == SUSPECT_PENDING     ? TX_REREAD_NONE
                      : state == SUSPECT_REREAD_OK ? TX_REREAD_RIGHT
                                                   : TX_REREAD_WRONG,
            .in_window = x->write || x->done_us >= win_start_us,
            .breaking = m->cls == ENTRY_SYNC_BREAKING,
            .named = tx_fault_hits(rec, n, x->iova, x->bytes, !x->write),
            .unrecorded = unrecorded,
        };
        const char *verdict;
        enum tx_suspect_verdict v = tx_judge_suspect(&f, &verdict);
        if (v == TX_SUSPECT_FINE)
            continue;
        const char *what = x->write ? "WRITE" : "READ";
        if (v == TX_SUSPECT_MISMATCH) {
            m->mismatches++;
            ktap_diag("transitions: %s LBA %llu (buffer IOVA %#llx) %s and %s: a mismatch, "
                      "not a lost %s",
                      what, (unsigned long long)x->lba, (unsigned long long)x->iova,
                      x->write ? "did not reach the disk" : "left its buffer poisoned", verdict,
                      x->write ? "write" : "read");
            continue;
        }
        if (x->write)
            m->lost_writes++;
        else
            m->lost_reads++;
        t->res.lost_named += f.named;
        if (m->cls != ENTRY_SYNC_BREAKING && !why->text[0])
            why_set(why, "hitless update lost a %s (LBA %llu: its DMA faulted)",
                    x->write ? "write" : "read", (unsigned long long)x->lba);
    }
    __atomic_store_n(&tr->suspect_tail, head, __ATOMIC_RELEASE);
}

/* One measured transition; fills *m and returns the verdict. */
bool tx_measure(struct tx *t, int from, int to, enum entry_sync_strategy strategy,
                struct tx_measure *m, struct why *why)
{
    memset(m, 0, sizeof(*m));
    why_clear(why);
    bool live = from != XS_BLOCKED && to != XS_BLOCKED;
    if (!reach(t, from, live, why))
        return false;
    if (live)
        after_doorbell(t);

    struct traffic_stats *st = &t->w.traffic.st;
    /* Faults and overflows from before the window are not its own. */
    vtd_fault_poll();
    uint64_t overflows0 = t->dev.xs.u->fault.overflows;
    uint32_t waits0 = t->dev.xs.u->qi.waits;
    uint64_t ops0 = snap(&st->ops), err0 = snap(&st->errors), mis0 = snap(&st->mismatches);
    __atomic_store_n(&st->max_gap_us, 0, __ATOMIC_RELEASE);
    uint32_t mark = vtd_fault_seq();
    uint64_t win_start_us = uptime_us();

    /* The window opens (writes in flight across it become suspects, no
     * suspect is re-read while it is open) and closes. */
    __atomic_add_fetch(&t->w.traffic.window_gen, 1, __ATOMIC_ACQ_REL);
    struct vtd_write_result r = tx_switch(t, to, strategy);
    uint64_t ops1 = snap(&st->ops), sub1 = snap(&st->submitted);
    __atomic_add_fetch(&t->w.traffic.window_gen, 1, __ATOMIC_ACQ_REL);
    m->cls = r.es.cls;
    m->syncs = r.syncs;
    m->waits = t->dev.xs.u->qi.waits - waits0;
    m->cycles = r.cycles;
    m->ops_during = live ? ops1 - ops0 : 0;
    m->overlap = live ? sub1 - ops0 : 0;
    if (!r.ok) {
        why_set(why, "update failed: %s", r.why.text);
        return false;
    }

    if (to == XS_BLOCKED) {
        bool ok = probe_blocked(t, why);
        vtd_fault_poll();
        m->faults = vtd_faults_since(mark, t->dev.xs.sid, NULL, 0);
        return ok;
    }
    if (from == XS_BLOCKED) {
        if (!traffic_resume(t)) {
            why_set(why, "traffic did not resume after leaving blocked");
            return false;
        }
        ops1 = snap(&st->ops);
        err0 = snap(&st->errors);
        mis0 = snap(&st->mismatches);
    }
    wait_for_ops(t, ops1, TX_RECOVER_OPS);
    bool died = t->w.traffic.failed || nvme_check_fatal(&t->dev.nvme);
    m->errors = snap(&st->errors) - err0;
    m->mismatches = snap(&st->mismatches) - mis0;
    m->max_gap_us = snap(&st->max_gap_us);
    if (died && m->cls == ENTRY_SYNC_BREAKING)
        recover_after_window(t, m);
    m->ops_after = died ? snap(&st->ops) : snap(&st->ops) - ops1;
    m->recovered = m->ops_after > 0 && !t->w.traffic.failed;
    bool fpd_window = m->cls == ENTRY_SYNC_BREAKING &&
                      (xs_entry_fpd(&t->dev.xs.entry[from]) || xs_entry_fpd(&t->dev.xs.entry[to]));
    vtd_fault_poll();
    /* Faults went unrecorded (PFO, or more than the log keeps): the
     * window's count proves nothing. */
    m->faults_lost =
        t->dev.xs.u->fault.overflows != overflows0 || vtd_fault_seq() - mark > VTD_FAULT_LOG;
    if (live)
        judge_suspects(t, m, mark, win_start_us, fpd_window, why);
    vtd_fault_poll();
    struct vtd_fault_record rec[4];
    m->faults = vtd_faults_since(mark, t->dev.xs.sid, rec, 4);
    /* The window keeps FPD when either side sets it (pasid_entry.c). */
    if (live && fpd_window)
        note_fpd_window(t, m, died, rec);

    if (why->text[0])
        ; /* a lost read in a hitless update, said by judge_poisoned_reads */
    else if (m->mismatches)
        why_set(why, "%llu data mismatches", (unsigned long long)m->mismatches);
    else if (died && m->cls != ENTRY_SYNC_BREAKING)
        why_set(why, "hitless update but the controller failed: %s",
                t->w.traffic.failed ? t->w.traffic.error.text : t->dev.nvme.error.text);
    else if (!m->recovered)
        why_set(why, "traffic did not recover (%s)",
                t->w.traffic.failed ? t->w.traffic.error.text : "no completions");
    else if (m->cls != ENTRY_SYNC_BREAKING && (m->faults || m->errors || m->faults_lost))
        why_set(why, "hitless update but %u faults%s and %llu I/O errors", m->faults,
                m->faults_lost ? " (and more lost: fault overflow)" : "",
                (unsigned long long)m->errors);
    if (why->text[0] && m->faults) {
        char line[200];
        for (unsigned i = 0; i < m->faults && i < 4; i++) {
            vtd_fault_format(&rec[i], line, sizeof(line));
            ktap_diag("%s", line);
        }
    }
    return why->text[0] == '\0';
}

struct pt_exit_ctx {
    struct tx *t;
    int back; /* the state the entry left pass-through for */
};

/* The pt_exit probe's DMA: one block read from the disk into iova.  A
 * failed status is no failure: the read's DMA is meant to fault. */
static int pt_exit_read(void *ctx, uint64_t iova, struct why *why)
{
    struct pt_exit_ctx *c = ctx;
    (void)why;
    struct nvme_prp prp = {iova, 0};
    int status = nvme_rw_sync(&c->t->dev.nvme, false, 0, 4096 / c->t->dev.nvme.lba_size, &prp);
    c->t->dev.nvme_needs_reset = true;
    ktap_diag("pt_exit: NVMe read after PT->%s: status %d", xs_name(c->back), status);
    return status != 0;
}

/* After pass-through, a translating entry must translate again: a read to
 * an IOVA no domain maps has to fault and fail.  QEMU is suspected of
 * keeping its untranslated pass-through path until a context-cache
 * invalidation; quirk=pt_ctx_flush adds one. */
static void case_pt_exit(struct tx *t)
{
    int back = t->dev.xs.supported[XS_SS_A] ? XS_SS_A : XS_FS_A;
    if (!t->dev.xs.supported[XS_PT] || !t->dev.xs.supported[back]) {
        ktap_case(KTAP_SKIP, "pt_exit_translates", "needs pass-through and a translating state");
        return;
    }
    struct why why;
    if (!reach(t, XS_PT, true, &why)) {
        ktap_case(KTAP_FAIL, "pt_exit_translates", "%s", why.text);
        return;
    }
    tx_let_traffic_run(t, 5000); /* DMA through the pass-through entry */
    tx_switch(t, back, ENTRY_SYNC_STRATEGY_HITLESS);
    traffic_pause(t);
    if (!traffic_resume(t)) { /* healthy controller, idle queue */
        ktap_case(KTAP_FAIL, "pt_exit_translates", "traffic did not restart");
        return;
    }
    traffic_pause(t);
    /* The IOVA is the physical address of vtdsync's poisoned probe page,
     * which no domain maps: a unit stuck in pass-through writes the read
     * data there and nowhere else (suites/pt_exit.h). */
    struct pt_exit_ctx c = {t, back};
    struct pt_exit_dma d = {
        .name = "pt_exit_translates",
        .dma = "NVMe read",
        .sid = t->dev.xs.sid,
        .limit = vtd_iova_limit(t->dev.xs.u),
        .back = &t->dev.xs.dom[xs_domain_of(back)].pt,
        .send = pt_exit_read,
        .ctx = &c,
    };
    pt_exit_run(&d);
}

/* The windows of breaking updates from or to an entry with FPD set: VT-d
 * evaluates FPD even when P is 0 (9.6 PASID entry, 9.3 context entry), and
 * the window keeps it, so DMA that runs into the window must fault without
 * a single fault being reported. */
static void case_fpd_window(const struct tx *t)
{
    const char *name = "fpd_window_quiet";
    ktap_diag("fpd_window: %u breaking update(s) under traffic passed through a non-present "
              "entry with FPD set, %u met DMA (fault, I/O error or controller reset), %u "
              "fault(s) reported",
              t->res.fpd_windows, t->res.fpd_windows_hit, t->res.fpd_window_faults);
    if (!t->res.fpd_windows) {
        ktap_case(KTAP_SKIP, name, "no breaking update under traffic from or to an FPD state (%s)",
                  t->dev.xs.supported[XS_SS_A_FPD] || t->dev.xs.supported[XS_FS_A_FPD]
                      ? "the ones made here are hitless; strategy=clear breaks them all"
                      : "no FPD state on this unit");
    } else if (!t->res.fpd_window_faults && !t->res.fpd_windows_hit) {
        ktap_case(KTAP_SKIP, name,
                  "no DMA ran into the %u window(s) with FPD set: nothing to judge "
                  "(window_us= holds them open)",
                  t->res.fpd_windows);
    } else if (!t->res.fpd_window_faults) {
        ktap_case(KTAP_PASS, name, NULL);
    } else if (cpu_is_qemu() && !t->dev.xs.legacy) {
        ktap_case(KTAP_SKIP, name,
                  "finding: QEMU reported %u fault(s) (reason %#04x) from non-present PASID "
                  "entries with FPD set; VT-d 9.6 evaluates FPD whatever P says, QEMU reports "
                  "the entry's P or PGTT fault before it reads FPD (its context-entry path "
                  "honours FPD)",
                  t->res.fpd_window_faults, t->res.fpd_window_reason);
    } else {
        ktap_case(KTAP_FAIL, name,
                  "%u fault(s) (first reason %#04x) reported from non-present windows with FPD "
                  "set: neither the old nor the new entry would report them",
                  t->res.fpd_window_faults, t->res.fpd_window_reason);
    }
}

/* ---- the matrix ------------------------------------------------------------------ */

static int supported_states(const struct tx *t, int *out)
{
    int n = 0;
    for (int s = 0; s < XS_COUNT; s++)
        if (t->dev.xs.supported[s])
            out[n++] = s;
    return n;
}

/* Whether this pair still owes fpd_window_quiet its evidence: it opened
 * windows with FPD set, and no such window anywhere in the run has met
 * DMA yet.  A window is open for window_us= at most, so most of them see
 * no DMA; the first one that does is enough to judge the case. */
static bool fpd_window_unjudged(const struct tx *t, unsigned fpd_windows_before)
{
    return t->res.fpd_windows > fpd_windows_before && !t->res.fpd_windows_hit;
}

/* One pair: its iterations= updates, then, under traffic, more (each
 * starting again from FROM) until they overlapped evidence= DMA
 * operations, and, when its windows have FPD set, until one window
 * of the run met DMA, or until evidence_ms= passed.  Fills the row;
 * returns the verdict (row->inconclusive says whether the evidence fell
 * short). */
bool tx_run_pair(struct tx *t, int from, int to, enum entry_sync_strategy strategy,
                 struct tx_row *row, struct why *why)
{
    bool live = from != XS_BLOCKED && to != XS_BLOCKED;
    bool pass = true;
    unsigned fpd0 = t->res.fpd_windows;
    uint64_t dl = deadline_after_us((uint64_t)cfg.evidence_ms * 1000);
    for (uint32_t k = 0;
         k < cfg.iterations ||
         (live && pass && (row->evidence < cfg.evidence || fpd_window_unjudged(t, fpd0)) &&
          k < 100000 && !deadline_passed(dl));
         k++) {
        struct tx_measure m;
        struct why w;
        bool ok = tx_measure(t, from, to, strategy, &m, &w);
        tx_row_add(row, &m);
        if (!ok && pass) {
            pass = false;
            why_set(why, "iteration %u: %s", k + 1, w.text);
        }
    }
    row->used = true;
    row->inconclusive = live && row->evidence < cfg.evidence;
    return pass;
}

static void run_matrix(struct tx *t, enum entry_sync_strategy strategy)
{
    int states[XS_COUNT];
    int n = supported_states(t, states);
    const char *prefix = strategy == ENTRY_SYNC_STRATEGY_CLEAR ? "clear:" : "";
    struct tx_row *rows = t->rows[strategy == ENTRY_SYNC_STRATEGY_CLEAR];

    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            if (i == j)
                continue;
            int from = states[i], to = states[j];
            struct tx_row *row = &rows[from * XS_COUNT + to];
            char name[48];
            struct why why = {""};
            ksnprintf(name, sizeof(name), "%s%s->%s", prefix, xs_name(from),
                      xs_name(to));
            char status[128];
            ksnprintf(status, sizeof(status), "transitions  %-20s  DMA ops %llu  faults %llu", name,
                      (unsigned long long)t->w.traffic.st.ops, (unsigned long long)vtd_fault_seq());
            fbcon_status(status);
            uint64_t start = uptime_us();
            /* One checkpoint per pair: a write costs tens of ms of NVRAM. */
            checkpoint_at("transitions", name, 1, true);
            bool pass = tx_run_pair(t, from, to, strategy, row, &why);
            if (!pass)
                results_note_failure("transitions", name);
            ktap_diag("%s: %s, %u syncs, %llu cycles, %u updates, %llu overlapping DMA ops, "
                      "%llu ops during, %u faults, %u lost reads, %u lost writes, %u windows with "
                      "lost faults, %llu mismatches, max gap %llu us",
                      name, entry_sync_class_name(row->cls), row->syncs_max,
                      (unsigned long long)tx_row_median_cycles(row), row->n,
                      (unsigned long long)row->overlap, (unsigned long long)row->ops_during,
                      row->faults, row->lost_reads, row->lost_writes, row->windows_lost,
                      (unsigned long long)row->mismatches, (unsigned long long)row->max_gap_us);
            if (pass && row->inconclusive)
                ktap_case(KTAP_SKIP, name,
                          "inconclusive: %llu of %u overlapping DMA operations (%u updates in "
                          "%llu ms)",
                          (unsigned long long)row->evidence, cfg.evidence, row->n,
                          (unsigned long long)((uptime_us() - start) / 1000));
            else
                ktap_case(pass ? KTAP_PASS : KTAP_FAIL, name, "%s", why.text);
        }
    }
}

/* ---- setup ------------------------------------------------------------------------ */

static bool setup(struct tx *t, struct why *why)
{
    struct pci_dev *p = t->dev.nvme_pci = nvme_pick(" to generate traffic", why);
    if (!p)
        return false;
    struct vtd_unit *u = vtd_setup_unit_for(p->seg, p->bus, p->dev, p->fn, why);
    if (!u)
        return false;
    uint16_t sid = vtd_sid(p->bus, p->dev, p->fn);
    if (u->mode != VTD_MODE_LEGACY && !u->ops->store128)
        return why_set(why, "CMPXCHG16B missing: PASID entries cannot be updated atomically");
    if (u->mode != VTD_MODE_LEGACY) {
        if (vtd_attach_scalable(u, sid, 0))
            return why_set(why, "cannot attach the NVMe controller (scalable context entry)");
        t->dev.pasid = vtd_rid_pasid(u, sid);
    }
    xs_set_build(&t->dev.xs, u, sid, XS_ALL);
    t->dev.dma_map =
        (struct identity_map){t->dev.xs.dom, t->dev.xs.dom_ok, XS_DOMAINS, "transitions"};
    /* Start from a translating state so the controller's set-up DMA is
     * already mapped everywhere. */
    int first = t->dev.xs.supported[XS_SS_A]   ? XS_SS_A
                : t->dev.xs.supported[XS_FS_A] ? XS_FS_A
                                               : XS_PT;
    if (!t->dev.xs.supported[first])
        return why_set(why, "the unit supports no translating state for the traffic device");
    struct vtd_write_result r = tx_switch(t, first, ENTRY_SYNC_STRATEGY_HITLESS);
    if (!r.ok)
        return why_set(why, "could not install the first translation");
    if (!t->dev.xs.u->translating && !vtd_enable_translation(t->dev.xs.u))
        return why_set(why, "could not enable translation");
    t->dev.nvme_needs_reset = true;
    if (!traffic_resume(t))
        return why_set(why, "NVMe traffic could not start under translation");
    /* Judged by completions within a bound, not by a fixed time: a loaded
     * emulator can take longer than 20 ms for the first ones. */
    if (wait_for_ops(t, 0, TX_RECOVER_OPS) == 0)
        return why_set(why, "NVMe traffic made no progress under translation");
    return true;
}

static void report_states(const struct tx *t)
{
    char line[200];
    int n = 0;
    for (int s = 0; s < XS_COUNT; s++)
        n += ksnprintf(line + n, sizeof(line) - n, " %s%s", xs_name(s),
                       t->dev.xs.supported[s] ? "" : "(-)");
    ktap_diag("transitions: unit %d %s mode, device %02x:%02x.%u, %s %u, states:%s",
              t->dev.xs.u->index, t->dev.xs.legacy ? "legacy" : "scalable", t->dev.nvme_pci->bus,
              t->dev.nvme_pci->dev, t->dev.nvme_pci->fn,
              t->dev.xs.legacy ? "context entry" : "PASID", t->dev.pasid, line);
    for (int s = 0; s < XS_COUNT; s++)
        if (!t->dev.xs.supported[s])
            ktap_diag("transitions: %s skipped: %s", xs_name(s), t->dev.xs.why[s]);
    ktap_diag("transitions: traffic on %s, queue depth %u, %u KiB per command, %s",
              t->w.on_ap ? "CPU 1" : "the bootstrap CPU between steps", cfg.queue_depth, cfg.io_kib,
              t->dev.nvme.writable ? "read/write" : "read-only");
}

static void suite_transitions(void)
{
    struct tx *t = &tx;
    static struct tx_row (*rows)[XS_COUNT * XS_COUNT];
    static uint64_t *pool;
    if (!rows)
        rows = page_alloc_bytes(2 * sizeof(*rows));
    if (!pool)
        pool = page_alloc_bytes(TX_POOL * sizeof(*pool));
    if (!rows || !pool) {
        ktap_suite_fail("transitions", "out of memory for the table of results");
        return;
    }
    memset(t, 0, sizeof(*t));
    memset(rows, 0, 2 * sizeof(*rows));
    t->rows = rows;
    t->pool = pool;
    t->dev.current = XS_BLOCKED;
    struct why why;
    if (!setup(t, &why)) {
        traffic_pause(t);
        vtd_suite_unavailable("transitions", why.text);
        return;
    }
    ktap_suite_begin("transitions", -1);
    pt_fastpath_probe();
    report_states(t);
    uint64_t start = uptime_us();
    if (cfg.strategy != STRATEGY_CLEAR)
        run_matrix(t, ENTRY_SYNC_STRATEGY_HITLESS);
    if (cfg.strategy != STRATEGY_ENTRY_SYNC)
        run_matrix(t, ENTRY_SYNC_STRATEGY_CLEAR);
    case_fpd_window(t);
    case_pt_exit(t);
    if (cfg.stress)
        tx_stress(t);
    if (cfg.soak_s)
        tx_soak(t);
    tx_switch(t, t->dev.xs.supported[XS_SS_A] ? XS_SS_A : XS_PT, ENTRY_SYNC_STRATEGY_HITLESS);
    traffic_pause(t);
    if (t->res.read_back_mismatches)
        ktap_case(KTAP_FAIL, "writes_read_back", "%llu of %llu written units read back wrong",
                  (unsigned long long)t->res.read_back_mismatches,
                  (unsigned long long)t->res.read_back);
    else if (!t->res.read_back)
        ktap_case(KTAP_SKIP, "writes_read_back", "no write was left to read back (%s)",
                  t->dev.nvme.writable ? "every write was read by the traffic itself"
                                       : "read-only disk");
    else
        ktap_case(KTAP_PASS, "writes_read_back", NULL);
    ktap_diag("transitions: %llu written units read back when traffic paused, %llu wrong",
              (unsigned long long)t->res.read_back,
              (unsigned long long)t->res.read_back_mismatches);
    if (t->dev.nvme.regs)
        nvme_release(&t->dev.nvme);
    fbcon_status("transitions: done");
    tx_print_summary(t, uptime_us() - start);
    ktap_suite_end();
}

SUITE("transitions", 60, suite_transitions);
