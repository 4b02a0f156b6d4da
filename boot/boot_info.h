/* What the UEFI stage hands to the rest of the firmware.
 *
 * Everything the kernel needs from boot services is copied here before
 * ExitBootServices; afterwards only runtime services (reset, variables)
 * remain, reached through boot/efi_runtime.c. */
#ifndef BOOT_BOOT_INFO_H
#define BOOT_BOOT_INFO_H

#include <stdint.h>

enum mem_kind {
    MEM_FREE,     /* conventional memory: ours to allocate */
    MEM_LOADED,   /* our image, our stack, boot-services memory: in use */
    MEM_FIRMWARE, /* ACPI tables/NVS, runtime services: keep, map cached */
    MEM_MMIO,     /* memory-mapped I/O the firmware declared: map uncached */
    MEM_RESERVED, /* anything else: leave alone */
};

struct mem_range {
    uint64_t base;
    uint64_t pages; /* 4 KiB pages */
    uint32_t kind;  /* enum mem_kind */
    uint32_t efi_type;
    uint64_t attr;  /* EFI attribute bits (cacheability, runtime, ...) */
};

/* What putting the firmware's map in order found (boot/memmap.c). */
struct memmap_report {
    uint32_t entries;   /* descriptors the firmware gave */
    uint32_t unordered; /* descriptors whose base is below their predecessor's */
    uint32_t merged;    /* ranges joined into a neighbour (or empty) */
    uint32_t overlaps;  /* ranges that share addresses with an earlier one */
    /* The first overlapping pair, in address order (valid if overlaps). */
    struct mem_range overlap_a, overlap_b;
};

#define BOOT_CMDLINE_MAX 1024
#define BOOT_CFGFILE_MAX 8192

struct framebuffer {
    uint64_t base;
    uint64_t size;
    uint32_t width, height;
    uint32_t stride; /* pixels per scan line */
    uint32_t bgr;    /* 1: BGRX byte order, 0: RGBX */
};

struct boot_info {
    uint64_t rsdp_phys;       /* ACPI 2.0+ RSDP, else 1.0, else 0 */
    uint64_t smbios_phys;     /* SMBIOS 2.x entry point, 0 if none */
    uint64_t smbios3_phys;    /* SMBIOS 3.x entry point, 0 if none */
    uint64_t image_base, image_size;
    uint64_t stack_base, stack_size;
    uint64_t trampoline_phys; /* one page below 1 MiB for the AP start-up code */
    uint64_t efi_runtime;     /* EFI_RUNTIME_SERVICES * (physical mode) */
    struct framebuffer fb;    /* base 0 when there is no GOP */
    /* The memory map in address order (boot/memmap.h), in a buffer the
     * UEFI stage sized from the firmware's map: no fixed limit. */
    uint32_t nranges;
    struct mem_range *ranges;
    struct memmap_report memmap; /* what sorting and merging found */
    char fw_vendor[64];
    uint32_t fw_revision;
    uint32_t exit_retries;    /* stale-map-key retries of ExitBootServices */
    char cmdline[BOOT_CMDLINE_MAX];  /* load options, ASCII */
    char cfgfile[BOOT_CFGFILE_MAX];  /* \vtdsync.cfg, empty when absent */
    uint32_t cfgfile_found;
    char screen_note[96]; /* what screen= did, "" when it was auto */
    /* The firmware's SecureBoot and SetupMode variables (UEFI 2.x, 32.3):
     * 0 or 1, or -1 when the variable is absent (firmware without Secure
     * Boot support). */
    int8_t secure_boot, setup_mode;
};

/* The firmware proper, entered on our own stack with boot services gone. */
void kmain(struct boot_info *bi) __attribute__((noreturn));

#endif
