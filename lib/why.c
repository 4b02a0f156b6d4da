/* One error style: see why.h. */
#include "lib/why.h"

#include <stdarg.h>

#include "lib/kstring.h"

bool why_set(struct why *why, const char *fmt, ...)
{
    if (!why)
        return false;
    /* Format into a copy first: callers prefix an inner reason with
     * why_set(why, "reset: %s", why->text). */
    struct why out;
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(out.text, sizeof(out.text), fmt, ap);
    va_end(ap);
    memcpy(why->text, out.text, sizeof(out.text));
    return false;
}

void why_clear(struct why *why)
{
    if (why)
        why->text[0] = 0;
}
