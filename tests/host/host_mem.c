#include "tests/host/host_mem.h"

#include <stdlib.h>

unsigned host_mem_live;
size_t host_mem_live_bytes;

static void *heap_alloc(void *ctx, size_t bytes)
{
    (void)ctx;
    void *p = calloc(1, bytes);
    if (p) {
        host_mem_live++;
        host_mem_live_bytes += bytes;
    }
    return p;
}

static void heap_free(void *ctx, void *p, size_t bytes)
{
    (void)ctx;
    if (!p)
        return;
    host_mem_live--;
    host_mem_live_bytes -= bytes;
    free(p);
}

static void *no_alloc(void *ctx, size_t bytes)
{
    (void)ctx;
    (void)bytes;
    return NULL;
}

const struct acpi_mem host_mem = {heap_alloc, heap_free, NULL};
const struct acpi_mem host_mem_none = {no_alloc, heap_free, NULL};
