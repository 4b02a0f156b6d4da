/* PCI: configuration access (ECAM, or ports 0xCF8/0xCFC for segment 0),
 * enumeration through bridges, BAR sizing, capabilities, a device table.
 *
 * The ECAM windows come from the caller (normally ACPI MCFG) so this module
 * knows nothing about ACPI.  Everything read from config space is checked:
 * bus numbers against the window, bridge numbering for loops, capability
 * lists for cycles and bad offsets. */
#ifndef DRIVERS_PCI_H
#define DRIVERS_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCI_MAX_WINDOWS 32 /* ECAM windows kept; discovery says when the MCFG lists more */

/* Same meaning as an MCFG allocation: base is the address of bus 0 of the
 * segment even when start_bus > 0. */
struct pci_ecam_window {
    uint64_t base;
    uint16_t segment;
    uint8_t start_bus, end_bus;
};

/* Config space offsets and bits used outside this module. */
enum {
    PCI_VENDOR = 0x00,
    PCI_DEVICE = 0x02,
    PCI_COMMAND = 0x04,
    PCI_STATUS = 0x06,
    PCI_CLASS_REV = 0x08,
    PCI_HEADER_TYPE = 0x0e,
    PCI_BAR0 = 0x10,
    PCI_PRIMARY_BUS = 0x18,
    PCI_SECONDARY_BUS = 0x19,
    PCI_SUBORDINATE_BUS = 0x1a,
    PCI_CAP_PTR = 0x34,
};
enum {
    PCI_CMD_IO = 1u << 0,
    PCI_CMD_MEM = 1u << 1,
    PCI_CMD_MASTER = 1u << 2,
    PCI_CMD_INTX_DISABLE = 1u << 10,
};

enum pci_bar_kind { PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_bar {
    uint64_t base; /* address as programmed (0: unassigned) */
    uint64_t size; /* decoded size; 0 when the BAR is absent */
    uint8_t kind;  /* enum pci_bar_kind */
    bool prefetch;
};

/* Offsets are 0 when the capability is absent. */
struct pci_caps {
    uint8_t msi, msix, pcie, pm;
    uint16_t pasid, ats, pri, acs; /* extended capabilities */
    uint8_t pcie_type;             /* PCIe device/port type */
    bool msi_64bit;
    uint16_t msix_entries;
    uint8_t pasid_width; /* max PASID width in bits */
    bool pasid_exec, pasid_priv, pasid_enabled;
    bool ats_enabled;
    uint8_t ats_inv_depth; /* 0 means 32 */
    bool pri_enabled;
    uint32_t pri_capacity; /* outstanding page requests */
    uint16_t acs_cap, acs_ctrl;
    uint8_t link_speed, link_width; /* current, from link status */
    bool cap_loop;                  /* a capability list was malformed */
};

struct pci_dev {
    uint16_t seg;
    uint8_t bus, dev, fn;
    uint16_t vendor, device;
    uint32_t class_code; /* base << 16 | sub << 8 | prog-if */
    uint8_t revision;
    uint8_t header_type; /* without the multi-function bit */
    bool multifunction;
    uint8_t secondary, subordinate; /* header type 1 only */
    int parent;                     /* index of the bridge above, -1 at a root bus */
    unsigned nbars;
    struct pci_bar bars[6];
    struct pci_caps caps;
    uint64_t ecam; /* this function's config space, 0: legacy port access */
};

/* Enumerate every bus of the given windows (none: legacy access to segment
 * 0).  Returns the number of devices found.  May be called again.  The
 * device table is page-allocated and grows with what the scan finds (no
 * fixed limit); pointers from pci_get and the finders stay valid until the
 * next pci_init. */
unsigned pci_init(const struct pci_ecam_window *w, unsigned n);
/* "ecam" or "legacy"; how many windows; problems seen while scanning. */
const char *pci_access_mode(void);
unsigned pci_problems(void);

unsigned pci_count(void);
struct pci_dev *pci_get(unsigned i);
struct pci_dev *pci_find_bdf(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn);
/* The next device after `prev` (NULL: from the start) matching the id or the
 * class (class_code & mask == want & mask). */
struct pci_dev *pci_find_id(uint16_t vendor, uint16_t device, const struct pci_dev *prev);
struct pci_dev *pci_find_class(uint32_t want, uint32_t mask, const struct pci_dev *prev);
int pci_index(const struct pci_dev *d);

/* Config space of an enumerated device (offsets beyond 0xff need ECAM;
 * out-of-range reads return all ones and writes are dropped). */
uint8_t pci_read8(const struct pci_dev *d, uint16_t off);
uint16_t pci_read16(const struct pci_dev *d, uint16_t off);
uint32_t pci_read32(const struct pci_dev *d, uint16_t off);
void pci_write8(const struct pci_dev *d, uint16_t off, uint8_t v);
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v);
void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v);

/* Config access by address, through ECAM when a window covers it.
 * Returns all ones for an address nothing decodes. */
uint32_t pci_cfg_read32(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off);
/* Legacy port access only (segment 0, offsets < 256), for cross-checks. */
uint32_t pci_legacy_read32(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off);

/* Memory decode and bus mastering. */
void pci_enable_mem(const struct pci_dev *d);
void pci_set_master(const struct pci_dev *d, bool on);
/* Map the memory BAR uncached and return its address, 0 when the BAR is not
 * an assigned memory BAR of at least min_size bytes. */
uint64_t pci_map_bar(const struct pci_dev *d, unsigned bar, uint64_t min_size);

/* Fill d->bars (sizing each BAR with decode disabled, then restoring it)
 * and d->caps; enumeration calls both, callers may refresh. */
void pci_read_bars(struct pci_dev *d);
void pci_read_caps(struct pci_dev *d);
/* Turn the function's ATS on (smallest translation unit 4 KiB) or off.
 * False when it has no ATS capability or the enable bit does not stick. */
bool pci_ats_enable(struct pci_dev *d, bool on);

/* One line: "0000:00:03.0 1234:11e8 class 00ff00 ...". */
int pci_describe(const struct pci_dev *d, char *buf, size_t size);
/* Short name of a class code ("NVMe", "bridge", ...). */
const char *pci_class_name(uint32_t class_code);

#endif
