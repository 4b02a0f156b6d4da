/* Descriptor tables: a flat 64-bit GDT with a TSS per CPU, and one IDT
 * shared by all CPUs whose gates point at the entries in isr.asm. */
#include "arch/x86/percpu.h"

#include "lib/kstring.h"

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18

static struct percpu bsp_record;
struct percpu *percpu = &bsp_record;
uint32_t percpu_capacity = 1;
uint32_t cpus_online = 1;

struct idt_gate {
    uint16_t off_lo;
    uint16_t sel;
    uint8_t ist;
    uint8_t type;
    uint16_t off_mid;
    uint32_t off_hi;
    uint32_t reserved;
} __attribute__((packed));

struct dtr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(16)));
extern char isr_entries[];

void gdt_load(struct percpu *pc)
{
    uint64_t tss = (uint64_t)(uintptr_t)&pc->tss;
    uint64_t limit = sizeof(pc->tss) - 1;

    pc->gdt[0] = 0;
    pc->gdt[1] = 0x00af9a000000ffffull; /* 64-bit code, DPL 0 */
    pc->gdt[2] = 0x00cf92000000ffffull; /* data, DPL 0 */
    pc->gdt[3] = (limit & 0xffff) | ((tss & 0xffffff) << 16) | (0x89ull << 40) |
                 (((limit >> 16) & 0xf) << 48) | (((tss >> 24) & 0xff) << 56);
    pc->gdt[4] = tss >> 32;
    pc->gdt[5] = 0;
    pc->tss.iomap_base = sizeof(pc->tss);
    if (pc->ist_stack)
        pc->tss.ist[0] = ((uint64_t)(uintptr_t)pc->ist_stack + IST_STACK_SIZE) & ~0xfull;

    struct dtr gdtr = { sizeof(pc->gdt) - 1, (uint64_t)(uintptr_t)pc->gdt };
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "mov %2, %%ax\n\t"
                     "mov %%ax, %%ds\n\t"
                     "mov %%ax, %%es\n\t"
                     "mov %%ax, %%ss\n\t"
                     "xor %%eax, %%eax\n\t"
                     "mov %%ax, %%fs\n\t"
                     "mov %%ax, %%gs\n\t"
                     "mov %3, %%ax\n\t"
                     "ltr %%ax" ::"m"(gdtr),
                     "i"(SEL_CODE), "i"(SEL_DATA), "i"(SEL_TSS)
                     : "rax", "memory");
}

void idt_init(void)
{
    for (int v = 0; v < 256; v++) {
        uint64_t h = (uint64_t)(uintptr_t)(isr_entries + 16 * v);
        idt[v].off_lo = h & 0xffff;
        idt[v].sel = SEL_CODE;
        /* #NMI, #DF and #MC run on IST1: the faulting stack may be gone. */
        idt[v].ist = (v == 2 || v == 8 || v == 18) ? 1 : 0;
        idt[v].type = 0x8e; /* present, DPL 0, 64-bit interrupt gate */
        idt[v].off_mid = (h >> 16) & 0xffff;
        idt[v].off_hi = h >> 32;
        idt[v].reserved = 0;
    }
}

void idt_load(void)
{
    struct dtr idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" ::"m"(idtr));
}
