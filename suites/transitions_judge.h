/* The verdict on a suspect command of the transitions suite (a read that
 * left its buffer poisoned, a write in flight in a window): lost in a
 * breaking window, or a mismatch.  Pure, so host tests can check it. */
#ifndef SUITES_TRANSITIONS_JUDGE_H
#define SUITES_TRANSITIONS_JUDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/fault.h"

enum tx_reread { TX_REREAD_NONE, TX_REREAD_RIGHT, TX_REREAD_WRONG };

struct tx_suspect_facts {
    bool write;         /* a write in flight in the window, else a poisoned read */
    enum tx_reread reread;
    bool in_window;     /* it was in flight while the window was open */
    bool breaking;      /* the update had a non-present window */
    bool named;         /* a fault of the window names its buffer */
    bool unrecorded;    /* the window faulted for the device, lost faults or kept FPD */
};

enum tx_suspect_verdict { TX_SUSPECT_FINE, TX_SUSPECT_LOST, TX_SUSPECT_MISMATCH };

/* *why (for a mismatch) says what rules out a lost command. */
enum tx_suspect_verdict tx_judge_suspect(const struct tx_suspect_facts *f, const char **why);
/* Does one of n faults name the page range of a buffer?  A read's data is
 * written into its buffer by the device (device_writes), a write's read. */
bool tx_fault_hits(const struct vtd_fault_record *rec, unsigned n, uint64_t iova, uint64_t bytes,
                   bool device_writes);

#endif
