/* The UEFI stage: gather what the firmware knows, leave boot services, and
 * enter kmain on our own stack.  Nothing here runs after ExitBootServices
 * except the final conversion of the memory map and the jump. */
#include <efi.h>

#include "boot/boot_info.h"
#include "boot/memmap.h"
#include "boot/reloc.h"
#include "lib/config.h"
#include "lib/kstring.h"
#include "lib/printf.h"

#define KERNEL_STACK_PAGES 64 /* 256 KiB for the bootstrap CPU */
#define EXIT_RETRIES 8

/* The firmware is called through its own tables, without GNU-EFI's libefi
 * (InitializeLib, Lib* helpers, Print): that keeps 28 KiB out of the image
 * (README: the image limit). */
static EFI_SYSTEM_TABLE *ST;
static EFI_BOOT_SERVICES *BS;
static struct boot_info boot_info;
static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi10_guid = ACPI_TABLE_GUID;
static EFI_GUID smbios_guid = SMBIOS_TABLE_GUID;
static EFI_GUID smbios3_guid = SMBIOS3_TABLE_GUID;
static EFI_GUID gop_guid = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;
static EFI_GUID loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
static EFI_GUID file_system_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
static EFI_GUID global_variable_guid = EFI_GLOBAL_VARIABLE;

static bool same_guid(const EFI_GUID *a, const EFI_GUID *b)
{
    return !memcmp(a, b, sizeof(*a));
}

/* The root directory of the volume this image was loaded from. */
static EFI_FILE_HANDLE open_root(EFI_HANDLE device)
{
    EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs = NULL;
    EFI_FILE_HANDLE root = NULL;
    if (EFI_ERROR(BS->HandleProtocol(device, &file_system_guid, (void **)&fs)) || !fs)
        return NULL;
    if (EFI_ERROR(fs->OpenVolume(fs, &root)))
        return NULL;
    return root;
}

static void copy_utf16_to_ascii(char *dst, UINTN dst_size, const CHAR16 *src, UINTN src_chars)
{
    UINTN n = 0;
    for (UINTN i = 0; i < src_chars && src[i] && n + 1 < dst_size; i++)
        dst[n++] = src[i] < 0x80 ? (char)src[i] : '?';
    dst[n] = '\0';
}

/* Load options from the shell start with the program's own name; from a
 * boot entry they are only the optional data.  Keep what follows a leading
 * word that ends in ".efi". */
static void take_load_options(EFI_LOADED_IMAGE *li)
{
    char *cmd = boot_info.cmdline;
    if (!li->LoadOptions || li->LoadOptionsSize < 2)
        return;
    copy_utf16_to_ascii(cmd, sizeof(boot_info.cmdline), li->LoadOptions,
                        li->LoadOptionsSize / sizeof(CHAR16));
    UINTN i = 0;
    while (cmd[i] == ' ')
        i++;
    UINTN start = i;
    while (cmd[i] && cmd[i] != ' ')
        i++;
    if (i - start >= 4) {
        const char *e = cmd + i - 4;
        if ((e[0] == '.') && (e[1] | 0x20) == 'e' && (e[2] | 0x20) == 'f' && (e[3] | 0x20) == 'i') {
            UINTN j = 0;
            while (cmd[i])
                cmd[j++] = cmd[i++];
            cmd[j] = '\0';
        }
    }
}

static void read_config_file(EFI_LOADED_IMAGE *li)
{
    EFI_FILE_HANDLE root = open_root(li->DeviceHandle);
    EFI_FILE_HANDLE f;
    if (!root)
        return;
    EFI_STATUS st = uefi_call_wrapper(root->Open, 5, root, &f, L"\\vtdsync.cfg",
                                      EFI_FILE_MODE_READ, 0);
    if (!EFI_ERROR(st)) {
        UINTN size = sizeof(boot_info.cfgfile) - 1;
        st = uefi_call_wrapper(f->Read, 3, f, &size, boot_info.cfgfile);
        if (!EFI_ERROR(st)) {
            boot_info.cfgfile[size] = '\0';
            boot_info.cfgfile_found = 1;
        }
        uefi_call_wrapper(f->Close, 1, f);
    }
    uefi_call_wrapper(root->Close, 1, root);
}

static void find_config_tables(EFI_SYSTEM_TABLE *st)
{
    for (UINTN i = 0; i < st->NumberOfTableEntries; i++) {
        EFI_CONFIGURATION_TABLE *t = &st->ConfigurationTable[i];
        uint64_t p = (uint64_t)(UINTN)t->VendorTable;
        if (same_guid(&t->VendorGuid, &acpi20_guid))
            boot_info.rsdp_phys = p;
        else if (same_guid(&t->VendorGuid, &acpi10_guid) && !boot_info.rsdp_phys)
            boot_info.rsdp_phys = p;
        else if (same_guid(&t->VendorGuid, &smbios3_guid))
            boot_info.smbios3_phys = p;
        else if (same_guid(&t->VendorGuid, &smbios_guid))
            boot_info.smbios_phys = p;
    }
}

static bool usable_format(const EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info)
{
    return info->PixelFormat == PixelRedGreenBlueReserved8BitPerColor ||
           info->PixelFormat == PixelBlueGreenRedReserved8BitPerColor;
}

/* screen=WIDTHxHEIGHT: switch to that GOP mode while boot services still
 * can; the outcome is reported later, in the KTAP header. */
static void choose_mode(EFI_GRAPHICS_OUTPUT_PROTOCOL *gop, uint32_t want_w, uint32_t want_h)
{
    char *note = boot_info.screen_note;
    for (UINT32 m = 0; m < gop->Mode->MaxMode; m++) {
        UINTN size = 0;
        EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = NULL;
        if (EFI_ERROR(uefi_call_wrapper(gop->QueryMode, 4, gop, m, &size, &info)) || !info)
            continue;
        bool match = info->HorizontalResolution == want_w &&
                     info->VerticalResolution == want_h && usable_format(info);
        BS->FreePool(info);
        if (!match)
            continue;
        EFI_STATUS st = uefi_call_wrapper(gop->SetMode, 2, gop, m);
        ksnprintf(note, sizeof(boot_info.screen_note),
                  EFI_ERROR(st) ? "screen=%ux%u: GOP mode %u refused (status %#llx)"
                                : "screen=%ux%u: GOP mode %u set",
                  want_w, want_h, m, (unsigned long long)st);
        return;
    }
    ksnprintf(note, sizeof(boot_info.screen_note),
              "screen=%ux%u: the firmware offers no such mode (%u modes); kept its own", want_w,
              want_h, gop->Mode->MaxMode);
}

static void find_framebuffer(const struct config *c)
{
    if (!strcmp(c->screen, "off")) {
        ksnprintf(boot_info.screen_note, sizeof(boot_info.screen_note),
                  "screen=off: serial only");
        return;
    }
    EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = NULL;
    if (EFI_ERROR(BS->LocateProtocol(&gop_guid, NULL, (void **)&gop)) || !gop)
        return;
    uint32_t w, h;
    if (config_screen_size(c->screen, &w, &h))
        choose_mode(gop, w, h);
    EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = gop->Mode->Info;
    if (!usable_format(info))
        return; /* bit-mask and blt-only modes: no text console on screen */
    boot_info.fb.base = gop->Mode->FrameBufferBase;
    boot_info.fb.size = gop->Mode->FrameBufferSize;
    boot_info.fb.width = info->HorizontalResolution;
    boot_info.fb.height = info->VerticalResolution;
    boot_info.fb.stride = info->PixelsPerScanLine;
    boot_info.fb.bgr = info->PixelFormat == PixelBlueGreenRedReserved8BitPerColor;
}

static enum mem_kind classify(UINT32 type)
{
    switch (type) {
    case EfiConventionalMemory:
        return MEM_FREE;
    case EfiLoaderCode:
    case EfiLoaderData:
    case EfiBootServicesCode:
    case EfiBootServicesData:
        return MEM_LOADED;
    case EfiRuntimeServicesCode:
    case EfiRuntimeServicesData:
    case EfiACPIReclaimMemory:
    case EfiACPIMemoryNVS:
    case 14: /* EfiPersistentMemory, missing from GNU-EFI 3.0.15 */
        return MEM_FIRMWARE;
    case EfiMemoryMappedIO:
    case EfiMemoryMappedIOPortSpace:
        return MEM_MMIO;
    default:
        return MEM_RESERVED;
    }
}

/* Descriptors become ranges one for one (the buffer holds as many ranges
 * as the map buffer holds descriptors); memmap_normalize then sorts them,
 * since UEFI does not promise address order, and merges neighbours. */
static void convert_memory_map(const UINT8 *map, UINTN size, UINTN desc_size, UINTN capacity)
{
    UINT32 n = 0;
    for (UINTN off = 0; off + desc_size <= size && n < capacity; off += desc_size) {
        const EFI_MEMORY_DESCRIPTOR *d = (const EFI_MEMORY_DESCRIPTOR *)(map + off);
        struct mem_range *r = &boot_info.ranges[n++];
        r->base = d->PhysicalStart;
        r->pages = d->NumberOfPages;
        r->kind = classify(d->Type);
        r->efi_type = d->Type;
        r->attr = d->Attribute;
    }
    boot_info.nranges = memmap_normalize(boot_info.ranges, n, &boot_info.memmap);
}

/* One byte of an EFI_GLOBAL_VARIABLE variable, -1 when it is absent. */
static int8_t global_flag(CHAR16 *name)
{
    UINT8 v = 0;
    UINTN size = sizeof(v);
    EFI_STATUS st = uefi_call_wrapper(ST->RuntimeServices->GetVariable, 5, name, &global_variable_guid,
                                      NULL, &size, &v);
    return EFI_ERROR(st) || size != 1 ? -1 : (int8_t)(v != 0);
}

/* Console output before ExitBootServices, straight to ConOut (GNU-EFI's
 * Print machinery is not needed for a few fixed lines). */
static void say(const CHAR16 *s)
{
    uefi_call_wrapper(ST->ConOut->OutputString, 2, ST->ConOut, (CHAR16 *)s);
}

static void fail(const CHAR16 *what, EFI_STATUS st)
{
    CHAR16 hex[20];
    for (int i = 0; i < 16; i++)
        hex[i] = L"0123456789abcdef"[(st >> (60 - 4 * i)) & 0xf];
    hex[16] = L'\r';
    hex[17] = L'\n';
    hex[18] = 0;
    say(L"vtdsync: ");
    say(what);
    say(L" failed, EFI status 0x");
    say(hex);
}

extern char _bss_start[], _bss_end[]; /* linker.ld */

/* GNU-EFI's crt0 (_start) calls this with the System V convention, after
 * _relocate (boot/reloc.c): not EFIAPI. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st);

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
    EFI_STATUS s;
    EFI_LOADED_IMAGE *li = NULL;

    /* .bss is the zero tail of .data that the file does not hold (linker.ld):
     * the loader zero-fills it, and this makes sure of it, before any
     * static variable is used. */
    memset(_bss_start, 0, (size_t)(_bss_end - _bss_start));
    ST = st;
    BS = st->BootServices;
    if (boot_relocation_status()) {
        fail(L"self-relocation (boot/reloc.c)", EFI_LOAD_ERROR);
        return EFI_LOAD_ERROR;
    }
    say(L"vtdsync: starting\r\n");
    uefi_call_wrapper(BS->SetWatchdogTimer, 4, 0, 0, 0, NULL);

    s = uefi_call_wrapper(BS->HandleProtocol, 3, image, &loaded_image_guid, (void **)&li);
    if (EFI_ERROR(s)) {
        fail(L"LoadedImage", s);
        return s;
    }
    boot_info.image_base = (uint64_t)(UINTN)li->ImageBase;
    boot_info.image_size = li->ImageSize;
    take_load_options(li);
    read_config_file(li);
    find_config_tables(st);
    /* The options are parsed properly after ExitBootServices; the screen
     * mode has to be chosen before, so peek at them here (quietly: there is
     * no console yet, the real parse reports any problem). */
    static struct config early;
    config_defaults(&early);
    if (boot_info.cfgfile_found)
        config_apply(&early, boot_info.cfgfile, "vtdsync.cfg");
    config_apply(&early, boot_info.cmdline, "load options");
    find_framebuffer(&early);
    copy_utf16_to_ascii(boot_info.fw_vendor, sizeof(boot_info.fw_vendor), st->FirmwareVendor,
                        ~(UINTN)0);
    boot_info.fw_revision = st->FirmwareRevision;
    boot_info.efi_runtime = (uint64_t)(UINTN)st->RuntimeServices;
    /* With SecureBoot = 1 the firmware has already checked this image's
     * signature against db before starting it. */
    boot_info.secure_boot = global_flag(L"SecureBoot");
    boot_info.setup_mode = global_flag(L"SetupMode");

    EFI_PHYSICAL_ADDRESS stack = 0;
    s = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAnyPages, EfiLoaderData,
                          KERNEL_STACK_PAGES, &stack);
    if (EFI_ERROR(s)) {
        fail(L"stack allocation", s);
        return s;
    }
    boot_info.stack_base = stack;
    boot_info.stack_size = KERNEL_STACK_PAGES * 4096;

    /* SIPI vectors address a 4 KiB page below 1 MiB; keep one for later. */
    EFI_PHYSICAL_ADDRESS tramp = 0x9f000;
    s = uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, EfiLoaderData, 1, &tramp);
    boot_info.trampoline_phys = EFI_ERROR(s) ? 0 : tramp;

    /* The map grows by a descriptor or two when we allocate its buffer. */
    UINTN map_size = 0, key, desc_size;
    UINT32 desc_ver;
    uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, NULL, &key, &desc_size, &desc_ver);
    map_size += 32 * sizeof(EFI_MEMORY_DESCRIPTOR) + 4096;
    UINTN map_capacity = map_size;
    UINT8 *map = NULL;
    s = uefi_call_wrapper(BS->AllocatePool, 3, EfiLoaderData, map_capacity, (void **)&map);
    if (EFI_ERROR(s)) {
        fail(L"memory map allocation", s);
        return s;
    }
    /* The converted map lives on after ExitBootServices (EfiLoaderData
     * stays ours); it has room for as many ranges as the buffer has
     * descriptors, so no firmware map is too big for it. */
    if (desc_size < sizeof(EFI_MEMORY_DESCRIPTOR)) {
        fail(L"GetMemoryMap (descriptor size)", EFI_INVALID_PARAMETER);
        return EFI_INVALID_PARAMETER;
    }
    UINTN range_capacity = map_capacity / desc_size;
    s = uefi_call_wrapper(BS->AllocatePool, 3, EfiLoaderData,
                          range_capacity * sizeof(struct mem_range), (void **)&boot_info.ranges);
    if (EFI_ERROR(s)) {
        fail(L"memory range allocation", s);
        return s;
    }

    say(L"vtdsync: leaving boot services\r\n");
    for (UINT32 tries = 0;; tries++) {
        map_size = map_capacity;
        s = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, (EFI_MEMORY_DESCRIPTOR *)map, &key,
                              &desc_size, &desc_ver);
        if (EFI_ERROR(s)) {
            if (tries == 0)
                fail(L"GetMemoryMap", s);
            return s;
        }
        s = uefi_call_wrapper(BS->ExitBootServices, 2, image, key);
        if (!EFI_ERROR(s))
            break;
        /* A stale key: the map changed under us (e.g. a timer event). Only
         * GetMemoryMap and ExitBootServices may be called now. */
        if (tries + 1 >= EXIT_RETRIES)
            return s;
        boot_info.exit_retries = tries + 1;
    }

    convert_memory_map(map, map_size, desc_size, range_capacity);

    uint64_t top = (boot_info.stack_base + boot_info.stack_size) & ~0xfull;
    __asm__ volatile("mov %0, %%rsp\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "call *%1\n\t"
                     "ud2" ::"r"(top),
                     "r"(kmain), "D"(&boot_info)
                     : "memory");
    __builtin_unreachable();
}
