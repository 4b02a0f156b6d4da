/* The text of vtdsync's EFI variables (results, checkpoint): key=value
 * lines.  Portable: the host tests link it unchanged. */
#ifndef APP_RESULTS_TEXT_H
#define APP_RESULTS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Runs kept in the results variable's history= lines, this one included. */
#define RESULTS_HISTORY_MAX 8

/* The value of the first "key=" line of `text` into out (cut to size);
 * false when there is none. */
bool rtext_get(const char *text, const char *key, char *out, size_t size);
/* Append to dst (holding len bytes of size) the last max-1 history= lines
 * of prev (may be NULL), then "history=entry": bounded, oldest first.
 * Returns the new length (never more than size - 1). */
size_t rtext_history(char *dst, size_t size, size_t len, const char *prev, const char *entry,
                     int max);
/* "K/N" into k and n (1 <= k, 1 <= n); false on anything else. */
bool rtext_campaign(const char *v, uint32_t *k, uint32_t *n);
/* Which run of an N-run campaign this boot is: `last` is the latest run
 * recorded ("K/N" from the results or the checkpoint, "" for none).  A
 * campaign of the same N that is not complete goes on; anything else
 * starts at 1. */
uint32_t rtext_campaign_next(const char *last_result, const char *last_checkpoint, uint32_t runs);
/* From a checkpoint's text: the report of an unfinished run,
 * "last started SUITE CASE iteration I at TIME; counts so far: ...". */
void rtext_unfinished(const char *checkpoint, char *out, size_t size);

#endif
