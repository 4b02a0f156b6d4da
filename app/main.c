/* kmain: take over the machine, then run the selected suites.
 *
 * Order matters: the serial console first (so everything after is seen),
 * then exceptions (so everything after is caught), then memory, then
 * time and interrupts, then the suites. */
#include "arch/x86/cpu.h"
#include "arch/x86/lapic.h"
#include "arch/x86/paging.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/trap.h"
#include "arch/x86/tsc.h"
#include "boot/efi_runtime.h"
#include "drivers/console.h"
#include "drivers/fbcon.h"
#include "drivers/hw_watchdog.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/page.h"
#include "lib/printf.h"
#include "app/checkpoint.h"
#include "app/platform.h"
#include "app/results.h"
#include "app/run.h"
#include "app/suite.h"

struct config cfg;
struct boot_info *boot;

static uint8_t bsp_ist_stack[IST_STACK_SIZE] __attribute__((aligned(16)));

extern const struct suite_desc __suites_start[], __suites_end[];

/* The registered suites, in their order. */
static const struct suite_desc *sorted_suites[32];
static size_t nsuites;

static void collect_suites(void)
{
    for (const struct suite_desc *d = __suites_start; d < __suites_end; d++) {
        if (nsuites == ARRAY_SIZE(sorted_suites))
            break;
        size_t i = nsuites++;
        while (i > 0 && sorted_suites[i - 1]->order > d->order) {
            sorted_suites[i] = sorted_suites[i - 1];
            i--;
        }
        sorted_suites[i] = d;
    }
}

/* Every enabled CPU the MADT lists is started; the count printed is the
 * truth, with the reason when some are missing. */
static void start_cpus(void)
{
    if (!platform.madt_present) {
        kprintf("# smp: no MADT; running on the bootstrap CPU only\n");
        return;
    }
    uint32_t listed = platform.madt.ncpus, n = 0;
    uint64_t t0 = uptime_us();
    uint64_t pages = ((uint64_t)listed * sizeof(uint32_t) + PAGE_SIZE - 1) / PAGE_SIZE;
    uint32_t *ids = listed ? page_alloc(pages) : 0;
    for (unsigned i = 0; ids && i < listed; i++)
        if (platform.madt.cpus[i].enabled)
            ids[n++] = platform.madt.cpus[i].apic_id;
    uint32_t online = ids ? smp_start(boot->trampoline_phys, ids, n, n) : 1;
    page_free(ids, pages);
    if (listed && !ids)
        kprintf("# smp: out of memory for the list of %u CPUs\n", listed);
    /* The MADT parser keeps MADT_MAX_CPUS entries (its diagnostic names
     * the rest); say so rather than print a count that looks complete. */
    if (listed >= MADT_MAX_CPUS)
        kprintf("# smp: %u of %u enabled CPUs online in %llu ms (vtdsync keeps the first %u "
                "MADT CPU entries; the MADT may list more)\n", online, n,
                (unsigned long long)((uptime_us() - t0) / 1000), MADT_MAX_CPUS);
    else
        kprintf("# smp: %u of %u enabled CPUs online in %llu ms\n", online, n,
                (unsigned long long)((uptime_us() - t0) / 1000));
}

static void fatal_exception(const char *reason)
{
    run_abort(EXIT_CRASH, reason);
}

static void *phys_ptr(uint64_t pa)
{
    return phys_to_virt(pa);
}

static void setup_memory(void)
{
    alloc_reset();
    alloc_grow_into(phys_ptr); /* the range table grows as the map needs */
    for (uint32_t i = 0; i < boot->nranges; i++) {
        const struct mem_range *r = &boot->ranges[i];
        if (r->kind == MEM_FREE && !alloc_add_free(r->base, r->pages * PAGE_SIZE))
            kprintf("# memory: range %#llx+%llu pages not added (no room for it, or overlap)\n",
                    (unsigned long long)r->base, (unsigned long long)r->pages);
    }
    /* Where the firmware's map overlaps itself (the boot suite names it),
     * a page any entry claims for something else is not ours. */
    for (uint32_t i = 0; boot->memmap.overlaps && i < boot->nranges; i++)
        if (boot->ranges[i].kind != MEM_FREE)
            alloc_reserve(boot->ranges[i].base, boot->ranges[i].pages * PAGE_SIZE);
    /* Low memory stays for real-mode code and firmware leftovers. */
    alloc_reserve(0, 0x100000);
    if (!paging_init(boot)) {
        kprintf("Bail out! cannot build page tables: out of memory\n");
        run_abort(EXIT_CRASH, "page tables");
    }
}

/* What a lab needs to know about Secure Boot: whether this image was
 * signature-checked, and whether a machine in setup mode would take any
 * image (README: Secure Boot). */
static const char *secure_boot_state(const struct boot_info *b)
{
    if (b->secure_boot < 0)
        return "not supported by the firmware (no SecureBoot variable)";
    if (b->secure_boot)
        return "on: the firmware verified this image's signature";
    if (b->setup_mode == 1)
        return "off: setup mode (no platform key enrolled)";
    return "off";
}

static void print_header(void)
{
    struct alloc_stats st;
    alloc_get_stats(&st);
    kprintf("# vtdsync %s: VT-d entry_sync qualification firmware\n", VTDSYNC_VERSION);
    kprintf("# firmware: %s rev %#x; cpu: %s (%s family %u model %#x stepping %u ucode %#llx)\n",
            boot->fw_vendor, boot->fw_revision, cpu.brand[0] ? cpu.brand : "?", cpu.vendor,
            cpu.family, cpu.model, cpu.stepping, (unsigned long long)cpu.microcode);
    kprintf("# secure boot: %s\n", secure_boot_state(boot));
    if (cpu.hypervisor)
        kprintf("# hypervisor: %s\n", cpu.hypervisor_sig);
    const struct smbios_info *sm = &platform.smbios;
    if (sm->valid)
        kprintf("# machine: system '%s' '%s' '%s'; board '%s' '%s'; bios '%s' '%s' %s; "
                "SMBIOS %u.%u\n",
                sm->sys_vendor, sm->sys_product, sm->sys_version, sm->board_vendor,
                sm->board_product, sm->bios_vendor, sm->bios_version, sm->bios_date, sm->major,
                sm->minor);
    else
        kprintf("# machine: no SMBIOS tables\n");
    kprintf("# memory: %llu MiB free in %u ranges; image %#llx+%llu KiB; %u map entries\n",
            (unsigned long long)(st.free_pages / 256), st.ranges,
            (unsigned long long)boot->image_base, (unsigned long long)(boot->image_size / 1024),
            boot->nranges);
    kprintf("# console: %s; screen: %ux%u%s%s\n", console_describe(), boot->fb.width,
            boot->fb.height, boot->screen_note[0] ? "; " : "", boot->screen_note);
    kprintf("# tsc: %llu kHz (%s); lapic: %s id %u; ExitBootServices retries: %u\n",
            (unsigned long long)(tsc_hz / 1000), tsc_source, lapic_x2apic ? "x2APIC" : "xAPIC",
            lapic_id(), boot->exit_retries);
    if (!cpu.cx16)
        kprintf("# cpu: CMPXCHG16B (CPUID.01H:ECX.CX16) missing: PASID entry updates "
                "cannot be atomic; PASID suites will be skipped\n");
    if (platform.acpi_ok) {
        char sigs[ACPI_MAX_TABLES * 5 + 1];
        size_t n = 0;
        for (unsigned i = 0; i < platform.acpi.count; i++)
            n += (size_t)ksnprintf(sigs + n, sizeof(sigs) - n, " %.4s",
                                   platform.acpi.tables[i].hdr.signature);
        kprintf("# acpi: RSDP rev %u (%s), %s with %u tables:%s\n", platform.acpi.rsdp_revision,
                platform.acpi.rsdp_oem_id, platform.acpi.root_sig, platform.acpi.count, sigs);
    }
    struct tco_state tco;
    char wd[320];
    struct ipmi_probe bmc;
    hw_watchdog_probe_tco(&tco);
    hw_watchdog_probe_ipmi(&platform.smbios.ipmi, &bmc);
    hw_watchdog_describe(&tco, &platform.smbios.ipmi, &bmc, wd, sizeof(wd));
    kprintf("# watchdog: %s\n", wd);
    if (boot->cfgfile_found)
        kprintf("# config file: \\vtdsync.cfg read\n");
    if (boot->cmdline[0])
        kprintf("# load options: %s\n", boot->cmdline);
}

static void null_write(void *arg)
{
    (void)arg;
    volatile uintptr_t null = 0;
    *(volatile uint32_t *)null = 0xdead;
}

/* The screen's fixed header: enough to tell which machine a photo of the
 * screen came from. */
static void screen_header(void)
{
    static char l[4][160];
    const struct smbios_info *sm = &platform.smbios;
    ksnprintf(l[0], sizeof(l[0]), "vtdsync %s   %s %s   firmware %s rev %#x", VTDSYNC_VERSION,
              sm->valid ? sm->sys_vendor : "?", sm->valid ? sm->sys_product : "",
              boot->fw_vendor, boot->fw_revision);
    ksnprintf(l[1], sizeof(l[1]), "CPU %s   %u CPUs online   TSC %llu MHz", cpu.brand,
              cpus_online, (unsigned long long)(tsc_hz / 1000000));
    int n = ksnprintf(l[2], sizeof(l[2]), "IOMMU: ");
    if (!platform.dmar_present)
        n += ksnprintf(l[2] + n, sizeof(l[2]) - n, "no DMAR table (VT-d off in firmware?)");
    for (unsigned i = 0; platform.dmar_present && i < platform.dmar.nunits && n < 150; i++)
        n += ksnprintf(l[2] + n, sizeof(l[2]) - n, "unit %u @%#llx seg %u%s  ", i,
                       (unsigned long long)platform.dmar.units[i].reg_base,
                       platform.dmar.units[i].segment,
                       platform.dmar.units[i].usable ? "" : " (unusable)");
    ksnprintf(l[3], sizeof(l[3]), "serial %s   results: serial KTAP + EFI variable VtdsyncResult",
              console_describe());
    const char *lines[4] = { l[0], l[1], l[2], l[3] };
    fbcon_header(lines, 4);
}

static void self_test_hooks(void)
{
    if (!strcmp(cfg.test, "crash")) {
        ktap_diag("test=crash: writing through a NULL pointer outside any guard");
        null_write(0);
    }
    if (!strcmp(cfg.test, "apcrash")) {
        ktap_diag("test=apcrash: CPU 1 writes through a NULL pointer");
        if (!smp_run_on(1, null_write, 0))
            ktap_diag("test=apcrash: no application processor online");
        udelay(2000000);
    }
    if (!strcmp(cfg.test, "hang")) {
        ktap_suite_begin("hang", 1);
        watchdog_suite("hang", 2);
        ktap_diag("test=hang: spinning until the watchdog fires (2 s)");
        percpu_set_activity("deliberate hang");
        for (;;)
            cpu_relax();
    }
}

void kmain(struct boot_info *bi)
{
    boot = bi;
    tsc_boot = rdtsc();
    cpu_detect();
    console_early_init();
    kprintf("\n");
    ktap_version();

    percpu[0].online = true;
    percpu[0].ist_stack = bsp_ist_stack;
    percpu[0].activity = "start-up";
    gdt_load(&percpu[0]);
    trap_init_bsp();
    trap_fatal = fatal_exception;
    efi_runtime_init(bi->efi_runtime);

    config_defaults(&cfg);
    if (bi->cfgfile_found)
        config_apply(&cfg, bi->cfgfile, "vtdsync.cfg");
    config_apply(&cfg, bi->cmdline, "load options");

    setup_memory();
    platform_early_init(); /* ACPI, serial console choice, PM timer */
    console_attach_fb(&bi->fb);
    lapic_init();
    percpu[0].apic_id = lapic_id();
    lapic_timer_calibrate();
    irq_enable();
    watchdog_start(cfg.timeout_s);
    start_cpus();

    print_header();
    screen_header();
    config_print(&cfg);
    checkpoint_boot(); /* first: a previous run that did not finish */
    results_print_previous();
    if (cfg.help) {
        config_print_help();
        kprintf("1..0 # SKIP help requested\n");
        run_finish();
    }
    if (cfg.dump_acpi) {
        static const char *const dumped[] = { "DMAR", "MCFG", "APIC", "FACP", "SPCR", "HPET" };
        for (size_t i = 0; i < ARRAY_SIZE(dumped); i++)
            platform_dump_table(dumped[i]);
    }
    self_test_hooks();

    collect_suites();
    int selected = 0;
    for (size_t i = 0; i < nsuites; i++)
        selected += config_list_has(cfg.suites, sorted_suites[i]->name);
    ktap_begin(selected);
    for (size_t i = 0; i < nsuites; i++) {
        const struct suite_desc *s = sorted_suites[i];
        if (!config_list_has(cfg.suites, s->name))
            continue;
        percpu_set_activity(s->name);
        checkpoint_at(s->name, "start", 0, true);
        watchdog_suite(s->name, cfg.test_timeout_s);
        char status[96];
        ksnprintf(status, sizeof(status), "suite %s   %llu s", s->name,
                  (unsigned long long)(uptime_us() / 1000000));
        fbcon_status(status);
        s->run();
    }
    watchdog_suite("end", 0);
    run_finish();
}
