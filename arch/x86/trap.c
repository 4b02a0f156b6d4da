/* Exception reporting, guarded regions and the interrupt handler table. */
#include "arch/x86/trap.h"

#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/percpu.h"
#include "lib/kstring.h"
#include "lib/printf.h"

int arch_setjmp(uint64_t buf[9]) __attribute__((returns_twice));
void arch_longjmp(uint64_t buf[9], int value) __attribute__((noreturn));

void (*trap_fatal)(const char *reason);

static struct {
    irq_handler_fn fn;
    void *ctx;
} handlers[256];
static uint64_t counts[256];

static const char *const names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available",
    "#DF double fault", "coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
    "#SS stack fault", "#GP general protection", "#PF page fault", "reserved 15",
    "#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
    "#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
    "reserved 24", "reserved 25", "reserved 26", "reserved 27",
    "#HV hypervisor injection", "#VC VMM communication", "#SX security", "reserved 31",
};

const char *exception_name(uint32_t v)
{
    return v < 32 ? names[v] : "interrupt";
}

void irq_register(uint8_t vector, irq_handler_fn fn, void *ctx)
{
    handlers[vector].ctx = ctx;
    __atomic_store_n(&handlers[vector].fn, fn, __ATOMIC_RELEASE);
}

uint64_t irq_count(uint8_t vector)
{
    return __atomic_load_n(&counts[vector], __ATOMIC_RELAXED);
}

static void dump(const struct trap_frame *f, const struct percpu *pc)
{
    kprintf("# EXCEPTION: vector %llu (%s) on CPU %u (APIC %u) during '%s'\n",
            (unsigned long long)f->vector, exception_name((uint32_t)f->vector), pc->index,
            pc->apic_id, pc->activity ? pc->activity : "?");
    kprintf("#   error %#llx  rip 0x%016llx  cs %#llx  rflags %#llx\n",
            (unsigned long long)f->error, (unsigned long long)f->rip,
            (unsigned long long)f->cs, (unsigned long long)f->rflags);
    kprintf("#   cr2 0x%016llx  cr3 0x%016llx  rsp 0x%016llx  ss %#llx\n",
            (unsigned long long)read_cr2(), (unsigned long long)read_cr3(),
            (unsigned long long)f->rsp, (unsigned long long)f->ss);
    kprintf("#   rax %016llx rbx %016llx rcx %016llx rdx %016llx\n",
            (unsigned long long)f->rax, (unsigned long long)f->rbx,
            (unsigned long long)f->rcx, (unsigned long long)f->rdx);
    kprintf("#   rsi %016llx rdi %016llx rbp %016llx r8  %016llx\n",
            (unsigned long long)f->rsi, (unsigned long long)f->rdi,
            (unsigned long long)f->rbp, (unsigned long long)f->r8);
    kprintf("#   r9  %016llx r10 %016llx r11 %016llx r12 %016llx\n",
            (unsigned long long)f->r9, (unsigned long long)f->r10,
            (unsigned long long)f->r11, (unsigned long long)f->r12);
    kprintf("#   r13 %016llx r14 %016llx r15 %016llx\n", (unsigned long long)f->r13,
            (unsigned long long)f->r14, (unsigned long long)f->r15);
    /* A short backtrace through the frame-pointer chain, bounds-checked. */
    uint64_t rbp = f->rbp;
    for (int i = 0; i < 8 && rbp && !(rbp & 7) && rbp > 0x1000; i++) {
        uint64_t *fp = (uint64_t *)(uintptr_t)rbp;
        kprintf("#   frame %d: return 0x%016llx\n", i, (unsigned long long)fp[1]);
        if (fp[0] <= rbp)
            break;
        rbp = fp[0];
    }
}

void trap_dispatch(struct trap_frame *f)
{
    uint32_t v = (uint32_t)f->vector;
    __atomic_fetch_add(&counts[v], 1, __ATOMIC_RELAXED);

    if (v >= 32) {
        irq_handler_fn fn = __atomic_load_n(&handlers[v].fn, __ATOMIC_ACQUIRE);
        if (fn)
            fn(f, handlers[v].ctx);
        if (v != VEC_SPURIOUS)
            lapic_eoi();
        return;
    }

    struct percpu *pc = this_cpu();
    if (pc->guard) {
        uint64_t *buf = pc->guard;
        pc->guard = NULL;
        pc->guard_vector = v;
        pc->guard_error = f->error;
        pc->guard_rip = f->rip;
        pc->guard_cr2 = read_cr2();
        arch_longjmp(buf, (int)v + 1);
    }

    dump(f, pc);
    char reason[64];
    ksnprintf(reason, sizeof(reason), "exception %s at rip %#llx", exception_name(v),
              (unsigned long long)f->rip);
    if (trap_fatal)
        trap_fatal(reason);
    for (;;) {
        irq_disable();
        cpu_halt();
    }
}

int guard_run(void (*fn)(void *), void *arg, struct guard_result *out)
{
    uint64_t buf[9];
    struct percpu *pc = this_cpu();
    int r = arch_setjmp(buf);
    if (r == 0) {
        pc->guard = buf;
        fn(arg);
        pc->guard = NULL;
        return 0;
    }
    if (out) {
        out->vector = pc->guard_vector;
        out->error = pc->guard_error;
        out->rip = pc->guard_rip;
        out->cr2 = pc->guard_cr2;
    }
    return r;
}

void trap_init_bsp(void)
{
    idt_init();
    idt_load();
}
