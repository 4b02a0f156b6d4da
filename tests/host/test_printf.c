// HOST-DEPS: lib/printf.c
/* The freestanding printf against the C library's for the formats we use. */
#include "lib/printf.h"
#include "tests/host/check.h"

#include <stdint.h>
#include <string.h>

CHECK_STATE_DEFINE;

#define SAME(...)                                                              \
    do {                                                                       \
        char a[128], b[128];                                                   \
        int na = ksnprintf(a, sizeof(a), __VA_ARGS__);                         \
        int nb = snprintf(b, sizeof(b), __VA_ARGS__);                          \
        CHECK(na == nb && strcmp(a, b) == 0, "'%s' (%d) vs libc '%s' (%d)", a, \
              na, b, nb);                                                      \
    } while (0)

TEST(integers)
{
    SAME("%d %i %u", 0, -42, 42u);
    SAME("%d", INT32_MIN);
    SAME("%lld", (long long)INT64_MIN);
    SAME("%llu", (unsigned long long)UINT64_MAX);
    SAME("%x %X %#x %#X %#x", 0xabcdu, 0xabcdu, 0x1fu, 0x1fu, 0u);
    SAME("%o %#o", 8u, 8u);
    SAME("%5d|%-5d|%05d|%+d|% d", 42, 42, -42, 42, 42);
    SAME("%.3d|%8.3d|%-8.3x|%.0d", 7, 7, 0xau, 0);
    SAME("%016llx", 0x1234ull);
    SAME("%zu %zx", (size_t)123, (size_t)0xfff);
    SAME("%hhu %hu %hhd", 300u, 70000u, 200);
    SAME("%lu %lx", 123456789ul, 0xdeadbeeful);
    SAME("%*d|%-*d|%.*d", 6, 1, 6, 2, 3, 4);
}

TEST(strings_and_chars)
{
    SAME("%s|%10s|%-10s|%.2s", "abc", "abc", "abc", "abc");
    SAME("%c%c|%3c|%-3c|", 'x', 'y', 'z', 'w');
    SAME("100%%");
    SAME("%p", (void *)0x1000);
}

TEST(truncation)
{
    char buf[8];
    int n = ksnprintf(buf, sizeof(buf), "%s", "0123456789");
    CHECK(n == 10, "returned %d", n);
    CHECK(strcmp(buf, "0123456") == 0, "got '%s'", buf);
    n = ksnprintf(NULL, 0, "%d", 12345);
    CHECK(n == 5, "size-0 call returned %d", n);
}

static char sunk[256];
static size_t sunk_len;
static void sink(const char *s, size_t len)
{
    memcpy(sunk + sunk_len, s, len);
    sunk_len += len;
}

TEST(sink)
{
    printf_set_sink(sink);
    kprintf("a=%d ", 1);
    kprintf("b=%s\n", "two");
    printf_set_sink(NULL);
    CHECK(sunk_len == 10 && memcmp(sunk, "a=1 b=two\n", 10) == 0, "sink got '%.*s'",
          (int)sunk_len, sunk);
}

int main(void)
{
    RUN(integers);
    RUN(strings_and_chars);
    RUN(truncation);
    RUN(sink);
    return check_finish();
}
