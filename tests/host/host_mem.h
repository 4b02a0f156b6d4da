/* The ACPI parsers' allocator (struct acpi_mem) on the host: calloc and
 * free, with the live allocations counted so that a test can see every
 * block given back; and one that always fails, for the out-of-memory
 * path. */
#ifndef TESTS_HOST_HOST_MEM_H
#define TESTS_HOST_HOST_MEM_H

#include <stddef.h>

#include "acpi/table.h"

extern const struct acpi_mem host_mem;      /* calloc/free */
extern const struct acpi_mem host_mem_none; /* every allocation fails */

/* Blocks and bytes host_mem has handed out and not had back. */
extern unsigned host_mem_live;
extern size_t host_mem_live_bytes;

#endif
