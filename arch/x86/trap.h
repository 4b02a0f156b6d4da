/* Exceptions and interrupts. */
#ifndef ARCH_X86_TRAP_H
#define ARCH_X86_TRAP_H

#include <stdbool.h>
#include <stdint.h>

struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* Interrupt vectors used by vtdsync (exceptions are 0..31). */
enum {
    VEC_LAPIC_TIMER = 0x30,
    VEC_SELF_TEST = 0x31,
    VEC_CALL_FUNCTION = 0x32,
    VEC_WATCHDOG = 0x33,
    VEC_IOMMU_FAULT = 0x40, /* + unit index, up to 16 units */
    VEC_NVME = 0x60,
    VEC_SPURIOUS = 0xff,
};

typedef void (*irq_handler_fn)(struct trap_frame *f, void *ctx);
void irq_register(uint8_t vector, irq_handler_fn fn, void *ctx);
uint64_t irq_count(uint8_t vector);

/* Called once an unguarded exception has been reported: ends the run as a
 * crash.  Set by the runner; never returns. */
extern void (*trap_fatal)(const char *reason);

/* Run fn(arg) so that an exception inside it returns here instead of
 * ending the run.  Returns 0 when fn returned normally, otherwise the
 * vector + 1, with the details in *out. */
struct guard_result {
    uint32_t vector;
    uint64_t error, rip, cr2;
};
int guard_run(void (*fn)(void *), void *arg, struct guard_result *out);

const char *exception_name(uint32_t vector);
void trap_init_bsp(void);

#endif
