// HOST-DEPS: drivers/pci.c lib/printf.c lib/ktap.c lib/page.c lib/alloc.c
/* PCI enumeration on machines bigger than the old fixed table (256
 * functions): every function of a fake ECAM window is found, the device
 * table grows from the page allocator, lookups see all of it, and running
 * out of memory is reported instead of silently cutting the list.
 *
 * ECAM is plain MMIO (volatile loads and stores), so on an x86-64 host a
 * window is just memory: an anonymous mapping whose untouched pages read
 * as zero, i.e. "no device" (vendor 0).  BAR sizing and capabilities
 * (pci_caps.c, which masks interrupts) are not what this test is about:
 * stubs stand in for them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "arch/x86/paging.h"
#include "drivers/pci.h"
#include "lib/alloc.h"
#include "lib/printf.h"
#include "tests/host/check.h"

CHECK_STATE_DEFINE;

/* ---- what the firmware provides elsewhere ---------------------------------- */

bool paging_map(uint64_t phys, uint64_t size, enum cache_mode mode)
{
    (void)phys;
    (void)size;
    (void)mode;
    return true; /* host memory is mapped already */
}

void pci_read_bars(struct pci_dev *d)
{
    d->nbars = 0;
}

void pci_read_caps(struct pci_dev *d)
{
    memset(&d->caps, 0, sizeof(d->caps));
}

uint64_t tsc_hz = 1000000000;
uint64_t tsc_boot;

static char diag[4096];
static void to_diag(const char *s, size_t n)
{
    size_t have = strlen(diag);
    if (have + n < sizeof(diag)) {
        memcpy(diag + have, s, n);
        diag[have + n] = '\0';
    }
}

/* ---- the fake ECAM window ---------------------------------------------------- */

#define BUSES 8
static uint8_t *ecam; /* 1 MiB aligned: the address of bus 0 */

static uint8_t *cfg(unsigned bus, unsigned dev, unsigned fn)
{
    return ecam + ((size_t)bus << 20) + ((size_t)dev << 15) + ((size_t)fn << 12);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* Every device of buses [0, nbus) with all 8 functions: 256 per bus. */
static unsigned populate(unsigned nbus)
{
    unsigned n = 0;
    for (unsigned b = 0; b < nbus; b++)
        for (unsigned d = 0; d < 32; d++)
            for (unsigned f = 0; f < 8; f++) {
                uint8_t *c = cfg(b, d, f);
                put32(c + PCI_VENDOR, 0x8086u | (0x1000u + b * 256 + d * 8 + f) << 16);
                put32(c + PCI_CLASS_REV, 0x02000001); /* network controller, rev 1 */
                c[PCI_HEADER_TYPE] = f == 0 ? 0x80 : 0x00; /* multi-function */
                n++;
            }
    return n;
}

static struct pci_ecam_window window(void)
{
    return (struct pci_ecam_window){ .base = (uint64_t)(uintptr_t)ecam, .segment = 0,
                                     .start_bus = 0, .end_bus = BUSES - 1 };
}

/* A page allocator on host memory (lib/page.c hands out identity pointers).
 * Arenas stay allocated: pci.c keeps its table from one pci_init to the
 * next, as the firmware does. */
static uint8_t *arenas[4];
static unsigned narenas;
static void give_memory(size_t bytes)
{
    uint8_t *arena = aligned_alloc(4096, bytes);
    if (narenas < 4)
        arenas[narenas++] = arena;
    alloc_reset();
    alloc_add_free((uint64_t)(uintptr_t)arena, bytes);
}

TEST(more_functions_than_the_old_table)
{
    give_memory(16u << 20);
    unsigned want = populate(6); /* 1536 functions */
    struct pci_ecam_window w = window();
    diag[0] = '\0';
    unsigned n = pci_init(&w, 1);
    CHECK(n == want && pci_count() == want, "found %u of %u functions", n, want);
    CHECK(pci_problems() == 0, "problems: %s", diag);
    struct pci_dev *last = pci_find_bdf(0, 5, 31, 7);
    CHECK(last && last->device == 0x1000u + 5 * 256 + 31 * 8 + 7, "the last function");
    CHECK(last && pci_index(last) == (int)want - 1, "its index %d", last ? pci_index(last) : -1);
    unsigned seen = 0;
    for (struct pci_dev *d = pci_find_class(0x020000, 0xffff00, 0); d;
         d = pci_find_class(0x020000, 0xffff00, d))
        seen++;
    CHECK(seen == want, "pci_find_class walks %u of %u", seen, want);
    for (unsigned i = 0; i < n; i++) {
        const struct pci_dev *d = pci_get(i);
        if (!d || d->device != 0x1000u + d->bus * 256 + d->dev * 8 + d->fn || d->parent != -1) {
            CHECK(0, "function %u is wrong", i);
            break;
        }
    }
    /* A second scan finds the same (callers may rescan). */
    CHECK(pci_init(&w, 1) == want, "rescan");
}

TEST(out_of_memory_is_reported)
{
    give_memory(64u << 10); /* room for a few hundred functions only */
    unsigned want = populate(6);
    struct pci_ecam_window w = window();
    diag[0] = '\0';
    unsigned n = pci_init(&w, 1);
    CHECK(n > 0 && n < want, "found %u of %u with little memory", n, want);
    CHECK(pci_problems() >= 1 && strstr(diag, "out of memory for more than"),
          "reported: '%s'", diag);
}

int main(void)
{
    size_t size = ((size_t)BUSES << 20) + (1u << 20);
    uint8_t *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 2;
    ecam = (uint8_t *)(((uintptr_t)m + (1u << 20) - 1) & ~(uintptr_t)((1u << 20) - 1));
    printf_set_sink(to_diag);
    RUN(out_of_memory_is_reported); /* first: the table is still empty */
    RUN(more_functions_than_the_old_table);
    while (narenas)
        free(arenas[--narenas]);
    return check_finish();
}
