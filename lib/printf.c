/* Freestanding printf: formatting into a bounded buffer, and a console
 * variant that formats into a stack buffer and hands it to a sink. */
#include "lib/printf.h"

#include <stdbool.h>
#include <stdint.h>

struct out {
    char *buf;
    size_t size;
    size_t pos; /* characters produced, may exceed size */
};

static void put(struct out *o, char c)
{
    if (o->pos + 1 < o->size)
        o->buf[o->pos] = c;
    o->pos++;
}

static void put_repeat(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

struct spec {
    bool left, zero, space, plus, alt;
    int width;
    int prec; /* -1: none */
};

static void put_string(struct out *o, const char *s, const struct spec *sp)
{
    int len = 0;
    if (!s)
        s = "(null)";
    while (s[len] && (sp->prec < 0 || len < sp->prec))
        len++;
    if (!sp->left)
        put_repeat(o, ' ', sp->width - len);
    for (int i = 0; i < len; i++)
        put(o, s[i]);
    if (sp->left)
        put_repeat(o, ' ', sp->width - len);
}

static void put_number(struct out *o, uint64_t v, bool neg, unsigned base,
                       bool upper, const struct spec *sp)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;

    while (v) {
        tmp[n++] = digits[v % base];
        v /= base;
    }
    int ndigits = n;
    if (sp->prec >= 0) {
        if (ndigits < sp->prec)
            ndigits = sp->prec;
    } else if (ndigits == 0) {
        ndigits = 1;
    }

    const char *prefix = "";
    if (neg)
        prefix = "-";
    else if (sp->plus)
        prefix = "+";
    else if (sp->space)
        prefix = " ";
    if (sp->alt && base == 16 && n)
        prefix = upper ? "0X" : "0x";
    if (sp->alt && base == 8 && ndigits <= n)
        ndigits = n + 1;
    int plen = 0;
    while (prefix[plen])
        plen++;

    int pad = sp->width - plen - ndigits;
    bool zero_pad = sp->zero && !sp->left && sp->prec < 0;
    if (!sp->left && !zero_pad)
        put_repeat(o, ' ', pad);
    for (int i = 0; i < plen; i++)
        put(o, prefix[i]);
    if (zero_pad)
        put_repeat(o, '0', pad);
    put_repeat(o, '0', ndigits - n);
    while (n)
        put(o, tmp[--n]);
    if (sp->left)
        put_repeat(o, ' ', pad);
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };

    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put(&o, *p);
            continue;
        }
        struct spec sp = { .prec = -1 };
        for (;; p++) {
            char f = p[1];
            if (f == '-') sp.left = true;
            else if (f == '0') sp.zero = true;
            else if (f == ' ') sp.space = true;
            else if (f == '+') sp.plus = true;
            else if (f == '#') sp.alt = true;
            else break;
        }
        p++;
        if (*p == '*') {
            sp.width = va_arg(ap, int);
            if (sp.width < 0) {
                sp.left = true;
                sp.width = -sp.width;
            }
            p++;
        } else {
            while (*p >= '0' && *p <= '9')
                sp.width = sp.width * 10 + (*p++ - '0');
        }
        if (*p == '.') {
            p++;
            sp.prec = 0;
            if (*p == '*') {
                sp.prec = va_arg(ap, int);
                if (sp.prec < 0)
                    sp.prec = -1;
                p++;
            } else {
                while (*p >= '0' && *p <= '9')
                    sp.prec = sp.prec * 10 + (*p++ - '0');
            }
        }
        int lng = 0; /* -2 hh, -1 h, 0 int, 1 long, 2 long long / 64-bit */
        for (;; p++) {
            if (*p == 'h') lng--;
            else if (*p == 'l') lng++;
            else if (*p == 'z' || *p == 't' || *p == 'j') lng = 2;
            else break;
        }
        char c = *p;
        if (c == '\0')
            break;

        uint64_t u = 0;
        bool neg = false;
        switch (c) {
        case 'd':
        case 'i': {
            int64_t s;
            if (lng >= 1) s = lng == 1 ? va_arg(ap, long) : va_arg(ap, long long);
            else s = va_arg(ap, int);
            if (lng == -1) s = (short)s;
            if (lng <= -2) s = (signed char)s;
            neg = s < 0;
            u = neg ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
            put_number(&o, u, neg, 10, false, &sp);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o':
            if (lng >= 1) u = lng == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned long long);
            else u = va_arg(ap, unsigned int);
            if (lng == -1) u = (unsigned short)u;
            if (lng <= -2) u = (unsigned char)u;
            put_number(&o, u, false, c == 'u' ? 10 : c == 'o' ? 8 : 16, c == 'X', &sp);
            break;
        case 'p':
            sp.alt = true;
            put_number(&o, (uintptr_t)va_arg(ap, void *), false, 16, false, &sp);
            break;
        case 'c': {
            char ch = (char)va_arg(ap, int);
            if (!sp.left) put_repeat(&o, ' ', sp.width - 1);
            put(&o, ch);
            if (sp.left) put_repeat(&o, ' ', sp.width - 1);
            break;
        }
        case 's':
            put_string(&o, va_arg(ap, const char *), &sp);
            break;
        case '%':
            put(&o, '%');
            break;
        default: /* unknown conversion: print it literally */
            put(&o, '%');
            put(&o, c);
            break;
        }
    }
    if (size)
        buf[o.pos < size ? o.pos : size - 1] = '\0';
    return (int)o.pos;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

static print_sink_fn sink;

void printf_set_sink(print_sink_fn s)
{
    sink = s;
}

int kvprintf(const char *fmt, va_list ap)
{
    char line[512];
    va_list copy;
    va_copy(copy, ap);
    int n = kvsnprintf(line, sizeof(line), fmt, copy);
    va_end(copy);
    if (!sink)
        return n;
    if ((size_t)n < sizeof(line)) {
        sink(line, (size_t)n);
        return n;
    }
    /* Too long for the stack buffer: say so rather than lose it silently. */
    sink(line, sizeof(line) - 1);
    sink("[...truncated]\n", 15);
    return n;
}

int kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvprintf(fmt, ap);
    va_end(ap);
    return n;
}
