/* FADT parsing.  Revision 1 tables end at offset 116; the fields after it
 * (reset register, 64-bit X_ addresses) are read only when present. */
#include "acpi/fadt.h"

#include "acpi/bytes.h"
#include "lib/kstring.h"

#define FADT_V1_LEN 116
#define OFF_FIRMWARE_CTRL 36
#define OFF_DSDT 40
#define OFF_PM_PROFILE 45
#define OFF_SCI_INT 46
#define OFF_PM_TMR_BLK 76
#define OFF_PM_TMR_LEN 91
#define OFF_CENTURY 108
#define OFF_IAPC_BOOT_ARCH 109
#define OFF_FLAGS 112
#define OFF_RESET_REG 116
#define OFF_RESET_VALUE 128
#define OFF_MINOR_VERSION 131
#define OFF_X_FIRMWARE_CTRL 132
#define OFF_X_DSDT 140
#define OFF_X_PM_TMR_BLK 208

static void read_pm_timer(const uint8_t *t, size_t len, struct fadt_info *o, struct acpi_diag *d)
{
    uint32_t port = acpi_rd32(t + OFF_PM_TMR_BLK);
    uint8_t tlen = t[OFF_PM_TMR_LEN];
    struct acpi_gas x = {0};

    if (len >= OFF_X_PM_TMR_BLK + ACPI_GAS_LEN)
        acpi_gas_read(t + OFF_X_PM_TMR_BLK, &x);
    o->pm_timer_32bit = o->flags & FADT_F_TMR_VAL_EXT;

    if (x.address) {
        o->pm_timer = x;
        /* The X_ field takes precedence (ACPI 6.5 5.2.9); firmware that
         * fills both differently exists and works. */
        if (port && (x.space_id != ACPI_GAS_IO || x.address != port))
            acpi_notef(d,
                       "FACP: X_PM_TMR_BLK at offset 0xd0 (%s 0x%llx) disagrees with "
                       "PM_TMR_BLK 0x%x at offset 0x4c: using X_PM_TMR_BLK",
                       acpi_gas_space_name(x.space_id), (unsigned long long)x.address, port);
    } else if (port) {
        if (tlen != 4)
            acpi_diagf(d, "FACP: PM_TMR_LEN %u at offset 0x5b is not 4", tlen);
        o->pm_timer = (struct acpi_gas){
            .space_id = ACPI_GAS_IO, .bit_width = 32, .access_size = 3, .address = port};
    } else {
        /* Recent platforms can switch the PM timer off; a limit for
         * vtdsync's TSC calibration, not a broken table. */
        if (!o->hw_reduced)
            acpi_notef(d, "FACP: no PM timer (PM_TMR_BLK and X_PM_TMR_BLK are 0)");
        return;
    }
    if (o->pm_timer.space_id != ACPI_GAS_IO && o->pm_timer.space_id != ACPI_GAS_MEMORY) {
        acpi_notef(d, "FACP: PM timer in address space %u: not usable", o->pm_timer.space_id);
        return;
    }
    o->pm_timer_present = true;
}

static void read_reset(const uint8_t *t, size_t len, struct fadt_info *o, struct acpi_diag *d)
{
    if (!(o->flags & FADT_F_RESET_REG_SUP))
        return;
    if (len < OFF_RESET_VALUE + 1) {
        acpi_diagf(d, "FACP: RESET_REG_SUP set but the table (0x%zx bytes) has no reset register",
                   len);
        return;
    }
    acpi_gas_read(t + OFF_RESET_REG, &o->reset_reg);
    o->reset_value = t[OFF_RESET_VALUE];
    uint8_t sp = o->reset_reg.space_id;
    if (o->reset_reg.address == 0 ||
        (sp != ACPI_GAS_IO && sp != ACPI_GAS_MEMORY && sp != ACPI_GAS_PCI_CONFIG)) {
        /* Address 0 with RESET_REG_SUP set is wrong; another address
         * space is only one vtdsync cannot use. */
        if (o->reset_reg.address == 0)
            acpi_diagf(d, "FACP: RESET_REG at offset 0x74 (space %u, address 0x%llx) not usable",
                       sp, (unsigned long long)o->reset_reg.address);
        else
            acpi_notef(d, "FACP: RESET_REG at offset 0x74 (space %u, address 0x%llx) not usable",
                       sp, (unsigned long long)o->reset_reg.address);
        return;
    }
    o->reset_supported = true;
}

int fadt_parse(const void *table, size_t len, struct fadt_info *out, struct acpi_diag *d)
{
    const uint8_t *t = table;

    memset(out, 0, sizeof(*out));
    len = acpi_table_check(table, len, "FACP", FADT_V1_LEN, &out->hdr, &out->checksum_ok, d);
    if (!len)
        return -1;
    out->valid = true;
    out->preferred_pm_profile = t[OFF_PM_PROFILE];
    out->sci_int = acpi_rd16(t + OFF_SCI_INT);
    out->century = t[OFF_CENTURY];
    out->iapc_boot_arch = acpi_rd16(t + OFF_IAPC_BOOT_ARCH);
    out->flags = acpi_rd32(t + OFF_FLAGS);
    out->hw_reduced = out->flags & FADT_F_HW_REDUCED_ACPI;
    out->facs = acpi_rd32(t + OFF_FIRMWARE_CTRL);
    out->dsdt = acpi_rd32(t + OFF_DSDT);
    if (len > OFF_MINOR_VERSION)
        out->minor_version = t[OFF_MINOR_VERSION] & 0xf;
    if (len >= OFF_X_FIRMWARE_CTRL + 8 && acpi_rd64(t + OFF_X_FIRMWARE_CTRL))
        out->facs = acpi_rd64(t + OFF_X_FIRMWARE_CTRL);
    if (len >= OFF_X_DSDT + 8 && acpi_rd64(t + OFF_X_DSDT))
        out->dsdt = acpi_rd64(t + OFF_X_DSDT);
    read_pm_timer(t, len, out, d);
    read_reset(t, len, out, d);
    return 0;
}

bool fadt_pm_timer_where(const struct fadt_info *f, uint16_t *port, uint64_t *mmio)
{
    const struct acpi_gas *g = &f->pm_timer;
    *port = 0;
    *mmio = 0;
    if (!f->pm_timer_present || !g->address)
        return false;
    /* The timer is one 32-bit register (ACPI 4.8.3.3): it must fit the
     * I/O space, or be naturally aligned in memory. */
    if (g->space_id == ACPI_GAS_IO && g->address <= 0xfffc)
        *port = (uint16_t)g->address;
    else if (g->space_id == ACPI_GAS_MEMORY && !(g->address & 3))
        *mmio = g->address;
    return *port || *mmio;
}
