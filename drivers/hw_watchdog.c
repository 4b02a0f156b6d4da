/* Finding the Intel TCO timer and reading its state (see hw_watchdog.h).
 *
 * Where TCOBASE lives (Intel PCH datasheets; Linux's iTCO_wdt and lpc_ich
 * use the same registers):
 *   - 100-series and later PCHs: the SMBus function 00:1f.4, TCOBASE at
 *     configuration offset 0x50, decoded when TCOCTL (0x54) bit 8 is set;
 *     NO_REBOOT is TCO1_CNT bit 0;
 *   - ICH6 to 9-series (QEMU's q35 is an ICH9): the LPC bridge 00:1f.0,
 *     ACPI base (PMBASE) at 0x40 bits 15:7 when ACPI_CNTL (0x44) bit 7 is
 *     set, TCOBASE = PMBASE + 0x60; NO_REBOOT is GCS (RCBA + 0x3410) bit 5,
 *     RCBA at 0xf0 (bit 0: enabled).
 * Only configuration reads of bus 0 through the legacy ports and reads of
 * the TCO registers: nothing is written. */
#include "drivers/hw_watchdog.h"

#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"
#include "drivers/pci.h"

#define INTEL 0x8086
#define LPC_PMBASE 0x40
#define LPC_ACPI_CNTL 0x44
#define LPC_ACPI_EN (1u << 7)
#define LPC_RCBA 0xf0
#define RCBA_GCS 0x3410
#define GCS_NO_REBOOT (1u << 5)
#define SMBUS_TCOBASE 0x50
#define SMBUS_TCOCTL 0x54
#define TCOCTL_BASE_EN (1u << 8)
#define TCO_PMBASE_OFFSET 0x60

static uint32_t cfg(uint8_t fn, uint8_t off)
{
    return pci_legacy_read32(0, 0x1f, fn, off);
}

/* Intel function 00:1f.fn of class `cls` (base << 8 | sub). */
static bool intel_fn(uint8_t fn, uint16_t cls)
{
    return (cfg(fn, 0) & 0xffff) == INTEL && cfg(fn, 8) >> 16 == cls;
}

/* NO_REBOOT of an ICH-style chipset, from GCS in the root complex block. */
static int gcs_no_reboot(void)
{
    uint32_t rcba = cfg(0, LPC_RCBA);
    if (!(rcba & 1) || rcba == 0xffffffffu)
        return -1;
    uint64_t gcs = (rcba & 0xffffc000u) + RCBA_GCS;
    if (!paging_map_mmio(gcs & ~0xfffull, 0x1000))
        return -1;
    return mmio_read32(gcs) & GCS_NO_REBOOT ? 1 : 0;
}

static bool find_base(struct tco_state *t)
{
    if (intel_fn(4, 0x0c05) && (cfg(4, SMBUS_TCOCTL) & TCOCTL_BASE_EN)) {
        t->base = (uint16_t)(cfg(4, SMBUS_TCOBASE) & 0xffe0);
        t->where = "TCOBASE of SMBus 00:1f.4";
        t->no_reboot = -2; /* read from TCO1_CNT below */
        return t->base != 0;
    }
    /* PMBASE bit 0 reads 1 (an I/O base); anything else is not one. */
    uint32_t pm = cfg(0, LPC_PMBASE);
    if (intel_fn(0, 0x0601) && (pm & 1) && pm != 0xffffffffu &&
        (cfg(0, LPC_ACPI_CNTL) & LPC_ACPI_EN)) {
        uint16_t pmbase = (uint16_t)(pm & 0xff80);
        t->base = (uint16_t)(pmbase + TCO_PMBASE_OFFSET);
        t->where = "PMBASE+0x60 of LPC 00:1f.0";
        t->no_reboot = gcs_no_reboot();
        return pmbase != 0;
    }
    return false;
}

void hw_watchdog_probe_tco(struct tco_state *t)
{
    *t = (struct tco_state){.no_reboot = -1};
    if (!find_base(t))
        return;
    t->cnt1 = inw(t->base + TCO1_CNT);
    if (t->cnt1 == 0xffff) /* nothing decodes there */
        return;
    t->found = true;
    t->rld = inw(t->base + TCO_RLD);
    t->sts1 = inw(t->base + TCO1_STS);
    t->tmr = inw(t->base + TCO_TMR);
    if (t->no_reboot == -2)
        t->no_reboot = t->cnt1 & TCO1_CNT_NO_REBOOT_NEW ? 1 : 0;
}

static uint8_t port_in(void *ctx, uint16_t port)
{
    (void)ctx;
    return inb(port);
}

static void port_out(void *ctx, uint16_t port, uint8_t v)
{
    (void)ctx;
    outb(port, v);
}

/* A BMC answers a KCS byte within milliseconds; one that does not in a
 * quarter second is reported as not answering. */
#define KCS_WAIT_US 250000u

void hw_watchdog_probe_ipmi(const struct smbios_ipmi *p, struct ipmi_probe *out)
{
    static const struct kcs_io io = {port_in, port_out, NULL};
    *out = (struct ipmi_probe){0};
    struct kcs_port k = {.io = &io, .timeout_us = KCS_WAIT_US};
    if (!p->present || !kcs_ports_from_smbios(p->interface, p->base, p->modifier, &k.data,
                                              &k.status))
        return;
    out->state = ipmi_get_watchdog(&k, &out->w, &out->why) ? 1 : -1;
}
