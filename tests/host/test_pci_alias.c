// HOST-DEPS: drivers/pci_alias.c
/* The DMA alias walker (drivers/pci_alias.c) on fake topologies: which
 * requester IDs a function's DMA may carry, by the kind of each bridge up
 * its path (PCIe base spec port types; PCIe-to-PCI bridge spec: conventional
 * PCI requests are forwarded as secondary bus, device 0, function 0). */
#include <stdio.h>
#include <string.h>

#include "drivers/pci_alias.h"
#include "tests/host/check.h"

CHECK_STATE_DEFINE;

static struct pci_dev topo[16];
static unsigned ntopo;

static struct pci_dev *get(unsigned i)
{
    return i < ntopo ? &topo[i] : NULL;
}

static uint16_t rid(unsigned bus, unsigned dev, unsigned fn)
{
    return (uint16_t)(bus << 8 | dev << 3 | fn);
}

/* A function at bus:dev.fn below topo[parent] (-1: root bus). */
static int add_fn(unsigned bus, unsigned dev, unsigned fn, int parent)
{
    struct pci_dev *d = &topo[ntopo];
    memset(d, 0, sizeof(*d));
    d->bus = (uint8_t)bus;
    d->dev = (uint8_t)dev;
    d->fn = (uint8_t)fn;
    d->parent = parent;
    d->vendor = 0x1234;
    d->device = 0x11e8;
    return (int)ntopo++;
}

/* A bridge to secondary..subordinate; pcie_type < 0: no PCIe capability. */
static int add_bridge(unsigned bus, unsigned dev, int parent, int pcie_type, unsigned secondary,
                      unsigned subordinate)
{
    int i = add_fn(bus, dev, 0, parent);
    struct pci_dev *b = &topo[i];
    b->header_type = 1;
    b->secondary = (uint8_t)secondary;
    b->subordinate = (uint8_t)subordinate;
    if (pcie_type >= 0) {
        b->caps.pcie = 0x40;
        b->caps.pcie_type = (uint8_t)pcie_type;
    }
    return i;
}

static void endpoint_is_pcie(int i)
{
    topo[i].caps.pcie = 0x40;
    topo[i].caps.pcie_type = PCIE_TYPE_ENDPOINT;
}

static struct pci_alias out[8];

/* The aliases of topo[i] must be exactly want[0..n) (own ID first). */
static void expect(const char *what, int i, const uint16_t *want, unsigned n)
{
    memset(out, 0xee, sizeof(out));
    unsigned got = pci_dma_aliases(&topo[i], get, out, 8);
    CHECK(got == n, "%s: %u aliases, want %u", what, got, n);
    for (unsigned k = 0; k < n && k < got; k++)
        CHECK(out[k].rid == want[k], "%s: alias %u is %04x, want %04x", what, k, out[k].rid,
              want[k]);
}

/* Root port -> PCIe endpoint: the port forwards the request unchanged. */
TEST(endpoint_on_root_port_has_no_alias)
{
    ntopo = 0;
    int rp = add_bridge(0, 1, -1, PCIE_TYPE_ROOT_PORT, 1, 1);
    int ep = add_fn(1, 0, 0, rp);
    endpoint_is_pcie(ep);
    expect("root port", ep, (uint16_t[]){rid(1, 0, 0)}, 1);
    CHECK(out[0].kind == PCI_ALIAS_SELF && out[0].bridge == -1, "own ID first, kind self");
    int rc = add_fn(0, 2, 0, -1); /* integrated endpoint on the root bus */
    expect("root bus", rc, (uint16_t[]){rid(0, 2, 0)}, 1);
}

/* Switch (upstream + downstream) passes requests on as they are. */
TEST(switch_ports_add_no_alias)
{
    ntopo = 0;
    int rp = add_bridge(0, 1, -1, PCIE_TYPE_ROOT_PORT, 1, 3);
    int up = add_bridge(1, 0, rp, PCIE_TYPE_UPSTREAM, 2, 3);
    int down = add_bridge(2, 4, up, PCIE_TYPE_DOWNSTREAM, 3, 3);
    int ep = add_fn(3, 0, 1, down);
    endpoint_is_pcie(ep);
    expect("switch", ep, (uint16_t[]){rid(3, 0, 1)}, 1);
}

/* QEMU's pcie-pci-bridge on the root bus (00:02.0, secondary bus 1) with
 * the edu at 01:01.0: its DMA arrives as 01:00.0. */
TEST(behind_pcie_to_pci_bridge_alias_is_secondary_bus_00_0)
{
    ntopo = 0;
    int br = add_bridge(0, 2, -1, PCIE_TYPE_PCIE_TO_PCI, 1, 1);
    int edu = add_fn(1, 1, 0, br);
    expect("pcie-pci-bridge", edu, (uint16_t[]){rid(1, 1, 0), rid(1, 0, 0)}, 2);
    CHECK(out[1].kind == PCI_ALIAS_SECONDARY, "kind %u", out[1].kind);
    CHECK(out[1].bridge == br, "introduced by bridge %d, want %d", out[1].bridge, br);
    /* Function 0 of device 0 on that bus is its own alias: listed once. */
    int zero = add_fn(1, 0, 0, br);
    expect("device 00.0 behind it", zero, (uint16_t[]){rid(1, 0, 0)}, 1);
    /* Another function of the same device shares the alias. */
    int f3 = add_fn(1, 1, 3, br);
    expect("function 3", f3, (uint16_t[]){rid(1, 1, 3), rid(1, 0, 0)}, 2);
}

/* The same bridge below a root port: the root port adds nothing. */
TEST(pcie_to_pci_bridge_below_root_port)
{
    ntopo = 0;
    int rp = add_bridge(0, 1, -1, PCIE_TYPE_ROOT_PORT, 1, 2);
    int br = add_bridge(1, 0, rp, PCIE_TYPE_PCIE_TO_PCI, 2, 2);
    int dev = add_fn(2, 5, 0, br);
    expect("root port + pcie-to-pci", dev, (uint16_t[]){rid(2, 5, 0), rid(2, 0, 0)}, 2);
}

/* A PCI-X / conventional PCI-to-PCI bridge (no PCIe capability) forwards
 * with its own ID; a PCI-to-PCIe (reverse) bridge too. */
TEST(pcix_and_conventional_bridges_use_their_own_id)
{
    ntopo = 0;
    int br = add_bridge(0, 0x1e, -1, -1, 4, 4); /* legacy PCI bridge on the root bus */
    int dev = add_fn(4, 3, 0, br);
    expect("conventional bridge", dev, (uint16_t[]){rid(4, 3, 0), rid(0, 0x1e, 0)}, 2);
    CHECK(out[1].kind == PCI_ALIAS_BRIDGE, "kind %u", out[1].kind);
    int rev = add_bridge(0, 3, -1, PCIE_TYPE_PCI_TO_PCIE, 5, 5);
    int ep = add_fn(5, 0, 0, rev);
    endpoint_is_pcie(ep);
    expect("PCI-to-PCIe bridge", ep, (uint16_t[]){rid(5, 0, 0), rid(0, 3, 0)}, 2);
}

/* Nested: root port -> PCIe-to-PCI bridge (bus 2) -> conventional PCI
 * bridge at 02:04.0 (bus 3) -> device 03:01.0.  The conventional bridge
 * takes the request over (02:04.0), then the PCIe-to-PCI bridge (02:00.0):
 * every ID on the way may reach the unit. */
TEST(nested_bridges_add_one_alias_each)
{
    ntopo = 0;
    int rp = add_bridge(0, 1, -1, PCIE_TYPE_ROOT_PORT, 1, 3);
    int p2p = add_bridge(1, 0, rp, PCIE_TYPE_PCIE_TO_PCI, 2, 3);
    int pci = add_bridge(2, 4, p2p, -1, 3, 3);
    int dev = add_fn(3, 1, 0, pci);
    expect("nested", dev, (uint16_t[]){rid(3, 1, 0), rid(2, 4, 0), rid(2, 0, 0)}, 3);
    CHECK(out[1].bridge == pci && out[2].bridge == p2p, "bridges %d %d", out[1].bridge,
          out[2].bridge);
}

/* A listed PCIe-to-PCI bridge without the PCIe capability (ASMedia
 * ASM1080) below a root port aliases like a type 7 bridge; the same chip
 * below a PCIe-to-PCI bridge is an ordinary conventional bridge. */
TEST(bridge_without_pcie_capability_quirk)
{
    ntopo = 0;
    int rp = add_bridge(0, 1, -1, PCIE_TYPE_ROOT_PORT, 1, 2);
    int asm1080 = add_bridge(1, 0, rp, -1, 2, 2);
    topo[asm1080].vendor = 0x1b21;
    topo[asm1080].device = 0x1080;
    int dev = add_fn(2, 3, 0, asm1080);
    expect("ASM1080 below a root port", dev, (uint16_t[]){rid(2, 3, 0), rid(2, 0, 0)}, 2);
    topo[rp].caps.pcie_type = PCIE_TYPE_PCIE_TO_PCI;
    topo[rp].secondary = 1;
    expect("ASM1080 below a PCIe-to-PCI bridge", dev, (uint16_t[]){rid(2, 3, 0), rid(1, 0, 0)}, 2);
}

/* Marvell 88SE9123 SATA does DMA as function 1 of its device too. */
TEST(phantom_function_quirk)
{
    ntopo = 0;
    int rp = add_bridge(0, 1, -1, PCIE_TYPE_ROOT_PORT, 1, 1);
    int sata = add_fn(1, 0, 0, rp);
    endpoint_is_pcie(sata);
    topo[sata].vendor = 0x1b4b;
    topo[sata].device = 0x9123;
    expect("Marvell fn 0", sata, (uint16_t[]){rid(1, 0, 0), rid(1, 0, 1)}, 2);
    CHECK(out[1].kind == PCI_ALIAS_QUIRK_FN, "kind %u", out[1].kind);
    int fn1 = add_fn(1, 0, 1, rp);
    topo[fn1].vendor = 0x1b4b;
    topo[fn1].device = 0x9123;
    expect("Marvell fn 1 itself", fn1, (uint16_t[]){rid(1, 0, 1)}, 1);
}

/* Output bounded by max, count still complete; a parent chain that loops
 * (corrupt table) ends. */
TEST(bounded_output_and_looping_parents)
{
    ntopo = 0;
    int a = add_bridge(0, 1, -1, -1, 1, 1);
    int b = add_bridge(1, 2, a, -1, 2, 2);
    int dev = add_fn(2, 0, 0, b);
    struct pci_alias one[1];
    CHECK(pci_dma_aliases(&topo[dev], get, one, 1) == 3, "count beyond max");
    CHECK(one[0].rid == rid(2, 0, 0), "own ID kept");
    topo[a].parent = b; /* a <-> b */
    unsigned n = pci_dma_aliases(&topo[dev], get, out, 8);
    CHECK(n == 3, "loop: %u aliases (distinct IDs only)", n);
    topo[a].parent = 9; /* beyond the table */
    n = pci_dma_aliases(&topo[dev], get, out, 8);
    CHECK(n == 3, "dangling parent: %u aliases", n);
}

int main(void)
{
    RUN(endpoint_on_root_port_has_no_alias);
    RUN(switch_ports_add_no_alias);
    RUN(behind_pcie_to_pci_bridge_alias_is_secondary_bus_00_0);
    RUN(pcie_to_pci_bridge_below_root_port);
    RUN(pcix_and_conventional_bridges_use_their_own_id);
    RUN(nested_bridges_add_one_alias_each);
    RUN(bridge_without_pcie_capability_quirk);
    RUN(phantom_function_quirk);
    RUN(bounded_output_and_looping_parents);
    return check_finish();
}
