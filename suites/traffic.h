/* Shared state of the traffic suite (traffic.c: set-up, translations,
 * steady runs, the bad mapping) and its figures, benchmark and high-memory
 * check (traffic_report.c). */
#ifndef SUITES_TRAFFIC_H
#define SUITES_TRAFFIC_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/nvme.h"
#include "drivers/traffic.h"
#include "iommu/context_entry.h"
#include "iommu/domain.h"
#include "iommu/pasid_entry.h"
#include "lib/ktap.h"

struct vtd_unit;

enum xl { XL_OFF, XL_PT, XL_SS, XL_FS, XL_COUNT };
#define FOUR_GIB (1ull << 32)
#define BENCH_QD_MAX 64

extern const char *const tr_xl_names[XL_COUNT];

struct run_result {
    bool ran, pass;
    struct traffic_stats st;
    uint32_t depth, io_bytes;
    unsigned faults;
    bool lost; /* not run: the suite lost its device or CPU 1 earlier */
    char why[160];
};

struct tr {
    struct pci_dev *pci;
    uint16_t sid;
    struct vtd_unit *u; /* NULL: no unit translates the device */
    bool legacy, attached, te_before;
    uint32_t pasid;
    struct vtd_domain dom[2]; /* [0] second stage, [1] first stage */
    bool dom_ok[2];
    bool supported[XL_COUNT];
    const char *why[XL_COUNT];
    struct pasid_entry pe[XL_COUNT];
    struct legacy_context_entry ce[XL_COUNT];
    bool on_ap, ap_stuck, used_pt;
    /* Once set, the NVMe or CPU 1 is lost for good: the case that lost it
     * failed, every later run is skipped with this (one root cause, one
     * failure). */
    char lost[128];
    struct nvme_ctrl nvme;
    bool nvme_up;
    uint32_t io_queue_depth;
    struct traffic traffic;
    struct run_result res[XL_COUNT];
    unsigned seed;
};

/* Put the device under translation x (controller idle); NULL or why not. */
const char *tr_select(struct tr *s, enum xl x);
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
