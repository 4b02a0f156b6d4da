/* CPU identification and the few cache-maintenance helpers VT-d needs. */
#include "arch/x86/cpu.h"
#include "lib/kstring.h"

struct cpu_features cpu;

static void store_regs(char *dst, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    memcpy(dst, &a, 4);
    memcpy(dst + 4, &b, 4);
    memcpy(dst + 8, &c, 4);
    memcpy(dst + 12, &d, 4);
}

void cpu_detect(void)
{
    uint32_t a, b, c, d, max, maxext;

    cpuid_count(0, 0, &max, &b, &c, &d);
    memcpy(cpu.vendor, &b, 4);
    memcpy(cpu.vendor + 4, &d, 4);
    memcpy(cpu.vendor + 8, &c, 4);
    cpu.vendor[12] = '\0';

    cpuid_count(1, 0, &a, &b, &c, &d);
    cpu.family = (a >> 8) & 0xf;
    cpu.model = (a >> 4) & 0xf;
    cpu.stepping = a & 0xf;
    if (cpu.family == 0xf)
        cpu.family += (a >> 20) & 0xff;
    if (cpu.family == 0x6 || cpu.family >= 0xf)
        cpu.model |= ((a >> 16) & 0xf) << 4;
    cpu.clflush_size = ((b >> 8) & 0xff) * 8;
    if (!cpu.clflush_size)
        cpu.clflush_size = 64;
    cpu.cx16 = c & (1u << 13);
    cpu.x2apic = c & (1u << 21);
    cpu.tsc_deadline = c & (1u << 24);
    cpu.hypervisor = c & (1u << 31);

    if (max >= 7) {
        cpuid_count(7, 0, &a, &b, &c, &d);
        cpu.clflushopt = b & (1u << 23);
    }
    if (max >= 0x15) {
        cpuid_count(0x15, 0, &a, &b, &c, &d);
        cpu.tsc_ratio_den = a;
        cpu.tsc_ratio_num = b;
        cpu.tsc_crystal_hz = c;
    }

    cpuid_count(0x80000000, 0, &maxext, &b, &c, &d);
    if (maxext >= 0x80000001) {
        cpuid_count(0x80000001, 0, &a, &b, &c, &d);
        cpu.pdpe1gb = d & (1u << 26);
    }
    if (maxext >= 0x80000004) {
        for (uint32_t i = 0; i < 3; i++) {
            cpuid_count(0x80000002 + i, 0, &a, &b, &c, &d);
            store_regs(cpu.brand + 16 * i, a, b, c, d);
        }
        cpu.brand[48] = '\0';
    }
    if (maxext >= 0x80000007) {
        cpuid_count(0x80000007, 0, &a, &b, &c, &d);
        cpu.invariant_tsc = d & (1u << 8);
    }
    cpu.phys_addr_bits = 36;
    if (maxext >= 0x80000008) {
        cpuid_count(0x80000008, 0, &a, &b, &c, &d);
        cpu.phys_addr_bits = a & 0xff;
    }
    if (cpu.hypervisor) {
        cpuid_count(0x40000000, 0, &a, &b, &c, &d);
        memcpy(cpu.hypervisor_sig, &b, 4);
        memcpy(cpu.hypervisor_sig + 4, &c, 4);
        memcpy(cpu.hypervisor_sig + 8, &d, 4);
        cpu.hypervisor_sig[12] = '\0';
    }
    /* IA32_BIOS_SIGN_ID: write 0, CPUID(1), then read the revision. */
    if (!strcmp(cpu.vendor, "GenuineIntel") && !cpu.hypervisor) {
        wrmsr(0x8b, 0);
        cpuid_count(1, 0, &a, &b, &c, &d);
        cpu.microcode = rdmsr(0x8b) >> 32;
    }
}

/* TCG and KVM identify themselves in the hypervisor leaf; both mean QEMU
 * here, which decides whether the isa-debug-exit port may be written. */
bool cpu_is_qemu(void)
{
    return cpu.hypervisor && (!strcmp(cpu.hypervisor_sig, "TCGTCGTCGTCG") ||
                              !memcmp(cpu.hypervisor_sig, "KVMKVMKVM", 9));
}

void cache_flush_range(const void *p, uint64_t len)
{
    uintptr_t line = cpu.clflush_size ? cpu.clflush_size : 64;
    uintptr_t a = (uintptr_t)p & ~(line - 1);
    uintptr_t end = (uintptr_t)p + len;

    mfence();
    for (; a < end; a += line) {
        if (cpu.clflushopt)
            __asm__ volatile("clflushopt (%0)" ::"r"(a) : "memory");
        else
            __asm__ volatile("clflush (%0)" ::"r"(a) : "memory");
    }
    mfence();
}
