/* Finding this CPU's record, and making room for every CPU's. */
#include "arch/x86/percpu.h"

#include "arch/x86/lapic.h"
#include "lib/kstring.h"
#include "lib/page.h"

struct percpu *this_cpu(void)
{
    if (cpus_online <= 1)
        return &percpu[0];
    uint32_t id = lapic_id();
    for (uint32_t i = 0; i < percpu_capacity; i++)
        if (percpu[i].online && percpu[i].apic_id == id)
            return &percpu[i];
    return &percpu[0];
}

void percpu_set_activity(const char *what)
{
    this_cpu()->activity = what;
}

bool percpu_reserve(uint32_t n)
{
    if (n <= percpu_capacity)
        return true;
    uint64_t pages = ((uint64_t)n * sizeof(struct percpu) + PAGE_SIZE - 1) / PAGE_SIZE;
    struct percpu *t = page_alloc(pages);
    if (!t)
        return false;
    memcpy(t, percpu, percpu_capacity * sizeof(*t));
    /* The loaded GDT and TSS are inside the BSP's old record: switch to the
     * copies before anything else can look. */
    gdt_load(&t[0]);
    percpu = t;
    percpu_capacity = n;
    return true;
}
