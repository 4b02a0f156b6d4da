/* Soak mode (soak=DURATION): for that long, rounds of the whole transition
 * matrix followed by as many random pairs, with both methods (as strategy=
 * allows), under the same verified NVMe traffic as the matrix.  Every
 * update is judged like a matrix pair and counted in the summary tables.
 *
 * Every soak_report= seconds a progress line gives the counts so far and
 * the resources a long run could leak: memory in use, the domains' page
 * tables, the reset controllers' memory in quarantine and kept out of use,
 * invalidation-queue descriptors pending and NVMe commands in flight.  At
 * the end, case soak judges the updates and case soak_resources_flat the
 * memory. */
#include "arch/x86/tsc.h"
#include "drivers/fbcon.h"
#include "drivers/nvme_quarantine.h"
#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "lib/alloc.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/printf.h"
#include "app/checkpoint.h"
#include "app/results.h"
#include "app/run.h"
#include "suites/transitions.h"

/* Memory in use (less the page tables and the NVMe quarantine, both judged
 * apart; memory kept out after DMA after reset included) may grow by this
 * much over a soak. */
#define SOAK_MEM_SLACK_KIB 256
/* The soak stops early, and fails, when free memory falls below this: a
 * leak must end the run with a verdict, not a crash. */
#define SOAK_MIN_FREE_KIB (32 * 1024)

struct soak {
    uint64_t start_us, end_us, next_report_us, next_status_us;
    uint64_t updates, ops_during, faults, mismatches, errors, resets, failures, rounds;
    uint32_t pair_n[2][XS_COUNT * XS_COUNT];
    struct why first_why;
    uint64_t mem0_kib, mem_last_kib, mem_max_kib; /* in use, less quarantine and tables */
    unsigned reports;
    uint64_t pt0_kib, pt_max_kib, held0_kib, held_max_kib;
    uint64_t resets0;
    bool out_of_memory;
};

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Descriptors the unit has not fetched yet (IQT - IQH): 0 between updates
 * unless the queue leaks. */
static unsigned qi_pending(const struct vtd_unit *u)
{
    if (!u->qi.enabled || !u->qi.entries)
        return 0;
    unsigned shift = u->qi.wide ? 5 : 4;
    unsigned head = (unsigned)((vtd_read64(u, VTD_REG_IQH) & 0x7fff0ull) >> shift);
    unsigned tail = (unsigned)((vtd_read64(u, VTD_REG_IQT) & 0x7fff0ull) >> shift);
    return (tail + u->qi.entries - head) % u->qi.entries;
}

static uint64_t page_tables_kib(const struct tx *t)
{
    uint64_t pages = 0;
    for (int i = 0; i < XS_DOMAINS; i++)
        pages += t->dev.xs.dom_ok[i] ? t->dev.xs.dom[i].pt.table_pages : 0;
    return pages * 4;
}

/* Reset controllers' memory waiting in the quarantine. */
static uint64_t held_kib(void)
{
    struct nvmeq_stats q;
    nvmeq_get_stats(&q);
    return q.held_pages * 4;
}

static uint64_t kept_kib(void)
{
    struct nvmeq_stats q;
    nvmeq_get_stats(&q);
    return q.kept_pages * 4;
}

/* Less the NVMe quarantine and the domains' page tables, both shown apart:
 * until the quarantine hands memory back, new buffers land at new
 * addresses, and their identity maps need new table pages. */
static uint64_t mem_in_use_kib(const struct tx *t)
{
    struct alloc_stats st;
    alloc_get_stats(&st);
    return st.used_pages * 4 - held_kib() - page_tables_kib(t);
}

static void hms(uint64_t us, char *buf, size_t size)
{
    uint64_t s = us / 1000000;
    ksnprintf(buf, size, "%02llu:%02llu:%02llu", (unsigned long long)(s / 3600),
              (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
}

/* The per-pair counts of the soak, a few pairs a line. */
static void print_pairs(const struct soak *s)
{
    char line[200];
    int n = 0;
    for (int m = 0; m < 2; m++) {
        for (int p = 0; p < XS_COUNT * XS_COUNT; p++) {
            if (!s->pair_n[m][p])
                continue;
            if (n > 150) {
                ktap_diag("soak: pairs:%s", line);
                n = 0;
            }
            n += ksnprintf(line + n, sizeof(line) - (size_t)n, " %s%s->%s %u", m ? "clear:" : "",
                           xs_name(p / XS_COUNT), xs_name(p % XS_COUNT),
                           s->pair_n[m][p]);
        }
    }
    if (n)
        ktap_diag("soak: pairs:%s", line);
}

static void report(struct tx *t, struct soak *s, bool final)
{
    uint64_t now = uptime_us();
    char el[16], total[16];
    hms(now - s->start_us, el, sizeof(el));
    hms(s->end_us - s->start_us, total, sizeof(total));
    uint64_t mem = mem_in_use_kib(t), pt = page_tables_kib(t), held = held_kib();
    s->mem_last_kib = mem;
    if (mem > s->mem_max_kib)
        s->mem_max_kib = mem;
    if (pt > s->pt_max_kib)
        s->pt_max_kib = pt;
    if (held > s->held_max_kib)
        s->held_max_kib = held;
    ktap_diag("soak: %s %s of %s: %llu updates (%llu rounds), %llu DMA ops during updates, "
              "%llu faults, %llu mismatches, %llu lost reads, %llu resets, %llu failed; "
              "memory %llu KiB in use + %llu KiB page tables + %llu KiB NVMe quarantine + %llu "
              "KiB NVMe kept out, queue %u pending, NVMe %u in flight",
              final ? "end" : "progress", el, total, (unsigned long long)s->updates,
              (unsigned long long)s->rounds, (unsigned long long)s->ops_during,
              (unsigned long long)s->faults, (unsigned long long)s->mismatches,
              (unsigned long long)s->errors, (unsigned long long)s->resets,
              (unsigned long long)s->failures, (unsigned long long)mem, (unsigned long long)pt,
              (unsigned long long)held, (unsigned long long)kept_kib(), qi_pending(t->dev.xs.u),
              t->w.traffic.inflight);
    print_pairs(s);
    s->reports++;
}

static void status_line(struct soak *s)
{
    char el[16], line[160];
    hms(uptime_us() - s->start_us, el, sizeof(el));
    ksnprintf(line, sizeof(line),
              "soak %s  updates %llu  DMA ops %llu  faults %llu  lost %llu  resets %llu  "
              "failed %llu",
              el, (unsigned long long)s->updates, (unsigned long long)s->ops_during,
              (unsigned long long)s->faults, (unsigned long long)s->errors,
              (unsigned long long)s->resets, (unsigned long long)s->failures);
    fbcon_status(line);
    char counts[160];
    ksnprintf(counts, sizeof(counts),
              "soak %s: %llu updates, %llu faults, %llu mismatches, %llu resets, %llu failed", el,
              (unsigned long long)s->updates, (unsigned long long)s->faults,
              (unsigned long long)s->mismatches, (unsigned long long)s->resets,
              (unsigned long long)s->failures);
    checkpoint_counts(counts);
}

static void step(struct tx *t, struct soak *s, int from, int to, enum entry_sync_strategy strat)
{
    bool clear = strat == ENTRY_SYNC_STRATEGY_CLEAR;
    char name[48];
    struct why why = {""};
    ksnprintf(name, sizeof(name), "%s%s->%s", clear ? "clear:" : "", xs_name(from),
              xs_name(to));
    /* Not a write per update: at most one a minute (checkpoint.h). */
    checkpoint_at("transitions", name, (uint32_t)(s->updates + 1), false);
    struct tx_measure m;
    bool ok = tx_measure(t, from, to, strat, &m, &why);
    struct tx_row *row = &t->rows[clear][from * XS_COUNT + to];
    tx_row_add(row, &m);
    row->used = true;
    s->pair_n[clear][from * XS_COUNT + to]++;
    s->updates++;
    s->ops_during += m.ops_during;
    s->faults += m.faults;
    s->mismatches += m.mismatches;
    s->errors += m.errors;
    s->resets = t->dev.resets - s->resets0; /* every controller reset, recovery or probe */
    if (!ok && !s->failures++) {
        why_set(&s->first_why, "update %llu %s: %s", (unsigned long long)s->updates, name,
                why.text);
        ktap_diag("soak: first failure: %s", s->first_why.text);
        results_note_failure("transitions", "soak");
    }
    uint64_t now = uptime_us();
    if (now >= s->next_status_us) {
        status_line(s);
        s->next_status_us = now + 1000000;
    }
    if (now >= s->next_report_us) {
        report(t, s, false);
        s->next_report_us = now + (uint64_t)cfg.soak_report_s * 1000000;
    }
}

static bool time_left(struct soak *s)
{
    struct alloc_stats st;
    alloc_get_stats(&st);
    if (st.free_pages * 4 < SOAK_MIN_FREE_KIB && !s->out_of_memory) {
        s->out_of_memory = true;
        ktap_diag("soak: stopping early: %llu KiB free, below %u KiB",
                  (unsigned long long)(st.free_pages * 4), SOAK_MIN_FREE_KIB);
    }
    return uptime_us() < s->end_us && !s->out_of_memory;
}

static enum entry_sync_strategy pick_strategy(uint64_t *seed)
{
    if (cfg.strategy == STRATEGY_CLEAR)
        return ENTRY_SYNC_STRATEGY_CLEAR;
    if (cfg.strategy == STRATEGY_BOTH && (rnd(seed) & 1))
        return ENTRY_SYNC_STRATEGY_CLEAR;
    return ENTRY_SYNC_STRATEGY_HITLESS;
}

/* One round: every ordered pair with each method, then as many random
 * pairs among the non-blocked states from wherever the entry is. */
static void round_once(struct tx *t, struct soak *s, const int *states, int n, uint64_t *seed)
{
    int pairs = 0;
    for (int m = 0; m < 2; m++) {
        if ((m == 0 && cfg.strategy == STRATEGY_CLEAR) ||
            (m == 1 && cfg.strategy == STRATEGY_ENTRY_SYNC))
            continue;
        for (int i = 0; i < n && time_left(s); i++)
            for (int j = 0; j < n && time_left(s); j++)
                if (i != j) {
                    step(t, s, states[i], states[j],
                         m ? ENTRY_SYNC_STRATEGY_CLEAR : ENTRY_SYNC_STRATEGY_HITLESS);
                    pairs++;
                }
    }
    int live[XS_COUNT], nl = 0;
    for (int i = 0; i < n; i++)
        if (states[i] != XS_BLOCKED)
            live[nl++] = states[i];
    for (int k = 0; k < pairs && nl >= 2 && time_left(s); k++) {
        int from = t->dev.current == XS_BLOCKED ? live[rnd(seed) % (uint64_t)nl] : t->dev.current;
        int to = live[rnd(seed) % (uint64_t)nl];
        if (to != from)
            step(t, s, from, to, pick_strategy(seed));
    }
    s->rounds++;
}

/* soak_resources_flat: memory in use (kept-out NVMe memory included) may
 * grow only by a slack; the NVMe quarantine must stay within its bound; the
 * page tables may grow only with the addresses the quarantine newly held:
 * per domain, one table page per 2 MiB of them, plus a few for upper
 * levels.  The queue and in-flight figures are printed for the reader. */
static void judge_resources(const struct soak *s, uint64_t ran_s)
{
    struct nvmeq_stats q;
    nvmeq_get_stats(&q);
    uint64_t growth = s->mem_max_kib - s->mem0_kib;
    uint64_t pt_growth = s->pt_max_kib - s->pt0_kib;
    uint64_t new_kib = s->held_max_kib - s->held0_kib + SOAK_MEM_SLACK_KIB;
    uint64_t pt_bound = XS_DOMAINS * (new_kib / 2048 + 3) * 4;
    if (s->held_max_kib > NVMEQ_MAX_PAGES * 4ull)
        ktap_case(KTAP_FAIL, "soak_resources_flat",
                  "the NVMe quarantine held %llu KiB, more than its bound of %u KiB",
                  (unsigned long long)s->held_max_kib, NVMEQ_MAX_PAGES * 4);
    else if (pt_growth > pt_bound)
        ktap_case(KTAP_FAIL, "soak_resources_flat",
                  "the domains' page tables grew by %llu KiB over the soak, more than the %llu "
                  "KiB that maps of the quarantine's %llu KiB of new buffers explain",
                  (unsigned long long)pt_growth, (unsigned long long)pt_bound,
                  (unsigned long long)new_kib);
    else if (growth > SOAK_MEM_SLACK_KIB)
        ktap_case(KTAP_FAIL, "soak_resources_flat",
                  "memory in use grew by %llu KiB over the soak (%llu KiB at the start, %llu KiB "
                  "at most, %llu KiB at the end, %llu KiB of it NVMe memory kept out after DMA "
                  "after reset; page tables and NVMe quarantine not counted)",
                  (unsigned long long)growth, (unsigned long long)s->mem0_kib,
                  (unsigned long long)s->mem_max_kib, (unsigned long long)s->mem_last_kib,
                  (unsigned long long)q.kept_pages * 4);
    else
        ktap_case(KTAP_PASS, "soak_resources_flat", NULL);
    ktap_diag("soak: memory in use %llu KiB at the start, %llu KiB at most, %llu KiB at the end; "
              "page tables %llu KiB at the start, %llu KiB at most; NVMe quarantine %llu KiB at "
              "the start, %llu KiB at most, %llu KiB at the end (bound %u KiB)",
              (unsigned long long)s->mem0_kib, (unsigned long long)s->mem_max_kib,
              (unsigned long long)s->mem_last_kib, (unsigned long long)s->pt0_kib,
              (unsigned long long)s->pt_max_kib, (unsigned long long)s->held0_kib,
              (unsigned long long)s->held_max_kib, (unsigned long long)q.held_pages * 4,
              NVMEQ_MAX_PAGES * 4);
    ktap_diag("soak: NVMe quarantine over the run: %u generations, %llu KiB handed back after "
              "%u resets and %llu s, %u region(s) early (quarantine full), %u region(s) written "
              "after a reset (%llu KiB kept out); %llu resets in %llu s of soak",
              q.generation, (unsigned long long)q.recycled_pages * 4, NVMEQ_GENERATIONS,
              NVMEQ_HOLD_US / 1000000, q.early_regions, q.late_regions,
              (unsigned long long)q.kept_pages * 4, (unsigned long long)s->resets,
              (unsigned long long)ran_s);
}

void tx_soak(struct tx *t)
{
    int states[XS_COUNT], n = 0;
    for (int st = 0; st < XS_COUNT; st++)
        if (t->dev.xs.supported[st])
            states[n++] = st;
    if (n < 2) {
        ktap_case(KTAP_SKIP, "soak", "fewer than two states on this unit");
        ktap_case(KTAP_SKIP, "soak_resources_flat", "no soak ran");
        return;
    }
    /* The watchdogs get the soak's time on top of their own. */
    watchdog_extend(cfg.soak_s);
    static struct soak s;
    memset(&s, 0, sizeof(s));
    s.start_us = uptime_us();
    s.end_us = s.start_us + (uint64_t)cfg.soak_s * 1000000;
    s.next_report_us = s.start_us + (uint64_t)cfg.soak_report_s * 1000000;
    uint64_t seed = 0x9e3779b97f4a7c15ull ^ rdtsc();
    ktap_diag("soak: %u s of transitions under traffic, %d states, a progress line every %u s",
              cfg.soak_s, n, cfg.soak_report_s);
    s.resets0 = t->dev.resets;
    s.pt0_kib = page_tables_kib(t);
    s.held0_kib = held_kib();
    report(t, &s, false); /* the starting figures */
    s.mem0_kib = s.mem_max_kib = s.mem_last_kib;
    while (time_left(&s))
        round_once(t, &s, states, n, &seed);
    report(t, &s, true);
    status_line(&s);
    uint64_t ran_s = (uptime_us() - s.start_us) / 1000000;
    char figures[80];
    ksnprintf(figures, sizeof(figures), "%llu s, %llu updates, %llu failed, %llu resets",
              (unsigned long long)ran_s, (unsigned long long)s.updates,
              (unsigned long long)s.failures, (unsigned long long)s.resets);
    results_note_soak(figures);
    if (s.out_of_memory)
        ktap_case(KTAP_FAIL, "soak",
                  "stopped after %llu of %u s: free memory ran low (%llu KiB in use, %llu KiB "
                  "NVMe quarantine, %llu KiB kept out after %u NVMe resets); %llu of %llu "
                  "updates failed",
                  (unsigned long long)ran_s, cfg.soak_s, (unsigned long long)s.mem_last_kib,
                  (unsigned long long)held_kib(), (unsigned long long)kept_kib(), t->dev.resets,
                  (unsigned long long)s.failures, (unsigned long long)s.updates);
    else if (s.failures)
        ktap_case(KTAP_FAIL, "soak", "%llu of %llu updates failed; first: %s",
                  (unsigned long long)s.failures, (unsigned long long)s.updates, s.first_why.text);
    else if (!s.updates)
        ktap_case(KTAP_FAIL, "soak", "no update was made in %u s", cfg.soak_s);
    else
        ktap_case(KTAP_PASS, "soak", NULL);
    judge_resources(&s, ran_s);
}
