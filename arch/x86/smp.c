/* SMP bring-up with INIT-SIPI-SIPI, and a one-slot work queue per AP.
 *
 * An idle AP sleeps in HLT with interrupts on; smp_run_on() posts the work
 * and sends an IPI.  Sleeping (rather than spinning) matters under QEMU TCG,
 * where a spinning vCPU takes a host core from the CPU doing the real work. */
#include "arch/x86/smp.h"

#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/paging.h"
#include "arch/x86/percpu.h"
#include "arch/x86/trap.h"
#include "arch/x86/tsc.h"
#include "lib/kstring.h"
#include "lib/page.h"
#include "lib/printf.h"

#define AP_STACK_PAGES 16

extern char ap_trampoline[], ap_trampoline_end[];
extern char ap_tramp_gdt[], ap_tramp_gdtr[], ap_tramp_farptr[], ap_tramp_cr3[];
extern char ap_tramp_stack[], ap_tramp_arg[], ap_tramp_entry[], ap_tramp_long_mode_off[];
extern char ap_tramp_apic_id[];

struct ap_work {
    void (*volatile fn)(void *);
    void *volatile arg;
    volatile bool busy;
};
static struct ap_work *work; /* one per CPU record, allocated by smp_start */

static void on_call_ipi(struct trap_frame *f, void *ctx)
{
    (void)f;
    (void)ctx; /* waking from HLT is all it is for */
}

static void __attribute__((noreturn)) ap_main(struct percpu *pc)
{
    gdt_load(pc);
    idt_load();
    paging_load_pat();
    lapic_init();
    pc->activity = "idle";
    __atomic_store_n(&pc->online, true, __ATOMIC_RELEASE);
    struct ap_work *w = &work[pc->index];
    for (;;) {
        irq_disable();
        void (*fn)(void *) = w->fn;
        if (!fn) {
            /* STI takes effect after HLT starts: no lost wake-up. */
            __asm__ volatile("sti; hlt" ::: "memory");
            continue;
        }
        irq_enable();
        pc->activity = "running work";
        fn(w->arg);
        pc->activity = "idle";
        w->fn = 0;
        __atomic_store_n(&w->busy, false, __ATOMIC_RELEASE);
    }
}

static uint64_t field_off(const char *sym)
{
    return (uint64_t)(sym - ap_trampoline);
}

static void prepare_trampoline(uint8_t *page, struct percpu *pc, uint64_t stack_top)
{
    uint64_t base = virt_to_phys(page);
    size_t size = (size_t)(ap_trampoline_end - ap_trampoline);
    memcpy(page, ap_trampoline, size);
    uint64_t long_mode_off = *(uint64_t *)(page + field_off(ap_tramp_long_mode_off));
    *(uint32_t *)(page + field_off(ap_tramp_gdtr) + 2) = (uint32_t)(base + field_off(ap_tramp_gdt));
    *(uint32_t *)(page + field_off(ap_tramp_farptr)) = (uint32_t)(base + long_mode_off);
    *(uint64_t *)(page + field_off(ap_tramp_cr3)) = read_cr3();
    *(uint64_t *)(page + field_off(ap_tramp_stack)) = stack_top;
    *(uint64_t *)(page + field_off(ap_tramp_arg)) = (uint64_t)(uintptr_t)pc;
    *(uint64_t *)(page + field_off(ap_tramp_entry)) = (uint64_t)(uintptr_t)ap_main;
    *(uint32_t *)(page + field_off(ap_tramp_apic_id)) = pc->apic_id;
    mfence();
}

uint64_t ap_deadline_us(void)
{
    return cpu.hypervisor ? 10000000 : 1000000;
}

static bool start_one(uint64_t tramp, uint32_t apic_id, uint32_t index)
{
    struct percpu *pc = &percpu[index];
    uint8_t *stack = page_alloc(AP_STACK_PAGES);
    uint8_t *ist = page_alloc(IST_STACK_SIZE / 4096);
    if (!stack || !ist) {
        kprintf("# smp: out of memory for CPU %u's stacks\n", apic_id);
        return false;
    }
    memset(pc, 0, sizeof(*pc));
    pc->index = index;
    pc->apic_id = apic_id;
    pc->ist_stack = ist;
    pc->activity = "starting";
    prepare_trampoline(phys_to_virt(tramp), pc, virt_to_phys(stack) + AP_STACK_PAGES * 4096);

    lapic_send_init(apic_id);
    lapic_ipi_wait();
    udelay(10000);
    for (int sipi = 0; sipi < 2 && !__atomic_load_n(&pc->online, __ATOMIC_ACQUIRE); sipi++) {
        lapic_send_sipi(apic_id, (uint8_t)(tramp >> 12));
        lapic_ipi_wait();
        udelay(200);
    }
    /* Real machines answer within microseconds; TCG starts vCPUs slowly,
     * and with dozens of them on a busy host a second is not enough.  A
     * CPU that answers after this deadline halts in the trampoline. */
    if (!WAIT_FOR(__atomic_load_n(&pc->online, __ATOMIC_ACQUIRE), ap_deadline_us(),
                  "AP start-up")) {
        kprintf("# smp: CPU with APIC id %u did not start; left out\n", apic_id);
        page_free(stack, AP_STACK_PAGES);
        return false;
    }
    return true;
}

/* xAPIC destinations are 8 bits and 0xff is the broadcast: a CPU with a
 * larger APIC ID can only be started in x2APIC mode. */
static bool addressable(uint32_t apic_id)
{
    return lapic_x2apic || apic_id < 0xff;
}

uint32_t smp_start(uint64_t tramp, const uint32_t *apic_ids, uint32_t n, uint32_t max)
{
    if (!tramp || tramp >= 0x100000 || (tramp & 0xfff)) {
        kprintf("# smp: no usable trampoline page below 1 MiB; running on the BSP only\n");
        return 1;
    }
    if (read_cr3() >= (1ull << 32)) {
        kprintf("# smp: page tables above 4 GiB; APs cannot load them from real mode\n");
        return 1;
    }
    uint32_t want = n < max ? n : max; /* the BSP is in the list, or one more is needed */
    if (want < 1)
        return 1;
    uint64_t work_pages = ((uint64_t)(want + 1) * sizeof(*work) + PAGE_SIZE - 1) / PAGE_SIZE;
    work = page_alloc(work_pages);
    if (!work || !percpu_reserve(want + 1)) {
        kprintf("# smp: out of memory for %u CPU records; running on the BSP only\n", want + 1);
        page_free(work, work_pages);
        work = 0;
        return 1;
    }
    irq_register(VEC_CALL_FUNCTION, on_call_ipi, 0);
    uint32_t bsp = lapic_id();
    uint32_t online = 1, unaddressable = 0;
    for (uint32_t i = 0; i < n && online < max && online < percpu_capacity; i++) {
        if (apic_ids[i] == bsp)
            continue;
        if (!addressable(apic_ids[i])) {
            unaddressable++;
            continue;
        }
        if (start_one(tramp, apic_ids[i], online)) {
            online++;
            __atomic_store_n(&cpus_online, online, __ATOMIC_RELEASE);
        }
    }
    if (unaddressable)
        kprintf("# smp: %u CPUs left out: APIC IDs of 255 and above need x2APIC, and the "
                "local APIC is in xAPIC mode\n", unaddressable);
    return online;
}

bool smp_busy(uint32_t index)
{
    return work && index < cpus_online && __atomic_load_n(&work[index].busy, __ATOMIC_ACQUIRE);
}

bool smp_run_on(uint32_t index, void (*fn)(void *), void *arg)
{
    if (index == 0 || index >= cpus_online || !percpu[index].online || smp_busy(index))
        return false;
    struct ap_work *w = &work[index];
    w->arg = arg;
    w->busy = true;
    __atomic_store_n(&w->fn, fn, __ATOMIC_RELEASE);
    lapic_send_ipi(percpu[index].apic_id, VEC_CALL_FUNCTION);
    return true;
}

bool smp_wait(uint32_t index, uint64_t timeout_us)
{
    return WAIT_FOR(!smp_busy(index), timeout_us, "AP work to finish");
}
