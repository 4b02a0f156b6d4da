// HOST-DEPS: arch/x86/paging_policy.c
/* How the identity map treats each kind of memory (arch/x86/paging_policy.c):
 * RAM and ACPI reclaim write-back, runtime services as their EFI attributes
 * allow, ACPI NVS / reserved / persistent / PAL code / OEM types and MMIO
 * uncached, unusable and unaccepted memory not mapped. */
#include <stdint.h>

#include "arch/x86/paging.h"
#include "tests/host/check.h"

CHECK_STATE_DEFINE;

#define EFI_MEMORY_UC 0x1ull
#define EFI_MEMORY_WB 0x8ull
#define EFI_MEMORY_RUNTIME (1ull << 63)

struct want {
    uint32_t kind, efi_type;
    uint64_t attr;
    bool mapped;
    enum cache_mode mode;
    const char *what;
};

static const struct want table[] = {
    {MEM_FREE, 7, EFI_MEMORY_UC | EFI_MEMORY_WB, true, CACHE_WB, "conventional"},
    {MEM_LOADED, 1, EFI_MEMORY_WB, true, CACHE_WB, "loader code"},
    {MEM_LOADED, 4, EFI_MEMORY_WB, true, CACHE_WB, "boot services data"},
    {MEM_FIRMWARE, 9, EFI_MEMORY_WB, true, CACHE_WB, "ACPI reclaim"},
    {MEM_FIRMWARE, 10, EFI_MEMORY_UC | EFI_MEMORY_WB, true, CACHE_UC, "ACPI NVS"},
    {MEM_FIRMWARE, 5, EFI_MEMORY_WB | EFI_MEMORY_RUNTIME, true, CACHE_WB, "runtime code, WB"},
    {MEM_FIRMWARE, 6, EFI_MEMORY_WB | EFI_MEMORY_RUNTIME, true, CACHE_WB, "runtime data, WB"},
    {MEM_FIRMWARE, 6, EFI_MEMORY_UC | EFI_MEMORY_RUNTIME, true, CACHE_UC, "runtime data, UC only"},
    {MEM_FIRMWARE, 14, EFI_MEMORY_WB, true, CACHE_UC, "persistent"},
    {MEM_MMIO, 11, EFI_MEMORY_UC | EFI_MEMORY_RUNTIME, true, CACHE_UC, "MMIO"},
    {MEM_MMIO, 12, EFI_MEMORY_UC, true, CACHE_UC, "MMIO port space"},
    {MEM_RESERVED, 0, EFI_MEMORY_UC | EFI_MEMORY_WB, true, CACHE_UC, "reserved"},
    {MEM_RESERVED, 13, EFI_MEMORY_WB, true, CACHE_UC, "PAL code"},
    {MEM_RESERVED, 0x80000001u, EFI_MEMORY_WB, true, CACHE_UC, "OEM type"},
    {MEM_RESERVED, 8, EFI_MEMORY_WB, false, CACHE_UC, "unusable"},
    {MEM_RESERVED, 15, EFI_MEMORY_WB, false, CACHE_UC, "unaccepted"},
};

TEST(every_kind)
{
    for (unsigned i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const struct want *w = &table[i];
        struct mem_range r = {.base = 0x100000, .pages = 16, .kind = w->kind,
                              .efi_type = w->efi_type, .attr = w->attr};
        enum cache_mode m = CACHE_WC; /* neither answer: must be set */
        bool mapped = paging_range_mode(&r, &m);
        CHECK(mapped == w->mapped, "%s: %s", w->what, mapped ? "mapped" : "not mapped");
        if (w->mapped)
            CHECK(m == w->mode, "%s: mode %d, want %d", w->what, m, w->mode);
    }
}

/* Nothing the firmware keeps for itself is ever write-back, whatever its
 * attributes say, except ACPI reclaim and WB runtime memory. */
TEST(no_reserved_type_is_write_back)
{
    for (uint32_t t = 0; t < 64; t++) {
        if (t == 5 || t == 6 || t == 9)
            continue;
        struct mem_range r = {.kind = MEM_RESERVED, .efi_type = t, .attr = ~0ull};
        enum cache_mode m = CACHE_WB;
        if (paging_range_mode(&r, &m))
            CHECK(m == CACHE_UC, "type %u mapped with mode %d", t, m);
        r.kind = MEM_FIRMWARE;
        if (paging_range_mode(&r, &m))
            CHECK(m == CACHE_UC, "firmware type %u mapped with mode %d", t, m);
    }
}

int main(void)
{
    RUN(every_kind);
    RUN(no_reserved_type_is_write_back);
    return check_finish();
}
