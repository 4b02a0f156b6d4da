/* Number parsing without the C library. */
#include "lib/parse.h"

#include <stddef.h>

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;
}

/* Parse digits of `base` from *s up to a character not a digit. */
static bool parse_digits(const char **s, unsigned base, uint64_t *out)
{
    uint64_t v = 0;
    const char *p = *s;
    if (digit_value(*p) >= (int)base)
        return false;
    for (; digit_value(*p) < (int)base; p++) {
        uint64_t d = (uint64_t)digit_value(*p);
        if (v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    *s = p;
    *out = v;
    return true;
}

static bool parse_number(const char **s, uint64_t *out)
{
    if ((*s)[0] == '0' && ((*s)[1] == 'x' || (*s)[1] == 'X')) {
        *s += 2;
        return parse_digits(s, 16, out);
    }
    return parse_digits(s, 10, out);
}

bool parse_u64(const char *s, uint64_t *out)
{
    return parse_number(&s, out) && *s == '\0';
}

int parse_u64_list(const char *s, char sep, uint64_t *out, int max)
{
    int n = 0;
    while (*s) {
        if (n == max || !parse_number(&s, &out[n]))
            return -1;
        n++;
        if (*s == sep)
            s++;
        else if (*s)
            return -1;
    }
    return n;
}

bool parse_bdf(const char *s, uint16_t *seg, uint8_t *bus, uint8_t *dev, uint8_t *fn)
{
    uint64_t part[3];
    int colons = 0;
    for (const char *p = s; *p; p++)
        colons += *p == ':';
    uint64_t sg = 0;
    if (colons == 2) {
        if (!parse_digits(&s, 16, &sg) || *s++ != ':' || sg > 0xffff)
            return false;
    } else if (colons != 1) {
        return false;
    }
    if (!parse_digits(&s, 16, &part[0]) || *s++ != ':' || !parse_digits(&s, 16, &part[1]) ||
        *s++ != '.' || !parse_digits(&s, 16, &part[2]) || *s)
        return false;
    if (part[0] > 0xff || part[1] > 0x1f || part[2] > 7)
        return false;
    *seg = (uint16_t)sg;
    *bus = (uint8_t)part[0];
    *dev = (uint8_t)part[1];
    *fn = (uint8_t)part[2];
    return true;
}
