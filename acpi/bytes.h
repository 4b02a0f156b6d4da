/* Little-endian field readers for ACPI tables.
 *
 * ACPI tables are byte-packed and their fields are often misaligned, so the
 * parsers never cast a table pointer to a struct: they read each field by
 * byte offset after checking that offset against the table length. */
#ifndef ACPI_BYTES_H
#define ACPI_BYTES_H

#include <stdint.h>

static inline uint8_t acpi_rd8(const uint8_t *p)
{
    return p[0];
}

static inline uint16_t acpi_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t acpi_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t acpi_rd64(const uint8_t *p)
{
    return (uint64_t)acpi_rd32(p) | (uint64_t)acpi_rd32(p + 4) << 32;
}

#endif
