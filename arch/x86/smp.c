/* SMP bring-up with INIT-SIPI-SIPI, and a one-slot work queue per AP.
 *
 * All APs are started together: INIT to each, 10 ms, then SIPI to each,
 * twice.  Each AP claims the next slot in the trampoline (stack + record),
 * so records 1 .. cpus_online-1 are dense in arrival order, and starting
 * 72 vCPUs under TCG costs one start-up latency rather than 72.
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
extern char ap_tramp_slots[], ap_tramp_next[], ap_tramp_limit[], ap_tramp_entry[];
extern char ap_tramp_long_mode_off[];

/* What the trampoline reads for slot i (layout fixed by trampoline.asm). */
struct ap_slot {
    uint64_t stack_top;
    struct percpu *pc;
};

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
    pc->apic_id = lapic_id(); /* slots are claimed in arrival order */
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

static void prepare_trampoline(uint8_t *page, struct ap_slot *slots, uint32_t limit)
{
    uint64_t base = virt_to_phys(page);
    size_t size = (size_t)(ap_trampoline_end - ap_trampoline);
    memcpy(page, ap_trampoline, size);
    uint64_t long_mode_off = *(uint64_t *)(page + field_off(ap_tramp_long_mode_off));
    *(uint32_t *)(page + field_off(ap_tramp_gdtr) + 2) = (uint32_t)(base + field_off(ap_tramp_gdt));
    *(uint32_t *)(page + field_off(ap_tramp_farptr)) = (uint32_t)(base + long_mode_off);
    *(uint64_t *)(page + field_off(ap_tramp_cr3)) = read_cr3();
    *(uint64_t *)(page + field_off(ap_tramp_slots)) = (uint64_t)(uintptr_t)slots;
    *(uint64_t *)(page + field_off(ap_tramp_entry)) = (uint64_t)(uintptr_t)ap_main;
    *(uint32_t *)(page + field_off(ap_tramp_next)) = 1;
    *(uint32_t *)(page + field_off(ap_tramp_limit)) = limit;
    mfence();
}

uint64_t ap_deadline_us(void)
{
    return cpu.hypervisor ? 10000000 : 1000000;
}

/* xAPIC destinations are 8 bits and 0xff is the broadcast: a CPU with a
 * larger APIC ID can only be started in x2APIC mode. */
static bool addressable(uint32_t apic_id)
{
    return lapic_x2apic || apic_id < 0xff;
}

/* Records, stacks and slots for APs 1..want; returns how many got them. */
static uint32_t prepare_records(struct ap_slot *slots, uint32_t want)
{
    for (uint32_t i = 1; i <= want; i++) {
        struct percpu *pc = &percpu[i];
        uint8_t *stack = page_alloc(AP_STACK_PAGES);
        uint8_t *ist = page_alloc(IST_STACK_SIZE / 4096);
        if (!stack || !ist) {
            page_free(stack, AP_STACK_PAGES);
            page_free(ist, IST_STACK_SIZE / 4096);
            kprintf("# smp: out of memory for the stacks of CPUs %u and up\n", i);
            return i - 1;
        }
        memset(pc, 0, sizeof(*pc));
        pc->index = i;
        pc->apic_id = ~0u; /* set by the AP that claims the slot */
        pc->ist_stack = ist;
        pc->activity = "starting";
        slots[i].stack_top = virt_to_phys(stack) + AP_STACK_PAGES * 4096;
        slots[i].pc = pc;
    }
    return want;
}

static uint32_t count_online(uint32_t upto)
{
    uint32_t n = 0;
    for (uint32_t i = 1; i <= upto; i++)
        n += __atomic_load_n(&percpu[i].online, __ATOMIC_ACQUIRE);
    return n;
}

/* INIT, 10 ms, SIPI, 200 us, SIPI, to each target in turn (the SDM's
 * sequence; a second SIPI is ignored by a CPU already running). */
static void send_start_ipis(const uint32_t *ids, uint32_t n, uint32_t bsp, uint64_t tramp)
{
    for (uint32_t i = 0; i < n; i++)
        if (ids[i] != bsp && addressable(ids[i])) {
            lapic_send_init(ids[i]);
            lapic_ipi_wait();
        }
    udelay(10000);
    for (int sipi = 0; sipi < 2; sipi++) {
        for (uint32_t i = 0; i < n; i++)
            if (ids[i] != bsp && addressable(ids[i])) {
                lapic_send_sipi(ids[i], (uint8_t)(tramp >> 12));
                lapic_ipi_wait();
            }
        udelay(200);
    }
}

/* Name the CPUs that did not come up (a few; then how many more). */
static void report_missing(const uint32_t *ids, uint32_t n, uint32_t bsp, uint32_t upto)
{
    uint32_t missing = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (ids[i] == bsp || !addressable(ids[i]))
            continue;
        bool found = false;
        for (uint32_t k = 1; k <= upto && !found; k++)
            found = percpu[k].online && percpu[k].apic_id == ids[i];
        if (!found && missing++ < 8)
            kprintf("# smp: CPU with APIC id %u did not start; left out\n", ids[i]);
    }
    if (missing > 8)
        kprintf("# smp: and %u more CPUs did not start\n", missing - 8);
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
    uint32_t bsp = lapic_id(), want = 0, unaddressable = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (apic_ids[i] == bsp)
            continue;
        if (addressable(apic_ids[i]))
            want++;
        else
            unaddressable++;
    }
    if (unaddressable)
        kprintf("# smp: %u CPUs left out: APIC IDs of 255 and above need x2APIC, and the "
                "local APIC is in xAPIC mode\n", unaddressable);
    if (max && want > max - 1)
        want = max - 1;
    if (!want)
        return 1;
    uint64_t work_pages = ((uint64_t)(want + 1) * sizeof(*work) + PAGE_SIZE - 1) / PAGE_SIZE;
    uint64_t slot_pages = ((uint64_t)(want + 1) * sizeof(struct ap_slot) + PAGE_SIZE - 1) /
                          PAGE_SIZE;
    work = page_alloc(work_pages);
    struct ap_slot *slots = page_alloc(slot_pages);
    if (!work || !slots || !percpu_reserve(want + 1)) {
        kprintf("# smp: out of memory for %u CPU records; running on the BSP only\n", want + 1);
        page_free(work, work_pages);
        page_free(slots, slot_pages);
        work = 0;
        return 1;
    }
    want = prepare_records(slots, want);
    if (!want)
        return 1;
    irq_register(VEC_CALL_FUNCTION, on_call_ipi, 0);
    uint8_t *page = phys_to_virt(tramp);
    prepare_trampoline(page, slots, want + 1);
    send_start_ipis(apic_ids, n, bsp, tramp);

    /* Real machines answer within microseconds; TCG starts vCPUs slowly,
     * dozens of them on a busy host take seconds. */
    WAIT_FOR(count_online(want) == want, ap_deadline_us(), "AP start-up");
    /* Close the door: an AP that claims a slot from now on gets none and
     * halts.  Those that claimed one before are given a moment to finish. */
    uint32_t *next = (uint32_t *)(page + field_off(ap_tramp_next));
    uint32_t claimed = __atomic_exchange_n(next, want + 1, __ATOMIC_ACQ_REL) - 1;
    if (claimed > want)
        claimed = want;
    WAIT_FOR(count_online(claimed) == claimed, 100000, "APs that claimed a slot");
    for (uint32_t i = claimed + 1; i <= want; i++) {
        page_free(phys_to_virt(slots[i].stack_top - AP_STACK_PAGES * 4096), AP_STACK_PAGES);
        page_free(percpu[i].ist_stack, IST_STACK_SIZE / 4096);
    }
    uint32_t online = count_online(claimed);
    if (online < want)
        report_missing(apic_ids, n, bsp, claimed);
    __atomic_store_n(&cpus_online, claimed + 1, __ATOMIC_RELEASE);
    return online + 1;
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
