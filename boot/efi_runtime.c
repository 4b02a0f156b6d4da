/* Runtime-service calls after ExitBootServices (physical mode). */
#include <efi.h>

#include "boot/efi_runtime.h"

/* vtdsync's vendor GUID for its result variable. */
static EFI_GUID vtdsync_guid = { 0x6d1c3a52, 0x8f0e, 0x4b7a,
                                 { 0x9c, 0x3e, 0x51, 0x7a, 0x2d, 0x60, 0xb4, 0x19 } };
static EFI_RUNTIME_SERVICES *rt;

void efi_runtime_init(uint64_t runtime_services)
{
    rt = (EFI_RUNTIME_SERVICES *)(UINTN)runtime_services;
}

void efi_reset(enum efi_reset_kind kind)
{
    if (!rt)
        return;
    uefi_call_wrapper(rt->ResetSystem, 4, (EFI_RESET_TYPE)kind, EFI_SUCCESS, 0, NULL);
}

static void to_utf16(CHAR16 *dst, size_t n, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < n; i++)
        dst[i] = (unsigned char)src[i];
    dst[i] = 0;
}

uint64_t efi_set_variable(const char *name, const void *data, size_t size)
{
    CHAR16 wname[64];
    if (!rt)
        return EFI_UNSUPPORTED;
    to_utf16(wname, 64, name);
    UINT32 attr = EFI_VARIABLE_NON_VOLATILE | EFI_VARIABLE_BOOTSERVICE_ACCESS |
                  EFI_VARIABLE_RUNTIME_ACCESS;
    EFI_STATUS s = uefi_call_wrapper(rt->SetVariable, 5, wname, &vtdsync_guid, attr, size,
                                     (void *)data);
    return EFI_ERROR(s) ? (uint64_t)s : 0;
}

uint64_t efi_get_variable(const char *name, void *data, size_t *size)
{
    CHAR16 wname[64];
    UINTN sz = *size;
    UINT32 attr;
    if (!rt)
        return EFI_UNSUPPORTED;
    to_utf16(wname, 64, name);
    EFI_STATUS s = uefi_call_wrapper(rt->GetVariable, 5, wname, &vtdsync_guid, &attr, &sz, data);
    *size = sz;
    return EFI_ERROR(s) ? (uint64_t)s : 0;
}

uint64_t efi_delete_variable(const char *name)
{
    /* A SetVariable of size 0 deletes (UEFI 2.10, 8.2). */
    uint64_t st = efi_set_variable(name, NULL, 0);
    return st == EFI_NOT_FOUND ? 0 : st;
}

static void put2(char *p, unsigned v)
{
    p[0] = (char)('0' + (v / 10) % 10);
    p[1] = (char)('0' + v % 10);
}

void efi_time_string(char *buf, size_t size)
{
    EFI_TIME t;
    const char *unknown = "unknown";
    if (size < 20 || !rt ||
        EFI_ERROR(uefi_call_wrapper(rt->GetTime, 2, &t, NULL))) {
        for (size_t i = 0; i < size && i < 8; i++)
            buf[i] = unknown[i];
        if (size)
            buf[size < 8 ? size - 1 : 7] = 0;
        return;
    }
    put2(buf, t.Year / 100);
    put2(buf + 2, t.Year % 100);
    buf[4] = '-';
    put2(buf + 5, t.Month);
    buf[7] = '-';
    put2(buf + 8, t.Day);
    buf[10] = 'T';
    put2(buf + 11, t.Hour);
    buf[13] = ':';
    put2(buf + 14, t.Minute);
    buf[16] = ':';
    put2(buf + 17, t.Second);
    buf[19] = 0;
}
