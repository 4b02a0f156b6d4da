// HOST-DEPS: lib/printf.c lib/ktap.c iommu/vtd.c iommu/vtd_unit.c iommu/vtd_takeover.c iommu/qi.c iommu/fault.c iommu/context_entry.c tests/host/vtd_fake.c iommu/vtd_alias.c lib/why.c
/* More remapping units than the old fixed table (16): a four-socket server
 * describes dozens of DRHDs, and every one must get a slot in vtd_units[].
 * The fake has one register file; each bring-up programs it afresh, which
 * is all that counting slots needs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommu/vtd.h"
#include "tests/host/check.h"
#include "tests/host/vtd_fake.h"

CHECK_STATE_DEFINE;

#define UNITS 40 /* 4 sockets x 10 IIO stacks */

/* The fake's allocator holds a few units' tables; these units need more. */
static void *pages[UNITS * 8];
static unsigned npages;
static void *many_alloc(void *c, unsigned n)
{
    (void)c;
    if (npages == UNITS * 8)
        return NULL;
    void *p = aligned_alloc(4096, n * 4096ULL);
    if (p)
        memset(p, 0, n * 4096ULL);
    return pages[npages++] = p;
}

TEST(more_units_than_the_old_table)
{
    static struct vtd_unit u[UNITS];
    struct vtd_ops ops = fake_ops;
    ops.alloc_pages = many_alloc;
    struct why why;
    CHECK(fake_bring_up(&u[0], QEMU_CAP, QEMU_ECAP, VTD_WANT_AUTO, NULL, &why) == 0, "unit 0: %s",
          why.text);
    unsigned up = 1;
    for (unsigned i = 1; i < UNITS; i++) {
        int rc = vtd_unit_init(&u[i], (int)i, FAKE_BASE, 0, &ops, VTD_WANT_AUTO, &why);
        CHECK(rc == 0, "unit %u: %s", i, why.text);
        up += rc == 0;
    }
    CHECK(up == UNITS && vtd_nunits == UNITS, "%u units up, vtd_nunits %u", up, vtd_nunits);
    for (unsigned i = 0; i < vtd_nunits && i < UNITS; i++)
        CHECK(vtd_units[i] == &u[i], "slot %u", i);
    CHECK(VTD_MAX_UNITS >= UNITS, "VTD_MAX_UNITS %d", VTD_MAX_UNITS);
    fake_free_all();
    while (npages)
        free(pages[--npages]);
}

int main(void)
{
    fake_init();
    RUN(more_units_than_the_old_table);
    return check_finish();
}
