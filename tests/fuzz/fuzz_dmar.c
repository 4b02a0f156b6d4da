// HOST-DEPS: lib/printf.c acpi/diag.c acpi/table.c acpi/dmar.c acpi/dmar_scope.c tests/host/host_mem.c
/* libFuzzer harness for the DMAR parser.  The input is the table; the fake
 * PCI topology that scope paths are resolved through is derived from the
 * same bytes, so bridges, loops and dead ends all get explored.  Seeds:
 * tests/fuzz/corpus/dmar (copies of tests/data/acpi/dmar-*.dat). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "acpi/dmar.h"
#include "tests/host/acpi_testlib.h"
#include "tests/host/host_mem.h"

static const uint8_t *in;
static size_t in_len;

static int topo(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, unsigned salt)
{
    if (!in_len)
        return -1;
    uint8_t v = in[((size_t)seg * 131u + bus * 37u + dev * 7u + fn + salt) % in_len];
    return v >= 0xf0 ? -1 : v;
}

static int secondary(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
    (void)ctx;
    return topo(seg, bus, dev, fn, 0);
}

static int subordinate(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
    (void)ctx;
    int s = topo(seg, bus, dev, fn, 0);
    return s < 0 ? -1 : s + (topo(seg, bus, dev, fn, 1) & 0x1f) - 4;
}

static struct dmar_info info;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct acpi_diag d = {diag_check_sink, NULL, 0, 0};
    struct dmar_pci_ops ops = {secondary, subordinate, NULL};

    in = data;
    in_len = size;
    dmar_parse(data, size, size & 1 ? &ops : NULL, &host_mem, &info, &d);

    if (info.nunits > DMAR_MAX_UNITS || info.nscopes > DMAR_MAX_SCOPES ||
        info.nrmrrs > DMAR_MAX_RMRRS || info.natsrs > DMAR_MAX_ATSRS ||
        info.nrhsas > DMAR_MAX_RHSAS || info.nandds > DMAR_MAX_ANDDS ||
        info.nsatcs > DMAR_MAX_SATCS || info.nsidps > DMAR_MAX_SIDPS)
        __builtin_trap();
    for (unsigned i = 0; i < info.nunits; i++) {
        struct dmar_scope_list l = info.units[i].scopes;
        if (l.count > DMAR_MAX_SCOPES || l.first + l.count > info.nscopes)
            __builtin_trap();
    }
    for (unsigned i = 0; i < info.nandds; i++) {
        if (strlen(info.andds[i].name) >= DMAR_ANDD_NAME_MAX)
            __builtin_trap();
    }
    /* Every resolved endpoint of a unit maps back to some unit. */
    for (unsigned i = 0; i < info.nscopes; i++) {
        const struct dmar_scope *sc = &info.scopes[i];
        if (sc->resolved && sc->owner_type == DMAR_TYPE_DRHD &&
            (sc->type == DMAR_SCOPE_ENDPOINT || sc->type == DMAR_SCOPE_BRIDGE)) {
            int u = dmar_unit_for_device(&info, sc->segment, sc->bus, sc->dev, sc->fn);
            if (u < 0 || (unsigned)u >= info.nunits)
                __builtin_trap();
        }
    }
    for (unsigned k = 0; k < 8 && k < size; k++) {
        int u = dmar_unit_for_device(&info, (uint16_t)(k & 1), data[k], (uint8_t)(k * 4 & 31),
                                     (uint8_t)(k & 7));
        if (u >= (int)info.nunits)
            __builtin_trap();
        u = dmar_unit_for_scope_id(&info, DMAR_SCOPE_IOAPIC, data[k]);
        if (u >= (int)info.nunits)
            __builtin_trap();
    }
    for (unsigned i = 0; i < info.nrmrrs; i++)
        (void)dmar_scopes_cover(&info, info.rmrrs[i].scopes, 0, 0, 0x14, 0);
    dmar_release(&info);
    return 0;
}
