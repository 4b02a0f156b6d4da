/* Freestanding string and memory helpers.
 *
 * On target these come from lib/string.c; host builds get them from libc,
 * so portable modules include this header and nothing from the C library. */
#ifndef LIB_KSTRING_H
#define LIB_KSTRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
