/* The one error style of vtdsync.
 *
 * A function that can fail returns bool (true: done), or the count or value
 * it already returns with its own failure value (-1, 0, NULL).  When its
 * caller must be able to explain the failure, it also takes a
 * `struct why *why` as its last argument and, on failure, leaves one line of
 * text there (no "# " prefix, no newline).  The caller prints why.text.
 *
 *     if (!thing_start(t, &why)) {
 *         kprintf("# thing: %s\n", why.text);
 *         ...
 *     static bool thing_start(struct thing *t, struct why *why)
 *     {
 *         if (!ready(t))
 *             return why_set(why, "not ready after %u ms", t->wait_ms);
 *
 * why may be NULL: the caller wants the verdict only.  An object that fails
 * later on its own (a controller that dies under traffic) keeps its reason
 * in a `struct why` member. */
#ifndef LIB_WHY_H
#define LIB_WHY_H

#include <stdbool.h>

#include "lib/printf.h"

/* Long enough for the longest reason vtdsync prints (no NVMe controller,
 * with the note on a VMD that hides it: up to about 290 characters);
 * longer text is cut. */
#define WHY_TEXT 320

struct why {
    char text[WHY_TEXT];
};

/* Formats the reason into why (when not NULL) and returns false, so a
 * failing path reads `return why_set(why, "...", ...);`.  The arguments may
 * point into why->text itself (a prefix added to an inner reason). */
bool why_set(struct why *why, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* No reason (yet): text is "". */
void why_clear(struct why *why);

#endif
