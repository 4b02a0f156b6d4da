// HOST-DEPS: lib/printf.c acpi/diag.c acpi/table.c acpi/madt.c tests/host/host_mem.c
/* libFuzzer harness for the MADT parser.  Seeds: tests/fuzz/corpus/madt. */
#include <stddef.h>
#include <stdint.h>

#include "acpi/madt.h"
#include "tests/host/acpi_testlib.h"
#include "tests/host/host_mem.h"

static struct madt_info info;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct acpi_diag d = {diag_check_sink, NULL, 0, 0};

    madt_parse(data, size, &host_mem, &info, &d);
    if (info.ncpus > MADT_MAX_CPUS || info.nioapics > MADT_MAX_IOAPICS ||
        info.noverrides > MADT_MAX_OVERRIDES || info.nnmis > MADT_MAX_NMIS)
        __builtin_trap();
    /* No APIC id twice, and each CPU is usable in some way. */
    for (unsigned i = 0; i < info.ncpus; i++) {
        if (!info.cpus[i].enabled && !info.cpus[i].online_capable)
            __builtin_trap();
        for (unsigned j = 0; j < i; j++) {
            if (info.cpus[i].apic_id == info.cpus[j].apic_id)
                __builtin_trap();
        }
    }
    madt_release(&info);
    return 0;
}
