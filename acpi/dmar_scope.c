/* DMAR device scopes: resolving paths through PCI bridges to a final
 * bus/device/function, and matching devices against scopes. */
#include "acpi/dmar.h"

#include "lib/kstring.h"

/* RDIAG: a defect of the table.  RNOTE: what the PCI bus shows does not
 * match the path (a device the firmware hid or disabled, a bridge without
 * bus numbers, or no config access yet); Linux skips such scopes too. */
#define RDIAG(d, sc, fmt, ...)                                                                     \
    acpi_diagf((d),                                                                                \
               "DMAR: structure type %u (%s) at offset 0x%x: device scope at offset 0x%x: " fmt,   \
               (sc)->owner_type, dmar_struct_name((sc)->owner_type), owner_offset(info, (sc)),     \
               (sc)->offset, ##__VA_ARGS__)
#define RNOTE(d, sc, fmt, ...)                                                                     \
    acpi_notef((d),                                                                                \
               "DMAR: structure type %u (%s) at offset 0x%x: device scope at offset 0x%x: " fmt,   \
               (sc)->owner_type, dmar_struct_name((sc)->owner_type), owner_offset(info, (sc)),     \
               (sc)->offset, ##__VA_ARGS__)

static unsigned owner_offset(const struct dmar_info *info, const struct dmar_scope *sc)
{
    unsigned i = sc->owner_index;
    switch (sc->owner_type) {
    case DMAR_TYPE_DRHD:
        return i < info->nunits ? info->units[i].offset : 0;
    case DMAR_TYPE_RMRR:
        return i < info->nrmrrs ? info->rmrrs[i].offset : 0;
    case DMAR_TYPE_ATSR:
        return i < info->natsrs ? info->atsrs[i].offset : 0;
    case DMAR_TYPE_SATC:
        return i < info->nsatcs ? info->satcs[i].offset : 0;
    case DMAR_TYPE_SIDP:
        return i < info->nsidps ? info->sidps[i].offset : 0;
    }
    return 0;
}

/* Follows the path: each element after the first sits on the secondary
 * bus of the bridge named by the element before it.  Bus numbers below a
 * bridge are always greater than the bridge's own, so a secondary bus that
 * is not is reported as a loop; the path length bounds the walk anyway. */
static void resolve_one(struct dmar_info *info, struct dmar_scope *sc,
                        const struct dmar_pci_ops *pci, struct acpi_diag *d)
{
    unsigned bus = sc->start_bus;

    sc->resolved = false;
    sc->range_known = false;
    for (unsigned i = 0; i < sc->path_len; i++) {
        const struct dmar_path_elem *e = &sc->path[i];
        if (e->dev > 31 || e->fn > 7) {
            RDIAG(d, sc, "path element %u (%02x.%x) at offset 0x%x is not a device.function", i,
                  e->dev, e->fn, sc->offset + 6 + 2 * i);
            return;
        }
        if (i + 1 == sc->path_len)
            break;
        if (!pci || !pci->read_secondary_bus) {
            RNOTE(d, sc, "path of %u elements needs PCI config access to resolve", sc->path_len);
            return;
        }
        int sec = pci->read_secondary_bus(pci->ctx, sc->segment, (uint8_t)bus, e->dev, e->fn);
        if (sec < 0) {
            RNOTE(d, sc, "path points nowhere: no bridge at %04x:%02x:%02x.%x (element %u)",
                  sc->segment, bus, e->dev, e->fn, i);
            return;
        }
        if ((unsigned)sec <= bus || sec > 255) {
            RNOTE(d, sc,
                  "path loops: bridge at %04x:%02x:%02x.%x (element %u) has secondary bus 0x%x "
                  "<= its own bus",
                  sc->segment, bus, e->dev, e->fn, i, (unsigned)sec);
            return;
        }
        bus = (unsigned)sec;
    }
    const struct dmar_path_elem *last = &sc->path[sc->path_len - 1];
    sc->bus = (uint8_t)bus;
    sc->dev = last->dev;
    sc->fn = last->fn;
    sc->resolved = true;
    if (sc->type != DMAR_SCOPE_BRIDGE || !pci || !pci->read_secondary_bus)
        return;

    int sec = pci->read_secondary_bus(pci->ctx, sc->segment, sc->bus, sc->dev, sc->fn);
    if (sec < 0) {
        RNOTE(d, sc, "sub-hierarchy scope points at %04x:%02x:%02x.%x, which is not a bridge",
              sc->segment, sc->bus, sc->dev, sc->fn);
        return;
    }
    int sub = sec;
    if (pci->read_subordinate_bus)
        sub = pci->read_subordinate_bus(pci->ctx, sc->segment, sc->bus, sc->dev, sc->fn);
    if ((unsigned)sec <= sc->bus || sec > 255 || sub < sec || sub > 255) {
        RNOTE(d, sc, "bridge at %04x:%02x:%02x.%x has bus range 0x%x..0x%x", sc->segment, sc->bus,
              sc->dev, sc->fn, (unsigned)sec, (unsigned)sub);
        return;
    }
    sc->sec_bus = (uint8_t)sec;
    sc->sub_bus = (uint8_t)sub;
    sc->range_known = true;
}

void dmar_resolve_scopes(struct dmar_info *info, const struct dmar_pci_ops *pci,
                         struct acpi_diag *d)
{
    for (unsigned i = 0; i < info->nscopes; i++) {
        struct dmar_scope *sc = &info->scopes[i];
        /* IOAPIC/HPET/namespace paths name a source-id, not a PCI device
         * behind bridges we could read: resolve them the same way, they
         * are single elements in practice. */
        resolve_one(info, sc, pci, d);
    }
}

/* How specifically a scope covers a device: 0 no, 256 the device itself,
 * otherwise 255 minus the width of the covering bus range. */
static unsigned scope_match(const struct dmar_scope *sc, uint16_t seg, uint8_t bus, uint8_t dev,
                            uint8_t fn)
{
    if (!sc->resolved || sc->segment != seg)
        return 0;
    if (sc->type != DMAR_SCOPE_ENDPOINT && sc->type != DMAR_SCOPE_BRIDGE)
        return 0;
    if (sc->bus == bus && sc->dev == dev && sc->fn == fn)
        return 256;
    if (sc->type == DMAR_SCOPE_BRIDGE && sc->range_known && bus >= sc->sec_bus &&
        bus <= sc->sub_bus)
        return 255u - (unsigned)(sc->sub_bus - sc->sec_bus);
    return 0;
}

static unsigned list_match(const struct dmar_info *info, struct dmar_scope_list list, uint16_t seg,
                           uint8_t bus, uint8_t dev, uint8_t fn)
{
    unsigned best = 0;
    for (unsigned i = 0; i < list.count && list.first + i < info->nscopes; i++) {
        unsigned m = scope_match(&info->scopes[list.first + i], seg, bus, dev, fn);
        if (m > best)
            best = m;
    }
    return best;
}

bool dmar_scopes_cover(const struct dmar_info *info, struct dmar_scope_list list, uint16_t seg,
                       uint8_t bus, uint8_t dev, uint8_t fn)
{
    return list_match(info, list, seg, bus, dev, fn) != 0;
}

int dmar_unit_for_device(const struct dmar_info *info, uint16_t seg, uint8_t bus, uint8_t dev,
                         uint8_t fn)
{
    int found = -1;
    unsigned best = 0;

    for (unsigned i = 0; i < info->nunits; i++) {
        unsigned m = list_match(info, info->units[i].scopes, seg, bus, dev, fn);
        if (m > best) {
            best = m;
            found = (int)i;
        }
    }
    if (found >= 0)
        return found;
    /* The first INCLUDE_PCI_ALL unit: a second one on the segment was
     * reported and marked unusable by the parser. */
    for (unsigned i = 0; i < info->nunits; i++) {
        if (info->units[i].segment == seg && info->units[i].include_pci_all)
            return (int)i;
    }
    return -1;
}

int dmar_unit_for_scope_id(const struct dmar_info *info, uint8_t scope_type, uint8_t enum_id)
{
    for (unsigned i = 0; i < info->nunits; i++) {
        struct dmar_scope_list l = info->units[i].scopes;
        for (unsigned j = 0; j < l.count && l.first + j < info->nscopes; j++) {
            const struct dmar_scope *sc = &info->scopes[l.first + j];
            if (sc->type == scope_type && sc->enum_id == enum_id)
                return (int)i;
        }
    }
    return -1;
}
