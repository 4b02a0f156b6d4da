/* Ending a run: the last line, the result variable, the screen banner and
 * the configured end action. */
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/trap.h"
#include "arch/x86/tsc.h"
#include "boot/efi_runtime.h"
#include "drivers/console.h"
#include "iommu/vtd.h"
#include "lib/alloc.h"
#include "lib/ktap.h"
#include "lib/printf.h"
#include "app/checkpoint.h"
#include "app/results.h"
#include "app/run.h"
#include "app/stop_dma.h"

static volatile uint32_t ending;

static void qemu_exit(enum exit_code code)
{
    console_flush();
    outl(0xf4, code); /* isa-debug-exit: QEMU exits with (code << 1) | 1 */
    /* The exit takes effect asynchronously under multi-threaded TCG (QEMU's
     * main loop carries it out): give it time before concluding that there
     * is no debug-exit device.  200 ms were not enough once, with four
     * make tests sharing two host cores (dmar-corrupt printed the fallback
     * line after its summary); waiting longer costs nothing when it works. */
    udelay(2000000);
}

static void __attribute__((noreturn)) halt_forever(void)
{
    for (;;) {
        irq_disable();
        cpu_halt();
    }
}

static bool campaign_complete(void)
{
    return checkpoint_campaign_runs() && checkpoint_campaign_run() >= checkpoint_campaign_runs();
}

/* Said before the last line, which must stay the summary. */
static void say_campaign(void)
{
    uint32_t run = checkpoint_campaign_run(), runs = checkpoint_campaign_runs();
    if (runs && campaign_complete())
        kprintf("# end: run %u of %u: the campaign is complete\n", run, runs);
    else if (runs)
        kprintf("# end: run %u of %u: rebooting into the next run\n", run, runs);
}

static void end_machine(enum exit_code code)
{
    enum end_action act = (enum end_action)cfg.end;
    /* A runs=N campaign reboots until its last run, which ends as auto. */
    if (act == END_REBOOT && campaign_complete())
        act = END_AUTO;
    if (act == END_AUTO)
        act = cpu_is_qemu() ? END_EXIT : END_HALT;
    switch (act) {
    case END_EXIT:
        if (cpu_is_qemu())
            qemu_exit(code);
        kprintf("# end: no QEMU exit device; shutting down\n");
        efi_reset(EFI_RESET_OFF);
        break;
    case END_REBOOT:
        efi_reset(EFI_RESET_COLD);
        outb(0xcf9, 0x06); /* reset control register fallback */
        break;
    case END_SHUTDOWN:
        efi_reset(EFI_RESET_OFF);
        break;
    default:
        break;
    }
    kprintf("# end: halted (result stays on screen; reset the machine to continue)\n");
    halt_forever();
}

static enum exit_code verdict(void)
{
    struct ktap_totals t;
    ktap_totals(&t);
    if (t.failed)
        return EXIT_FAIL;
    if (!t.passed && t.skipped)
        return EXIT_ALL_SKIPPED;
    return EXIT_PASS;
}

static void finish(enum exit_code code, const char *reason)
{
    lapic_timer_start(VEC_WATCHDOG, 0, false);
    /* Devices first, then the units: a device still running with IOVAs
     * would DMA untranslated once translation is off. */
    stop_test_dma();
    /* Translation off on the units the tests used; the units left alone
     * keep it as found (app/leave_alone.h).  No-op without units. */
    vtd_shutdown_all();
    struct ktap_totals t;
    ktap_totals(&t);
    struct alloc_stats mem;
    alloc_get_stats(&mem);
    kprintf("# memory: peak %llu KiB allocated of %llu MiB free at start (image %llu KiB)\n",
            (unsigned long long)(mem.peak_used_pages * 4),
            (unsigned long long)(mem.total_pages / 256),
            (unsigned long long)(boot->image_size / 1024));
    kprintf("# run time %llu ms, verdict %s\n", (unsigned long long)(uptime_us() / 1000),
            code == EXIT_PASS ? "PASS" : code == EXIT_ALL_SKIPPED ? "SKIPPED" : "FAIL");
    results_save(code, reason);
    checkpoint_done(); /* after the result: a checkpoint alone means a dead run */
    char banner[64];
    ksnprintf(banner, sizeof(banner), "%s  %d passed %d failed %d skipped",
              code == EXIT_PASS ? "PASS" : code == EXIT_ALL_SKIPPED ? "SKIP" : "FAIL", t.passed,
              t.failed, t.skipped);
    console_screen_banner(banner, code == EXIT_PASS);
    say_campaign();
    ktap_end();
    end_machine(code);
}

void run_finish(void)
{
    if (__atomic_exchange_n(&ending, 1, __ATOMIC_ACQ_REL))
        halt_forever();
    finish(verdict(), NULL);
    halt_forever();
}

void run_abort(enum exit_code code, const char *reason)
{
    if (__atomic_exchange_n(&ending, 1, __ATOMIC_ACQ_REL))
        halt_forever(); /* another CPU is already ending the run */
    ktap_bail_out(code == EXIT_TIMEOUT ? "TIMEOUT" : "ERROR", reason);
    finish(code, reason);
    halt_forever();
}
