/* Fault recording (spec 7.2 primary fault logging, 11.4.14 registers).
 *
 * vtd_fault_scan() reads every fault recording register of a unit
 * (CAP.NFR + 1 of them at CAP.FRO * 16), stores each recorded fault in a
 * run-wide log, clears it (write 1 to F) and clears FSTS.PFO.  It touches
 * only registers and the log, so the fault interrupt handler calls it too;
 * lines are printed later from thread context by vtd_fault_print_pending()
 * (the console lock must never be taken inside an interrupt), one line
 * per fault and rate limited (VTD_FAULT_PRINT_BURST lines a second; the
 * dropped ones are counted and said in a "# faults: ..." line):
 *
 *   # fault: unit=0 sid=00:03.0 pasid=- addr=0x12345000 type=write reason=0x06 (...)
 *
 * Suites take a mark (vtd_fault_seq) at the start of a check and then ask
 * for the faults since, e.g. "none" or "exactly one from this device with
 * this reason". */
#ifndef IOMMU_FAULT_H
#define IOMMU_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vtd_unit;

#define VTD_FAULT_LOG 256        /* records kept (a ring) */
#define VTD_FAULT_SID_SLOTS 64   /* per-device counters */
#define VTD_FAULT_PRINT_BURST 32 /* lines printed per second at most */

struct vtd_fault_record {
    uint32_t seq; /* 1, 2, ...: order of discovery */
    uint8_t unit;
    uint8_t reason;
    uint16_t sid;
    bool pasid_present, is_write, exec, priv;
    uint32_t pasid;
    uint64_t addr;
    bool scalable; /* unit in scalable mode: names the reason accordingly */
    /* alias: sid was, when the fault was logged, a DMA alias whose entry
     * mirrored the device `owner`'s (iommu/vtd_alias.h): the fault is its. */
    bool alias;
    uint16_t owner;
};

struct vtd_fault_state {
    bool msi_armed;
    uint8_t vector;
    volatile uint32_t scanning; /* a scan is running (thread or IRQ) */
    volatile uint32_t rescan;   /* an interrupt came during a scan */
    uint64_t irqs;              /* fault events taken */
    uint64_t total, overflows;  /* faults logged, PFO seen */
};

/* The reason code's name (legacy 0x1-0xf, interrupt remapping 0x2x,
 * scalable-mode 0x3x-0x9x); "reserved/unknown" for codes not listed. */
const char *vtd_fault_reason_name(uint8_t reason);
/* The broad class of a reason, for tests that run on hardware and QEMU
 * alike (they report different codes for the same condition). */
enum vtd_fault_class {
    VTD_FAULT_OTHER,
    VTD_FAULT_NOT_PRESENT,   /* no translation: entry or page not present */
    VTD_FAULT_WRITE_DENIED,  /* write to a read-only mapping */
    VTD_FAULT_READ_DENIED,   /* read without read permission */
    VTD_FAULT_ENTRY_INVALID, /* a table entry programmed wrongly */
    VTD_FAULT_ADDRESS,       /* address beyond the width / not canonical */
};
enum vtd_fault_class vtd_fault_reason_class(uint8_t reason);
const char *vtd_fault_class_name(enum vtd_fault_class c);

/* Read, log and clear every recorded fault of u.  Safe in the interrupt
 * handler.  Returns the number of new records. */
unsigned vtd_fault_scan(struct vtd_unit *u);

/* The run-wide calls below take the units they cover, units[0..n-1]: the
 * fault log keeps no list of its own and borrows none.  The run's list is
 * passed by vtd_fault_poll, vtd_fault_get_totals and vtd_fault_summary
 * (iommu/vtd.h).  The print rate limit runs on units[0]'s clock. */

/* Scan every unit and print the lines not printed yet (thread context). */
void vtd_fault_poll_units(struct vtd_unit *const *units, unsigned n);
void vtd_fault_print_pending(struct vtd_unit *const *units, unsigned n);

/* Run-wide counts for reports: faults logged, lines printed and dropped
 * (rate limit or ring overrun), PFO seen, fault events taken. */
struct vtd_fault_totals {
    uint64_t recorded, printed, suppressed, overflows, irqs;
};
void vtd_fault_totals_of(struct vtd_unit *const *units, unsigned n, struct vtd_fault_totals *t);
/* Print what is pending, then one line:
 *   # faults: N recorded, N printed, N suppressed, PFO seen N times, N fault events
 * (always, or only when a fault or an overflow was seen). */
void vtd_fault_summary_of(struct vtd_unit *const *units, unsigned n, bool always);

/* Program FEDATA/FEADDR/FEUADDR with an MSI to (dest_apic, vector) in
 * compatibility format and unmask (spec 5.1.6, 11.4.9.2). */
void vtd_fault_arm_msi(struct vtd_unit *u, uint8_t vector, uint32_t msi_dest);
/* Called from the interrupt handler. */
void vtd_fault_irq(struct vtd_unit *u);
void vtd_fault_mask(struct vtd_unit *u);

/* The log. */
uint32_t vtd_fault_seq(void); /* seq of the latest record (0: none yet) */
/* Records with seq > since; sid < 0 means any source, else that source and
 * the DMA aliases it owns (iommu/vtd_alias.h).  Copies up to max
 * into out (may be NULL) and returns how many matched. */
unsigned vtd_faults_since(uint32_t since, int sid, struct vtd_fault_record *out, unsigned max);
/* Faults of one source over the whole run. */
uint64_t vtd_fault_count_sid(uint16_t sid);
int vtd_fault_format(const struct vtd_fault_record *r, char *buf, size_t len);
/* Forget everything (host tests). */
void vtd_fault_reset(void);

#endif
