/* Shared state of the traffic suite (traffic.c: set-up, translations,
 * steady runs, the bad mapping) and its figures, benchmark and high-memory
 * check (traffic_report.c). */
#ifndef SUITES_TRAFFIC_H
#define SUITES_TRAFFIC_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/nvme.h"
#include "drivers/traffic.h"
#include "lib/ktap.h"
#include "app/identity_map.h"
#include "app/xstate.h"

struct vtd_unit;

/* The runs, in order: translation off (the baseline), then the
 * catalogue's PT, SS-A and FS-A (app/xstate.h). */
#define TR_OFF (-1)
#define TR_RUNS 4
extern const int tr_runs[TR_RUNS];
/* "off", "PT", "SS", "FS": as the case names print them. */
const char *tr_run_name(int x);
#define FOUR_GIB (1ull << 32)
#define BENCH_QD_MAX 64

struct run_result {
    bool ran, pass;
    struct traffic_stats st;
    uint32_t depth, io_bytes;
    unsigned faults;
    bool lost; /* not run: the suite lost its device or CPU 1 earlier */
    struct why why;
};

struct tr {
    struct pci_dev *pci;
    /* The NVMe's states (app/xstate.h); xs.u NULL: no unit translates it. */
    struct xs_set xs;
    bool attached, te_before;
    uint32_t pasid;
    struct identity_map dma_map; /* its DMA space: identity IOVAs in xs.dom */
    bool on_ap, ap_stuck, used_pt;
    /* Once set, the NVMe or CPU 1 is lost for good: the case that lost it
     * failed, every later run is skipped with this (one root cause, one
     * failure). */
    char lost[128];
    struct nvme_ctrl nvme;
    bool nvme_up;
    uint32_t io_queue_depth;
    struct traffic traffic;
    struct run_result res[TR_RUNS]; /* by position in tr_runs */
    unsigned seed;
};

/* Whether run x can be made (translation off always can). */
bool tr_supported(const struct tr *s, int x);
/* Put the device under run x (TR_OFF or a state; controller idle); false
 * with the reason in why. */
bool tr_select(struct tr *s, int x, struct why *why);
/* Pre-fill, `us` of steady traffic (CPU 1 when there is one), stop; fills
 * *r and returns whether the run was clean. */
bool tr_measured_run(struct tr *s, uint32_t qd, uint32_t io_kib, uint64_t us, struct run_result *r);
/* The KTAP result of a case that rests on run r: skip when r->lost. */
enum ktap_result tr_result(const struct run_result *r);

/* Figures, with integers only (the firmware has no floating point). */
uint64_t tr_iops(const struct run_result *r);
uint64_t tr_mbps10(const struct run_result *r); /* MB/s in tenths */
const char *tr_overhead(uint64_t base, uint64_t x, char *buf, unsigned len);
void tr_print_run(const char *label, const struct run_result *r);
void tr_print_overhead(const struct tr *s);

void tr_case_bench(struct tr *s);
void tr_case_high_mem(struct tr *s);

#endif
