/* Per-CPU state: descriptor tables, the TSS with its emergency stacks, and
 * what the CPU is doing (for the watchdog's and the crash report's
 * "where were we"). */
#ifndef ARCH_X86_PERCPU_H
#define ARCH_X86_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#define IST_STACK_SIZE 16384

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

struct percpu {
    uint32_t index;   /* 0 = bootstrap CPU */
    uint32_t apic_id;
    bool online;
    uint64_t gdt[7];  /* null, code, data, TSS (2 slots), spare */
    struct tss64 tss;
    uint8_t *ist_stack; /* IST1: #DF, #NMI, #MC */
    uint64_t *guard;  /* jmp buffer of the active guarded region, or NULL */
    uint32_t guard_vector;
    uint64_t guard_error, guard_rip, guard_cr2;
    const char *activity; /* what this CPU is doing, for reports */
};

/* percpu[0 .. percpu_capacity): one static record for the bootstrap CPU
 * until percpu_reserve() moves them all into allocated memory. */
extern struct percpu *percpu;
extern uint32_t percpu_capacity;
extern uint32_t cpus_online;

/* Room for n CPU records, taken from the page allocator; the BSP's record
 * moves along (its GDT and TSS are reloaded).  Call on the BSP before any
 * AP starts.  False when memory is short: the capacity stays as it was. */
bool percpu_reserve(uint32_t n);

/* This CPU's record, found from the LAPIC ID (cheap enough for reports). */
struct percpu *this_cpu(void);
void percpu_set_activity(const char *what);

/* Load this CPU's GDT (with TSS) and the shared IDT. */
void gdt_load(struct percpu *pc);
void idt_init(void);
void idt_load(void);

#endif
