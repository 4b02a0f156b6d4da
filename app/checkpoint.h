/* The run in progress, in a small EFI variable (VtdsyncCheckpoint), so that
 * a machine that hangs or is reset leaves a trace of where it died.
 *
 * Written before each suite, before each risky step (a transition pair,
 * enabling translation) and otherwise at most once a minute (soak and
 * stress progress): NVRAM wears and each write is slow.  Deleted when the
 * run ends with a result (run_end.c); a checkpoint found at the next boot
 * without the matching result is reported first and kept in the results. */
#ifndef APP_CHECKPOINT_H
#define APP_CHECKPOINT_H

#include <stdbool.h>
#include <stdint.h>

/* At start-up: report an unfinished previous run, work out which run of a
 * runs=N campaign this is, write the first checkpoint. */
void checkpoint_boot(void);
/* `suite` `kase` iteration `iteration` starts now.  risky: written at once
 * when the suite or case changed; otherwise at most once a minute. */
void checkpoint_at(const char *suite, const char *kase, uint32_t iteration, bool risky);
/* Counts of a long mode (soak), kept in the next checkpoint written. */
void checkpoint_counts(const char *counts);
/* The run ended with a result: delete the checkpoint, print what the
 * writes cost. */
void checkpoint_done(void);

/* This run's identity (time and TSC), also in the results variable. */
const char *checkpoint_run_id(void);
/* Run K of a campaign of N (runs=N with end=reboot); 0 when none. */
uint32_t checkpoint_campaign_run(void);
uint32_t checkpoint_campaign_runs(void);

#endif
