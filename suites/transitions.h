/* Shared state of the transitions suite (transitions.c), its report
 * (transitions_report.c) and its stress mode (transitions_stress.c). */
#ifndef SUITES_TRANSITIONS_H
#define SUITES_TRANSITIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/nvme.h"
#include "drivers/traffic.h"
#include "iommu/entry_sync.h"
#include "iommu/pasid_write.h"
#include "app/identity_map.h"
#include "app/xstate.h"

#define TX_SETTLE_US 20000      /* traffic after an update, to see it recover */
#define TX_RECOVER_OPS 8        /* completions that show traffic flows again */
/* How long recovery may take before it fails: a host running other
 * emulators beside this one has stalled QEMU's NVMe for over 2 s. */
#define TX_RECOVER_US 5000000
/* How long a blocked probe waits for its fault: the wait ends at the fault,
 * so only a failure costs the whole time; on a loaded host QEMU's NVMe has
 * taken over 1 s to fetch the probe command. */
#define TX_PROBE_US 5000000
#define TX_SAMPLES 64           /* cycle samples kept per pair for the median */
/* The evidence quota (evidence=N): a pair under traffic alternates
 * FROM->TO->FROM until its updates overlapped N DMA operations, for at
 * most evidence_ms= (its iterations= updates always run). */
#define TX_DOORBELL_US 10000    /* the longest wait for the traffic's next doorbell */

/* What one update did to the traffic. */
struct tx_measure {
    enum entry_sync_class cls;
    unsigned syncs;
    uint64_t cycles;
    uint64_t ops_during, ops_after;
    /* DMA operations in flight or completing in the window (submitted
     * before its last sync, not completed before its first store). */
    uint64_t overlap;
    unsigned waits; /* invalidation waits: the syncs that invalidated */
    unsigned faults;
    bool faults_lost;    /* PFO or log overrun in the window: inconclusive */
    unsigned lost_reads; /* reads lost in a breaking window (not corrupt) */
    unsigned lost_writes; /* writes the device reported done but lost there */
    uint64_t errors, mismatches, max_gap_us;
    unsigned resets; /* controller resets needed after the update */
    bool recovered;
};

/* One from->to pair over its iterations. */
struct tx_row {
    bool used;
    enum entry_sync_class cls;
    unsigned n, syncs_min, syncs_max;
    uint64_t cycles[TX_SAMPLES], cycles_max;
    uint8_t syncs[TX_SAMPLES], waits[TX_SAMPLES];
    uint64_t ops_during;
    uint64_t overlap, evidence; /* evidence: overlap of conclusive windows */
    unsigned faults, windows_lost, lost_reads, lost_writes;
    bool inconclusive; /* under traffic, and its evidence fell short of the quota */
    uint64_t mismatches, errors, max_gap_us;
    unsigned resets;
};

/* Every sample of one strategy's pairs, for the pooled medians. */
#define TX_POOL (XS_COUNT * XS_COUNT * TX_SAMPLES)

/* The traffic device: the NVMe controller, its translation states and
 * where its entry stands. */
struct tx_device {
    /* Its states (app/xstate.h): unit, source id, mode, domains, entries. */
    struct xs_set xs;
    uint32_t pasid;
    struct identity_map dma_map; /* its DMA space: identity IOVAs in xs.dom */
    int current;                 /* the state its entry holds */
    bool used_pt;                /* it has been in pass-through this run */
    struct pci_dev *nvme_pci;
    struct nvme_ctrl nvme;
    bool nvme_needs_reset;
    unsigned resets; /* controller resets after blocked or breaking windows */
};

/* The verified traffic, on CPU 1 when there is one. */
struct tx_worker {
    struct traffic traffic;
    bool running, on_ap;
    volatile bool stop;
};

/* What the suite judges beyond its pairs' rows. */
struct tx_results {
    /* Writes read back when traffic pauses (traffic_stop), and how many of
     * them did not verify: a write that fetched its data through a wrong
     * translation completes successfully, so only this catches it. */
    uint64_t read_back, read_back_mismatches;
    unsigned lost_named; /* lost commands a fault names by address */
    /* Breaking updates under traffic whose non-present window has FPD set
     * (the old or the new entry sets it): how many, how many DMA ran into
     * (fault, I/O error or reset), the faults reported from them and the
     * first one's reason.  Judged by case fpd_window_quiet. */
    unsigned fpd_windows, fpd_windows_hit, fpd_window_faults;
    uint8_t fpd_window_reason;
};

/* stress=N: random updates (transitions_stress.c). */
struct tx_stress_counters {
    uint64_t updates, ops, us;
    unsigned faults, failures;
};

struct tx {
    struct tx_device dev;
    struct tx_worker w;
    struct tx_results res;
    /* [2]: [0] entry_sync, [1] clear; allocated by the suite (120 KiB kept
     * out of the image, README: the image limit) */
    struct tx_row (*rows)[XS_COUNT * XS_COUNT];
    uint64_t *pool; /* [TX_POOL]: scratch for the pooled medians, allocated with rows */
    struct tx_stress_counters stress;
};

struct vtd_write_result tx_switch(struct tx *t, int to, enum entry_sync_strategy strategy);
bool tx_measure(struct tx *t, int from, int to, enum entry_sync_strategy strategy,
                struct tx_measure *m, struct why *why);
void tx_let_traffic_run(struct tx *t, uint64_t us);
bool tx_run_pair(struct tx *t, int from, int to, enum entry_sync_strategy strategy,
                 struct tx_row *row, struct why *why);

void tx_row_add(struct tx_row *r, const struct tx_measure *m);
uint64_t tx_row_median_cycles(const struct tx_row *r);
/* The median of n samples (sorted in place). */
uint64_t tx_median(uint64_t *s, unsigned n);
void tx_print_summary(const struct tx *t, uint64_t run_us);
void tx_stress(struct tx *t);
/* soak=DURATION: the matrix and random pairs, both methods, for that long
 * (transitions_soak.c). */
void tx_soak(struct tx *t);

#endif
