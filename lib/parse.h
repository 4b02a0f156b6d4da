/* Small number parsers shared by the config parser and drivers. */
#ifndef LIB_PARSE_H
#define LIB_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* Parse a whole decimal or 0x-hex unsigned number; false on junk/overflow. */
bool parse_u64(const char *s, uint64_t *out);
/* Parse up to max numbers separated by sep; returns how many, -1 on junk. */
int parse_u64_list(const char *s, char sep, uint64_t *out, int max);
/* Parse "SEG:BB:DD.F" or "BB:DD.F" (hex) into its parts. */
bool parse_bdf(const char *s, uint16_t *seg, uint8_t *bus, uint8_t *dev, uint8_t *fn);

#endif
