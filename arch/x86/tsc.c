/* TSC calibration on the machine (the clocks behind tsc_cal.c) and delays. */
#include "arch/x86/tsc.h"
#include "arch/x86/tsc_cal.h"
#include "lib/printf.h"

uint64_t tsc_hz = 2000000000ull;
const char *tsc_source = "assumed 2 GHz";
uint64_t tsc_boot;
const char *volatile wait_last_what = "nothing yet";

void udelay(uint64_t us)
{
    uint64_t dl = deadline_after_us(us);
    while (!deadline_passed(dl))
        cpu_relax();
}

void wait_timed_out(const char *what, uint64_t us)
{
    kprintf("# timeout after %llu us waiting for %s\n", (unsigned long long)us, what);
}

/* ---- the machine's clocks for tsc_cal.c ------------------------------------ */

struct machine_clocks {
    const struct tsc_timers *t;
    uint8_t pit_gate; /* port 0x61 as found, restored after the PIT run */
};

static uint64_t read_tsc(void *ctx)
{
    (void)ctx;
    return rdtsc();
}

static uint32_t pm_read(void *ctx)
{
    const struct tsc_timers *t = ((struct machine_clocks *)ctx)->t;
    return t->pm_port ? inl(t->pm_port) : mmio_read32(t->pm_mmio);
}

/* HPET registers (IA-PC HPET spec 2.3): capabilities, configuration, counter. */
#define HPET_GCAP_ID 0x000
#define HPET_GEN_CONF 0x010
#define HPET_ENABLE_CNF 1u
#define HPET_MAIN_COUNTER 0x0f0
#define HPET_COUNT_SIZE_CAP (1ull << 13)

static uint64_t hpet_read(void *ctx)
{
    const struct tsc_timers *t = ((struct machine_clocks *)ctx)->t;
    return mmio_read64(t->hpet_base + HPET_MAIN_COUNTER);
}

/* PIT channel 2 counting down once from 0xffff, gated by port 0x61 bit 0;
 * bit 5 of port 0x61 goes high when it reaches 0. */
static void pit_start(void *ctx)
{
    struct machine_clocks *m = ctx;
    m->pit_gate = inb(0x61);
    outb(0x61, (m->pit_gate & ~0x02) | 0x01);
    outb(0x43, 0xb0); /* channel 2, lobyte/hibyte, mode 0 */
    outb(0x42, 0xff);
    outb(0x42, 0xff);
}

static bool pit_done(void *ctx)
{
    (void)ctx;
    return inb(0x61) & 0x20;
}

static void pit_stop(void *ctx)
{
    outb(0x61, ((struct machine_clocks *)ctx)->pit_gate);
}

static void describe_pm(const struct tsc_timers *t, char *buf, size_t len)
{
    if (t->pm_port)
        ksnprintf(buf, len, "ACPI PM timer at I/O %#x", t->pm_port);
    else
        ksnprintf(buf, len, "ACPI PM timer at MMIO %#llx", (unsigned long long)t->pm_mmio);
}

static void machine_clocks(struct machine_clocks *m, struct tsc_clocks *c, char *pm_name,
                           size_t pm_len)
{
    const struct tsc_timers *t = m->t;
    *c = (struct tsc_clocks){.ctx = m, .rdtsc = read_tsc};
    uint32_t a, b, cx, d;
    cpuid_count(0, 0, &a, &b, &cx, &d);
    uint32_t max_leaf = a;
    if (max_leaf >= 0x15) {
        cpuid_count(0x15, 0, &c->leaf15[0], &c->leaf15[1], &c->leaf15[2], &d);
        c->has_leaf15 = true;
    }
    if (max_leaf >= 0x16) {
        cpuid_count(0x16, 0, &a, &b, &cx, &d);
        c->has_leaf16 = true;
        c->leaf16_base_mhz = a & 0xffff;
    }
    if (t->pm_port || t->pm_mmio) {
        describe_pm(t, pm_name, pm_len);
        c->pm_read = pm_read;
        c->pm_32bit = t->pm_32bit;
        c->pm_name = pm_name;
    }
    if (t->hpet_base) {
        uint64_t cap = mmio_read64(t->hpet_base + HPET_GCAP_ID);
        uint32_t conf = mmio_read32(t->hpet_base + HPET_GEN_CONF);
        if (!(conf & HPET_ENABLE_CNF)) /* a stopped counter: start it */
            mmio_write32(t->hpet_base + HPET_GEN_CONF, conf | HPET_ENABLE_CNF);
        c->hpet_read = hpet_read;
        c->hpet_fs_per_tick = cap >> 32;
        c->hpet_mask = cap & HPET_COUNT_SIZE_CAP ? ~0ull : 0xffffffffull;
    }
    c->pit_start = pit_start;
    c->pit_done = pit_done;
    c->pit_stop = pit_stop;
}

static char tsc_source_buf[240];

bool tsc_calibrate(const struct tsc_timers *t, struct why *why)
{
    struct machine_clocks m = {.t = t};
    struct tsc_clocks c;
    struct tsc_calibration cal;
    char pm_name[48] = "";
    machine_clocks(&m, &c, pm_name, sizeof(pm_name));
    if (tsc_calibrate_clocks(&c, &cal))
        return why_set(why, "tsc: %s", cal.note);
    tsc_hz = cal.hz;
    ksnprintf(tsc_source_buf, sizeof(tsc_source_buf), "%s; %s", cal.source, cal.note);
    tsc_source = tsc_source_buf;
    return true;
}

uint64_t tsc_measure_against_pm(const struct tsc_timers *t, uint32_t ms)
{
    struct machine_clocks m = {.t = t};
    char pm_name[48];
    struct tsc_clocks c = {.ctx = &m, .rdtsc = read_tsc};
    if (!t->pm_port && !t->pm_mmio)
        return 0;
    describe_pm(t, pm_name, sizeof(pm_name));
    c.pm_read = pm_read;
    c.pm_32bit = t->pm_32bit;
    c.pm_name = pm_name;
    return tsc_measure_pm(&c, ms);
}
