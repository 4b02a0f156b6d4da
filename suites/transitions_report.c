/* The transitions summary: one table per strategy, then a line of totals
 * comparing them, and optional json: lines for lab tools. */
#include "arch/x86/tsc.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/printf.h"
#include "app/run.h"
#include "suites/transitions.h"

void tx_row_add(struct tx_row *r, const struct tx_measure *m)
{
    if (r->n == 0 || m->syncs < r->syncs_min)
        r->syncs_min = m->syncs;
    if (m->syncs > r->syncs_max)
        r->syncs_max = m->syncs;
    if (r->n < TX_SAMPLES) {
        r->cycles[r->n] = m->cycles;
        r->syncs[r->n] = (uint8_t)(m->syncs < 255 ? m->syncs : 255);
        r->waits[r->n] = (uint8_t)(m->waits < 255 ? m->waits : 255);
    }
    if (m->cycles > r->cycles_max)
        r->cycles_max = m->cycles;
    r->n++;
    r->cls = m->cls;
    r->ops_during += m->ops_during;
    r->overlap += m->overlap;
    if (!m->faults_lost)
        r->evidence += m->overlap;
    r->windows_lost += m->faults_lost;
    r->lost_reads += m->lost_reads;
    r->lost_writes += m->lost_writes;
    r->faults += m->faults;
    r->mismatches += m->mismatches;
    r->errors += m->errors;
    r->resets += m->resets;
    if (m->max_gap_us > r->max_gap_us)
        r->max_gap_us = m->max_gap_us;
}

uint64_t tx_median(uint64_t *s, unsigned n)
{
    for (unsigned i = 1; i < n; i++) /* insertion sort: a few thousand samples at most */
        for (unsigned j = i; j > 0 && s[j - 1] > s[j]; j--) {
            uint64_t x = s[j];
            s[j] = s[j - 1];
            s[j - 1] = x;
        }
    return n ? s[n / 2] : 0;
}

uint64_t tx_row_median_cycles(const struct tx_row *r)
{
    uint64_t s[TX_SAMPLES];
    unsigned n = r->n < TX_SAMPLES ? r->n : TX_SAMPLES;
    memcpy(s, r->cycles, n * sizeof(s[0]));
    return tx_median(s, n);
}

/* Every update of one strategy under traffic, pooled: the median cycles
 * per update (by 1), per sync, and per invalidating sync (one that ended
 * in an invalidation wait; the others are a write-buffer flush at most). */
static uint64_t pooled_median(const struct tx *t, int which, int by)
{
    uint64_t *pool = t->pool;
    unsigned n = 0;
    for (int i = 0; i < XS_COUNT * XS_COUNT; i++) {
        const struct tx_row *r = &t->rows[which][i];
        unsigned k = r->n < TX_SAMPLES ? r->n : TX_SAMPLES;
        if (!r->used || i / XS_COUNT == XS_BLOCKED || i % XS_COUNT == XS_BLOCKED)
            continue; /* not under traffic: no quota */
        for (unsigned j = 0; j < k; j++) {
            unsigned d = by == 0 ? 1 : by == 1 ? r->syncs[j] : r->waits[j];
            if (d)
                pool[n++] = r->cycles[j] / d;
        }
    }
    return tx_median(pool, n);
}

struct totals {
    unsigned pairs, hitless, breaking, faults, probe_faults, syncs, resets;
    unsigned updates, lost_reads, lost_writes, windows_lost, inconclusive;
    uint64_t cycles, mismatches, ops_during, overlap;
    uint64_t med[3]; /* pooled medians: per update, per sync, per invalidating sync */
};

static void print_table(const struct tx *t, int which, struct totals *tot)
{
    const char *name = which ? "clear-then-update" : "entry_sync";
    memset(tot, 0, sizeof(*tot));
    ktap_diag("summary %s:", name);
    ktap_diag("%-18s %-8s %5s %4s %10s %10s %7s %7s %6s %3s %3s %3s %4s %8s %6s", "from->to",
              "class", "syncs", "upd", "cyc-med", "cyc-max", "overlap", "done-in", "faults", "lr",
              "lw", "pfo", "mism", "gap-us", "resets");
    for (int i = 0; i < XS_COUNT * XS_COUNT; i++) {
        const struct tx_row *r = &t->rows[which][i];
        if (!r->used)
            continue;
        char pair[24];
        ksnprintf(pair, sizeof(pair), "%s->%s", xs_name(i / XS_COUNT),
                  xs_name(i % XS_COUNT));
        uint64_t med = tx_row_median_cycles(r);
        ktap_diag("%-18s %-8s %5u %4u %10llu %10llu %7llu %7llu %6u %3u %3u %3u %4llu %8llu %6u",
                  pair, entry_sync_class_name(r->cls), r->syncs_max, r->n, (unsigned long long)med,
                  (unsigned long long)r->cycles_max, (unsigned long long)r->overlap,
                  (unsigned long long)r->ops_during, r->faults, r->lost_reads, r->lost_writes,
                  r->windows_lost,
                  (unsigned long long)r->mismatches, (unsigned long long)r->max_gap_us,
                  r->resets);
        if (cfg.json)
            kprintf("json: {\"strategy\":\"%s\",\"pair\":\"%s\",\"class\":\"%s\",\"syncs\":%u,"
                    "\"cycles_median\":%llu,\"cycles_max\":%llu,\"dma_ops_during\":%llu,"
                    "\"dma_ops_overlapping\":%llu,\"lost_reads\":%u,\"lost_writes\":%u,"
                    "\"windows_faults_lost\":%u,\"faults\":%u,\"mismatches\":%llu,"
                    "\"max_gap_us\":%llu,\"resets\":%u,\"iterations\":%u}\n",
                    which ? "clear" : "entry_sync", pair, entry_sync_class_name(r->cls),
                    r->syncs_max, (unsigned long long)med, (unsigned long long)r->cycles_max,
                    (unsigned long long)r->ops_during, (unsigned long long)r->overlap,
                    r->lost_reads, r->lost_writes, r->windows_lost, r->faults,
                    (unsigned long long)r->mismatches, (unsigned long long)r->max_gap_us, r->resets,
                    r->n);
        tot->pairs++;
        tot->hitless += r->cls != ENTRY_SYNC_BREAKING;
        tot->breaking += r->cls == ENTRY_SYNC_BREAKING;
        /* Faults from the probe DMA into blocked are the expected kind. */
        if (i % XS_COUNT == XS_BLOCKED)
            tot->probe_faults += r->faults;
        else
            tot->faults += r->faults;
        tot->resets += r->resets;
        tot->syncs += r->syncs_max;
        tot->cycles += med;
        tot->mismatches += r->mismatches;
        tot->ops_during += r->ops_during;
        tot->overlap += r->overlap;
        tot->updates += r->n;
        tot->lost_reads += r->lost_reads;
        tot->lost_writes += r->lost_writes;
        tot->windows_lost += r->windows_lost;
        tot->inconclusive += r->inconclusive;
    }
    for (int by = 0; by < 3; by++)
        tot->med[by] = pooled_median(t, which, by);
}

static void print_totals(const char *name, const struct totals *t)
{
    ktap_diag("totals %s %u pairs, %u hitless, %u breaking, %u syncs, %llu median cycles summed, "
              "%u faults (+%u expected from blocked probes), %llu mismatches, %u device resets, "
              "%llu DMA ops during updates",
              name, t->pairs, t->hitless, t->breaking, t->syncs, (unsigned long long)t->cycles,
              t->faults, t->probe_faults, (unsigned long long)t->mismatches, t->resets,
              (unsigned long long)t->ops_during);
    ktap_diag("evidence %s %u updates, %llu overlapping DMA operations, %u faults, %u lost reads, "
              "%u lost writes, %u resets, %u windows with lost faults (PFO), %u pairs inconclusive",
              name, t->updates, (unsigned long long)t->overlap, t->faults, t->lost_reads,
              t->lost_writes, t->resets, t->windows_lost, t->inconclusive);
    ktap_diag("cost %s median cycles per update %llu, per sync %llu, per invalidating sync %llu",
              name, (unsigned long long)t->med[0], (unsigned long long)t->med[1],
              (unsigned long long)t->med[2]);
}

/* The totals as a json: line (json=1), for tools and scenarios. */
static void json_totals(const char *strategy, const struct totals *t)
{
    kprintf("json: {\"strategy\":\"%s\",\"pairs\":%u,\"hitless\":%u,\"breaking\":%u,"
            "\"syncs\":%u,\"faults\":%u,\"probe_faults\":%u,\"mismatches\":%llu,"
            "\"resets\":%u,\"updates\":%u,\"dma_ops_overlapping\":%llu,\"lost_reads\":%u,"
            "\"lost_writes\":%u,\"windows_faults_lost\":%u,\"inconclusive\":%u}\n",
            strategy, t->pairs, t->hitless, t->breaking, t->syncs, t->faults, t->probe_faults,
            (unsigned long long)t->mismatches, t->resets, t->updates,
            (unsigned long long)t->overlap, t->lost_reads, t->lost_writes, t->windows_lost,
            t->inconclusive);
}

void tx_print_summary(const struct tx *t, uint64_t run_us)
{
    struct totals es, cl;
    bool have_es = cfg.strategy != STRATEGY_CLEAR, have_cl = cfg.strategy != STRATEGY_ENTRY_SYNC;
    if (have_es)
        print_table(t, 0, &es);
    if (have_cl)
        print_table(t, 1, &cl);
    if (have_es)
        print_totals("entry_sync:", &es);
    if (have_cl)
        print_totals("clear:     ", &cl);
    if (cfg.json && have_es)
        json_totals("entry_sync", &es);
    if (cfg.json && have_cl)
        json_totals("clear", &cl);
    if (t->stress.updates)
        ktap_diag("stress: %llu random updates in %llu ms, %llu DMA ops (%llu ops/s), %u faults, "
                  "%u failed",
                  (unsigned long long)t->stress.updates, (unsigned long long)(t->stress.us / 1000),
                  (unsigned long long)t->stress.ops,
                  (unsigned long long)(t->stress.us ? t->stress.ops * 1000000 / t->stress.us : 0),
                  t->stress.faults, t->stress.failures);
    ktap_diag("transitions: %llu ms, %u NVMe resets after blocked windows, tsc %llu kHz; "
              "%u lost commands named by a fault's address (the others by their window)",
              (unsigned long long)(run_us / 1000), t->dev.resets,
              (unsigned long long)(tsc_hz / 1000), t->res.lost_named);
}
