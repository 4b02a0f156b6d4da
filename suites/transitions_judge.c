/* Lost or wrong: the rules of README "Lost reads and writes". */
#include "suites/transitions_judge.h"

bool tx_fault_hits(const struct vtd_fault_record *rec, unsigned n, uint64_t iova, uint64_t bytes,
                   bool device_writes)
{
    if (!bytes)
        return false;
    for (unsigned i = 0; i < n; i++)
        if (rec[i].is_write == device_writes && rec[i].addr >> 12 >= iova >> 12 &&
            rec[i].addr >> 12 <= (iova + bytes - 1) >> 12)
            return true;
    return false;
}

enum tx_suspect_verdict tx_judge_suspect(const struct tx_suspect_facts *f, const char **why)
{
    *why = "";
    if (f->write && f->reread == TX_REREAD_RIGHT)
        return TX_SUSPECT_FINE; /* its data reached the disk */
    if (f->reread == TX_REREAD_NONE) {
        *why = "its unit could not be re-read";
        return TX_SUSPECT_MISMATCH;
    }
    if (!f->write && f->reread == TX_REREAD_WRONG) {
        *why = "its re-read returned wrong data"; /* the disk is not intact */
        return TX_SUSPECT_MISMATCH;
    }
    if (!f->in_window) {
        *why = "it completed before the window";
        return TX_SUSPECT_MISMATCH;
    }
    /* Only a breaking window may take a fault the unit did not record
     * (one record per source pending, PFO, FPD); a hitless update's lost
     * command must at least have its fault named. */
    if (f->named || (f->breaking && f->unrecorded))
        return TX_SUSPECT_LOST;
    *why = "no fault of the window explains it";
    return TX_SUSPECT_MISMATCH;
}
