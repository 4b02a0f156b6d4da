/* 16-byte atomic store and load with LOCK CMPXCHG16B.
 *
 * The IOMMU fetches context and PASID entries in 128-bit pieces; a chunk
 * written with two 64-bit stores can be seen half old, half new.  These
 * helpers make the whole 16 bytes change in one access.  The address must
 * be 16-byte aligned (CMPXCHG16B raises #GP otherwise) and the CPU must
 * report CPUID.01H:ECX.CX16 (check atomic128_supported() once, before any
 * PASID work, and refuse it with a clear message when it is missing).
 *
 * Pure inline assembly on general registers: builds freestanding with
 * -mgeneral-regs-only and on the host with -mcx16. */
#ifndef ARCH_X86_ATOMIC128_H
#define ARCH_X86_ATOMIC128_H

#include <stdbool.h>
#include <stdint.h>

struct atomic128 {
    uint64_t lo, hi;
} __attribute__((aligned(16)));

static inline bool atomic128_supported(void)
{
    uint32_t a = 1, b, c = 0, d;

    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return (c >> 13) & 1; /* CPUID.01H:ECX bit 13 = CX16 */
}

static inline bool atomic128_is_aligned(const volatile void *p)
{
    return ((uintptr_t)p & 15) == 0;
}

/* If *p == *expected, store desired and return true; else load *p into
 * *expected and return false.  Both in one locked access. */
static inline bool atomic128_cmpxchg(volatile struct atomic128 *p, struct atomic128 *expected,
                                     struct atomic128 desired)
{
    bool swapped;

    __asm__ volatile("lock cmpxchg16b %[mem]"
                     : [mem] "+m"(*p), "=@ccz"(swapped), "+a"(expected->lo), "+d"(expected->hi)
                     : "b"(desired.lo), "c"(desired.hi)
                     : "memory");
    return swapped;
}

/* Read 16 bytes atomically.  CMPXCHG16B with expected == desired never
 * changes memory but always returns the current value; it needs the line
 * writable, which entry tables are. */
static inline struct atomic128 atomic128_load(volatile struct atomic128 *p)
{
    struct atomic128 v = {0, 0};

    atomic128_cmpxchg(p, &v, v);
    return v;
}

/* Write 16 bytes atomically: retry until the compare succeeds.  Each
 * failure refreshes `seen` with the current value, so with no other
 * writer it takes at most two attempts. */
static inline void atomic128_store(volatile struct atomic128 *p, struct atomic128 v)
{
    struct atomic128 seen = {p->lo, p->hi};

    while (!atomic128_cmpxchg(p, &seen, v))
        ;
}

#endif
