/* Stress mode (stress=N): N random transitions among the supported,
 * non-blocked states with traffic running, each judged like a matrix pair.
 * Blocked is left out so the traffic never has to be rebuilt mid-storm. */
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/tsc.h"
#include "drivers/pci.h"
#include "iommu/vtd.h"
#include "iommu/vtd_alias.h"
#include "lib/ktap.h"
#include "lib/printf.h"
#include "app/checkpoint.h"
#include "app/run.h"
#include "suites/transitions.h"
#include "app/vtd_setup.h"

/* Meanwhile, on CPU 2: other PASID entries of the same unit keep changing:
 * the NVMe's PASIDs 1.. (entries next to the one under test, in the same
 * PASID table page) and the edu device's RID_PASID entry.  They share the
 * unit's invalidation queue and tables with the updates being measured. */
struct other_updates {
    struct tx *t;
    uint16_t sids[4];
    uint32_t pasids[4];
    unsigned n;
    volatile bool stop;
    uint64_t updates, failures;
};

static void update_others(void *arg)
{
    struct other_updates *o = arg;
    struct tx *t = o->t;
    int states[XS_COUNT], n = 0;
    for (int s = 0; s < XS_COUNT; s++)
        if (t->dev.xs.supported[s] && s != XS_NESTED)
            states[n++] = s;
    uint64_t seed = 0x2545f4914f6cdd1dull;
    percpu_set_activity("updating other PASID entries");
    while (!__atomic_load_n(&o->stop, __ATOMIC_ACQUIRE)) {
        for (unsigned i = 0; i < o->n; i++) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            int to = states[seed % (uint64_t)n];
            struct vtd_write_result r =
                vtd_pasid_write(t->dev.xs.u, o->sids[i], o->pasids[i], &t->dev.xs.entry[to].pe,
                                ENTRY_SYNC_STRATEGY_HITLESS);
            o->updates++;
            o->failures += !r.ok;
            /* Pace it: contend for the unit, do not starve the CPU being
             * measured of its lock. */
            udelay(100);
        }
    }
}

/* Pick the other entries; returns how many. */
static unsigned choose_others(struct tx *t, struct other_updates *o)
{
    o->t = t;
    o->n = 0;
    uint32_t max = vtd_max_pasid(t->dev.xs.u);
    for (uint32_t p = 1; p <= 3 && p <= max; p++) {
        o->sids[o->n] = t->dev.xs.sid;
        o->pasids[o->n++] = p;
    }
    struct pci_dev *edu = pci_find_id(0x1234, 0x11e8, 0);
    /* An edu behind the same PCIe-to-PCI bridge shares the device's DMA
     * alias: attaching it would take the alias's entry from the device. */
    if (edu && vtd_alias_shared(t->dev.xs.u, vtd_sid(edu->bus, edu->dev, edu->fn), t->dev.xs.sid))
        edu = NULL;
    if (edu) {
        uint16_t sid = vtd_sid(edu->bus, edu->dev, edu->fn);
        /* Peek first: an edu on another unit keeps its foreign entry. */
        if (vtd_setup_unit_peek(edu->seg, edu->bus, edu->dev, edu->fn, NULL) == t->dev.xs.u &&
            vtd_setup_unit_for(edu->seg, edu->bus, edu->dev, edu->fn, NULL) == t->dev.xs.u &&
            !vtd_attach_scalable(t->dev.xs.u, sid, 0)) {
            o->sids[o->n] = sid;
            o->pasids[o->n++] = vtd_rid_pasid(t->dev.xs.u, sid);
        }
    }
    /* Each entry written once here (blocked), so its PASID table exists
     * before CPU 2 starts: CPU 2 then only updates entries, and the
     * allocation stays off the CPU that races the traffic's rebuilds. */
    for (unsigned i = 0; i < o->n; i++)
        vtd_pasid_write(t->dev.xs.u, o->sids[i], o->pasids[i], &t->dev.xs.entry[XS_BLOCKED].pe,
                        ENTRY_SYNC_STRATEGY_HITLESS);
    return o->n;
}

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

void tx_stress(struct tx *t)
{
    int states[XS_COUNT], n = 0;
    for (int s = XS_PT; s < XS_COUNT; s++)
        if (t->dev.xs.supported[s])
            states[n++] = s;
    if (n < 2) {
        ktap_case(KTAP_SKIP, "stress", "fewer than two non-blocked states on this unit");
        return;
    }
    static struct other_updates others;
    bool concurrent = !t->dev.xs.legacy && cpus_online >= 3 && choose_others(t, &others) &&
                      smp_run_on(2, update_others, &others);
    if (concurrent)
        ktap_diag("stress: CPU 2 keeps changing %u other PASID entries of unit %d", others.n,
                  t->dev.xs.u->index);
    else
        ktap_diag("stress: no concurrent updates of other entries (needs scalable mode and "
                  "three CPUs)");
    uint64_t seed = 0x9e3779b97f4a7c15ull ^ rdtsc();
    uint64_t start = uptime_us();
    struct why first_why = {""};
    for (uint32_t i = 0; i < cfg.stress; i++) {
        int to = states[next_random(&seed) % (uint64_t)n];
        if (to == t->dev.current)
            continue;
        enum entry_sync_strategy strat = cfg.strategy == STRATEGY_CLEAR ? ENTRY_SYNC_STRATEGY_CLEAR
                                         : cfg.strategy == STRATEGY_BOTH && (next_random(&seed) & 1)
                                             ? ENTRY_SYNC_STRATEGY_CLEAR
                                             : ENTRY_SYNC_STRATEGY_HITLESS;
        struct tx_measure m;
        struct why why;
        /* Rate-limited to one write a minute: stress=N may run for hours. */
        checkpoint_at("transitions", "stress", i + 1, false);
        int from = t->dev.current;
        if (!tx_measure(t, from, to, strat, &m, &why)) {
            ktap_diag("stress: update %u (%s%s->%s): %s", i + 1,
                      strat == ENTRY_SYNC_STRATEGY_CLEAR ? "clear:" : "", xs_name(from),
                      xs_name(to), why.text);
            if (!t->stress.failures++)
                why_set(&first_why, "update %u (%s%s->%s): %s", i + 1,
                        strat == ENTRY_SYNC_STRATEGY_CLEAR ? "clear:" : "", xs_name(from),
                        xs_name(to), why.text);
        }
        t->stress.updates++;
        t->stress.faults += m.faults;
        /* Counted per update: a controller reset restarts the counters. */
        t->stress.ops += m.ops_during + m.ops_after;
    }
    t->stress.us = uptime_us() - start;
    if (concurrent) {
        __atomic_store_n(&others.stop, true, __ATOMIC_RELEASE);
        if (!smp_wait(2, 5000000))
            ktap_diag("stress: CPU 2 did not stop within 5 s");
        for (unsigned i = 0; i < others.n; i++) /* leave them blocked */
            vtd_pasid_write(t->dev.xs.u, others.sids[i], others.pasids[i],
                            &t->dev.xs.entry[XS_BLOCKED].pe, ENTRY_SYNC_STRATEGY_HITLESS);
        ktap_diag("stress: %llu concurrent updates of other entries, %llu failed",
                  (unsigned long long)others.updates, (unsigned long long)others.failures);
        if (others.failures && !t->stress.failures++)
            why_set(&first_why, "%llu concurrent updates failed",
                    (unsigned long long)others.failures);
    }
    if (cfg.json)
        kprintf("json: {\"case\":\"stress\",\"updates\":%llu,\"failures\":%u,"
                "\"concurrent_entries\":%u,\"concurrent_updates\":%llu}\n",
                (unsigned long long)t->stress.updates, t->stress.failures,
                concurrent ? others.n : 0, (unsigned long long)(concurrent ? others.updates : 0));
    ktap_case(t->stress.failures ? KTAP_FAIL : KTAP_PASS, "stress",
              "%u of %llu updates failed; first: %s", t->stress.failures,
              (unsigned long long)t->stress.updates, first_why.text);
}
