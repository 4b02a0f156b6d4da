// HOST-DEPS: lib/printf.c acpi/diag.c acpi/table.c acpi/mcfg.c tests/host/host_mem.c
/* libFuzzer harness for the MCFG parser.  Seeds: tests/fuzz/corpus/mcfg. */
#include <stddef.h>
#include <stdint.h>

#include "acpi/mcfg.h"
#include "tests/host/acpi_testlib.h"
#include "tests/host/host_mem.h"

static struct mcfg_info info;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct acpi_diag d = {diag_check_sink, NULL, 0, 0};

    mcfg_parse(data, size, &host_mem, &info, &d);
    if (info.count > MCFG_MAX_WINDOWS)
        __builtin_trap();
    for (unsigned i = 0; i < info.count; i++) {
        const struct mcfg_window *w = &info.windows[i];
        if (w->end_bus < w->start_bus || (w->base & 0xfffff))
            __builtin_trap();
        /* Kept windows never overlap, so each bus has one address. */
        uint64_t a = mcfg_ecam_address(&info, w->segment, w->start_bus, 31, 7);
        if (a != w->base + ((uint64_t)w->start_bus << 20) + (31u << 15) + (7u << 12))
            __builtin_trap();
    }
    mcfg_release(&info);
    return 0;
}
