/* The watchdog: a 10 Hz LAPIC timer tick on the bootstrap CPU checks the
 * run-wide and per-suite deadlines.  It runs in interrupt context, so it
 * catches a test spinning with interrupts on; a CPU stuck with interrupts
 * off is caught by the other CPUs' ticks once SMP is up. */
#include "arch/x86/lapic.h"
#include "arch/x86/percpu.h"
#include "arch/x86/trap.h"
#include "arch/x86/tsc.h"
#include "lib/ktap.h"
#include "lib/printf.h"
#include "app/run.h"

static uint64_t run_deadline, suite_deadline;
static const char *suite_name = "startup";
static uint32_t suite_seconds;

static void tick(struct trap_frame *f, void *ctx)
{
    (void)ctx;
    const char *what = NULL;
    if (run_deadline && deadline_passed(run_deadline))
        what = "run timeout";
    else if (suite_deadline && deadline_passed(suite_deadline))
        what = "suite timeout";
    if (!what)
        return;
    run_deadline = suite_deadline = 0;
    lapic_timer_start(VEC_WATCHDOG, 0, false);
    struct percpu *pc = this_cpu();
    kprintf("# WATCHDOG: %s in suite '%s' (limit %u s) on CPU %u\n", what, suite_name,
            suite_seconds, pc->index);
    kprintf("#   activity '%s', last hardware wait '%s', rip %#llx\n",
            pc->activity ? pc->activity : "?", wait_last_what, (unsigned long long)f->rip);
    lapic_eoi();
    run_abort(EXIT_TIMEOUT, what);
}

void watchdog_start(uint32_t run_seconds)
{
    irq_register(VEC_WATCHDOG, tick, 0);
    run_deadline = run_seconds ? deadline_after_us((uint64_t)run_seconds * 1000000) : 0;
    lapic_timer_start(VEC_WATCHDOG, 100000, true);
}

void watchdog_suite(const char *suite, uint32_t seconds)
{
    suite_name = suite;
    suite_seconds = seconds;
    suite_deadline = seconds ? deadline_after_us((uint64_t)seconds * 1000000) : 0;
}

void watchdog_extend(uint32_t seconds)
{
    uint64_t more = us_to_ticks((uint64_t)seconds * 1000000);
    if (run_deadline)
        run_deadline += more;
    if (suite_deadline) {
        suite_deadline += more;
        suite_seconds += seconds;
    }
}
