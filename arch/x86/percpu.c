/* Finding this CPU's record. */
#include "arch/x86/percpu.h"

#include "arch/x86/lapic.h"

struct percpu *this_cpu(void)
{
    if (cpus_online <= 1)
        return &percpu[0];
    uint32_t id = lapic_id();
    for (uint32_t i = 0; i < MAX_CPUS; i++)
        if (percpu[i].online && percpu[i].apic_id == id)
            return &percpu[i];
    return &percpu[0];
}

void percpu_set_activity(const char *what)
{
    this_cpu()->activity = what;
}
