// HOST-DEPS: lib/why.c lib/printf.c
/* The one error style (lib/why.h): why_set formats and returns false, takes
 * a NULL why, may quote the reason it replaces, and cuts what is too long. */
#include <string.h>

#include "lib/why.h"
#include "tests/host/check.h"

CHECK_STATE_DEFINE;

static bool fails(struct why *why, unsigned ms)
{
    return why_set(why, "not ready after %u ms", ms);
}

TEST(set_formats_and_returns_false)
{
    struct why why = {"old"};
    CHECK(!fails(&why, 500), "why_set returned true");
    CHECK(!strcmp(why.text, "not ready after 500 ms"), "text: %s", why.text);
    why_clear(&why);
    CHECK(why.text[0] == 0, "cleared: %s", why.text);
}

TEST(null_why_is_allowed)
{
    CHECK(!fails(NULL, 1), "why_set(NULL) returned true");
    why_clear(NULL);
}

TEST(prefix_quotes_the_inner_reason)
{
    struct why why;
    fails(&why, 20);
    why_set(&why, "reset: %s (%s)", why.text, "again");
    CHECK(!strcmp(why.text, "reset: not ready after 20 ms (again)"), "text: %s", why.text);
}

TEST(long_text_is_cut)
{
    struct why why;
    char big[2 * WHY_TEXT];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    why_set(&why, "%s", big);
    CHECK(strlen(why.text) == WHY_TEXT - 1, "length %zu", strlen(why.text));
}

int main(void)
{
    RUN(set_formats_and_returns_false);
    RUN(null_why_is_allowed);
    RUN(prefix_quotes_the_inner_reason);
    RUN(long_text_is_cut);
    return check_finish();
}
