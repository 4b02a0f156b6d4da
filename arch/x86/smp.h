/* Application processors: start-up, and running a function on one of them. */
#ifndef ARCH_X86_SMP_H
#define ARCH_X86_SMP_H

#include <stdbool.h>
#include <stdint.h>

/* Start every CPU of `apic_ids` (the BSP's own id is skipped), up to `max`
 * CPUs in all; their records and stacks are allocated for as many as the
 * list holds.  A CPU that does not answer within its deadline, or whose
 * APIC ID the local APIC mode cannot address, is reported and left out.
 * Returns the number of CPUs online, BSP included. */
uint32_t smp_start(uint64_t trampoline_phys, const uint32_t *apic_ids, uint32_t n, uint32_t max);

/* Run fn(arg) on CPU `index` (1..cpus_online-1); returns false when that
 * CPU is not online or still busy. */
bool smp_run_on(uint32_t index, void (*fn)(void *), void *arg);
/* Wait (bounded) for the function started by smp_run_on to return. */
bool smp_wait(uint32_t index, uint64_t timeout_us);
bool smp_busy(uint32_t index);
/* How long an AP may take to start or to answer: 1 s on hardware, 10 s
 * under a hypervisor (TCG with many vCPUs on few host cores). */
uint64_t ap_deadline_us(void);

#endif
