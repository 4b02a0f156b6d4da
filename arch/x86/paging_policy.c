/* How each range of the memory map is mapped: see paging.h.
 *
 * Write-back lets the CPU fetch and write back lines speculatively, any
 * time, so it is kept for memory that is ordinary RAM: ours (free, loaded)
 * and what the UEFI specification says the OS may use as RAM once done
 * with it (ACPI reclaim) or maps cached itself (runtime code and data,
 * when their EFI attributes allow WB, as Linux maps them).  Everything else
 * the firmware keeps (ACPI NVS, reserved, persistent memory, PAL code)
 * may be shared with SMM, a BMC or a device and is mapped uncached, which
 * also keeps speculation out; vtdsync still reads ACPI and SMBIOS tables
 * there and the VT-d takeover writes into the firmware's invalidation
 * queue there.  Memory the firmware calls unusable (errors) or unaccepted
 * (a confidential guest's memory not yet accepted, which faults on
 * touch) is not mapped at all. */
#include "arch/x86/paging.h"

/* EFI memory types and attributes (UEFI 2.10, 7.2). */
enum {
    EFI_RESERVED = 0,
    EFI_RUNTIME_CODE = 5,
    EFI_RUNTIME_DATA = 6,
    EFI_UNUSABLE = 8,
    EFI_ACPI_RECLAIM = 9,
    EFI_ACPI_NVS = 10,
    EFI_UNACCEPTED = 15,
};
#define EFI_MEMORY_WB 0x8ull

bool paging_range_mode(const struct mem_range *r, enum cache_mode *mode)
{
    *mode = CACHE_UC;
    switch (r->kind) {
    case MEM_FREE:
    case MEM_LOADED:
        *mode = CACHE_WB;
        return true;
    case MEM_MMIO:
        return true;
    default:
        break;
    }
    switch (r->efi_type) {
    case EFI_ACPI_RECLAIM:
        *mode = CACHE_WB;
        return true;
    case EFI_RUNTIME_CODE:
    case EFI_RUNTIME_DATA:
        if (r->attr & EFI_MEMORY_WB)
            *mode = CACHE_WB;
        return true;
    case EFI_UNUSABLE:
    case EFI_UNACCEPTED:
        return false;
    default: /* ACPI NVS, reserved, persistent, PAL code, OEM types */
        return true;
    }
}
