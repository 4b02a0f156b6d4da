/* A test-and-set spinlock.  spin_lock_bounded gives up after a number of
 * spins so that, e.g., an exception taken while the console lock is held
 * still gets its report out instead of deadlocking the machine. */
#ifndef ARCH_X86_SPINLOCK_H
#define ARCH_X86_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cpu.h"

typedef struct {
    volatile uint32_t locked;
} spinlock_t;

static inline bool spin_trylock(spinlock_t *l)
{
    return __atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE) == 0;
}

static inline void spin_lock(spinlock_t *l)
{
    while (!spin_trylock(l))
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
            cpu_relax();
}

static inline bool spin_lock_bounded(spinlock_t *l, uint64_t spins)
{
    while (!spin_trylock(l)) {
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED)) {
            if (spins-- == 0)
                return false;
            cpu_relax();
        }
    }
    return true;
}

static inline void spin_unlock(spinlock_t *l)
{
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
