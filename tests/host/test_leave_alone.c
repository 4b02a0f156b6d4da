// HOST-DEPS: lib/printf.c lib/ktap.c acpi/diag.c acpi/table.c acpi/dmar.c acpi/dmar_scope.c tests/host/acpi_testlib.c tests/host/host_mem.c app/leave_alone.c iommu/vtd.c iommu/vtd_unit.c iommu/vtd_takeover.c iommu/qi.c iommu/fault.c iommu/context_entry.c tests/host/vtd_fake.c iommu/vtd_alias.c lib/why.c
/* Units vtdsync leaves alone: which ones (a client DMAR with a graphics
 * unit, an INCLUDE_PCI_ALL unit and a Thunderbolt unit, and two real
 * client tables, against a fake PCI list), and that the engine then never
 * switches their translation: not in vtd_enable_translation /
 * vtd_disable_translation, not at shutdown (the fake unit's GSTS.TES is
 * what is checked). */
#include <stdio.h>
#include <string.h>

#include "acpi/dmar.h"
#include "drivers/pci.h"
#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "tests/host/acpi_testlib.h"
#include "tests/host/check.h"
#include "tests/host/host_mem.h"
#include "tests/host/vtd_fake.h"
#include "app/leave_alone.h"

CHECK_STATE_DEFINE;

static struct dmar_info info;
static struct diag_log log_;

/* ---- the decision ------------------------------------------------------------ */

/* A Tiger Lake-like client: unit 0 the GPU 00:02.0 alone, unit 1 two
 * Thunderbolt root ports 00:07.0/00:07.1, unit 2 INCLUDE_PCI_ALL with the
 * IOAPIC (like xps13_9310 in the real-hardware data). */
static void client_dmar(void)
{
    struct tbuf tb;
    memset(&tb, 0, sizeof(tb));
    tb_dmar_header(&tb, 39);
    size_t u = tb_drhd(&tb, 0, 0, 0xfed90000);
    tb_scope(&tb, DMAR_SCOPE_ENDPOINT, 0, 0, 1, 2, 0);
    tb_end16(&tb, u);
    u = tb_drhd(&tb, 0, 0, 0xfed84000);
    tb_scope(&tb, DMAR_SCOPE_BRIDGE, 0, 0, 1, 7, 0);
    tb_scope(&tb, DMAR_SCOPE_BRIDGE, 0, 0, 1, 7, 1);
    tb_end16(&tb, u);
    u = tb_drhd(&tb, DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0xfed91000);
    tb_scope(&tb, DMAR_SCOPE_IOAPIC, 2, 0, 1, 0x1e, 7);
    tb_end16(&tb, u);
    tb_seal(&tb);
    diag_init(&log_);
    dmar_release(&info);
    CHECK(dmar_parse(tb.b, tb.len, NULL, &host_mem, &info, &log_.diag) == 0, "parse");
    CHECK_EQ_U64(info.nunits, 3);
}

static struct pci_dev devs[8];
static unsigned ndevs;
static int taken = -1; /* index of the function a suite takes, -1: none */

static void add(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t vendor, uint16_t device,
                uint32_t class_code)
{
    devs[ndevs++] = (struct pci_dev){.bus = bus,
                                     .dev = dev,
                                     .fn = fn,
                                     .vendor = vendor,
                                     .device = device,
                                     .class_code = class_code};
}

static unsigned n_cb(void *ctx)
{
    (void)ctx;
    return ndevs;
}
static const struct pci_dev *get_cb(void *ctx, unsigned i)
{
    (void)ctx;
    return &devs[i];
}
static bool test_cb(void *ctx, const struct pci_dev *d)
{
    (void)ctx;
    return taken >= 0 && d == &devs[taken];
}
static const struct leave_alone_pci pci = {n_cb, get_cb, test_cb, NULL};

/* 00:02.0 gpu, 00:07.0 TBT port, 00:14.0 xHCI, 01:00.0 NVMe (taken). */
static void client_pci(uint16_t gpu_vendor, uint16_t gpu_device, uint32_t gpu_class)
{
    ndevs = 0;
    add(0, 2, 0, gpu_vendor, gpu_device, gpu_class);
    add(0, 7, 0, 0x8086, 0x9a23, 0x060400);
    add(0, 0x14, 0, 0x8086, 0xa0ed, 0x0c0330);
    add(1, 0, 0, 0x144d, 0xa808, 0x010802);
    taken = 3;
}

TEST(igfx_generations)
{
    /* One device of each generation Linux lists, and neighbours it does not. */
    static const uint16_t listed[] = {0x4541, 0x4680, 0x46a6, 0x4c8a, 0x4e71, 0x7d55,
                                      0x8a52, 0x9840, 0x9a49, 0xa7a0, 0xa780};
    for (unsigned i = 0; i < sizeof(listed) / sizeof(listed[0]); i++)
        CHECK(igfx_keeps_te(0x8086, listed[i], 0x030000), "%04x listed", listed[i]);
    static const uint16_t others[] = {0x0166, 0x1916, 0x3e9b, 0x5917, 0x9bc4, 0x56a0, 0x64a0};
    for (unsigned i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        CHECK(!igfx_keeps_te(0x8086, others[i], 0x030000), "%04x not listed", others[i]);
    CHECK(!igfx_keeps_te(0x1234, 0x9a49, 0x030000), "not Intel");
    CHECK(!igfx_keeps_te(0x8086, 0x9a49, 0x048000), "not a display function");
    CHECK(igfx_keeps_te(0x8086, 0x9a49, 0x038000), "display, other subclass");
}

TEST(client_units)
{
    struct why why;
    client_dmar();
    client_pci(0x8086, 0x9a49, 0x030000);
    CHECK(leave_alone_unit(&info, 0, &pci, true, &why) == LEAVE_IGFX, "gpu unit");
    CHECK(
        strstr(why.text, "graphics unit of 8086:9a49 at 00:02.0: translation was on and stays on"),
        "why: %s", why.text);
    CHECK(leave_alone_unit(&info, 0, &pci, false, &why) == LEAVE_IGFX, "gpu unit, TE off");
    CHECK(strstr(why.text, "stays off"), "why: %s", why.text);
    CHECK(leave_alone_unit(&info, 1, &pci, false, &why) == LEAVE_IDLE, "TBT unit");
    CHECK(strstr(why.text,
                 "no device under test behind it (1 PCI function, none taken by a suite): "
                 "translation stays off as found"),
          "why: %s", why.text);
    CHECK(leave_alone_unit(&info, 2, &pci, false, &why) == LEAVE_NONE, "the NVMe's unit: %s",
          why.text);
    taken = -1;
    CHECK(leave_alone_unit(&info, 2, &pci, true, &why) == LEAVE_IDLE, "nothing taken");
    CHECK(strstr(why.text, "(2 PCI functions, none taken by a suite): translation stays on"),
          "why: %s", why.text);
}

TEST(gpu_unit_that_is_not_the_quirk)
{
    struct why why;
    client_dmar();
    client_pci(0x8086, 0x3e9b, 0x030000); /* Coffee Lake: not listed */
    CHECK(leave_alone_unit(&info, 0, &pci, true, &why) == LEAVE_IDLE,
          "an unlisted GPU's unit is only idle: %s", why.text);
    client_pci(0x8086, 0x9a49, 0x030000);
    ndevs = 0; /* the GPU is absent (disabled in setup) */
    CHECK(leave_alone_unit(&info, 0, &pci, true, &why) == LEAVE_IDLE, "no GPU present: %s",
          why.text);
    /* The GPU's unit also listing another function is not graphics-only. */
    struct tbuf tb;
    memset(&tb, 0, sizeof(tb));
    tb_dmar_header(&tb, 39);
    size_t u = tb_drhd(&tb, 0, 0, 0xfed90000);
    tb_scope(&tb, DMAR_SCOPE_ENDPOINT, 0, 0, 1, 2, 0);
    tb_scope(&tb, DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x14, 0);
    tb_end16(&tb, u);
    tb_seal(&tb);
    diag_init(&log_);
    dmar_release(&info);
    CHECK(dmar_parse(tb.b, tb.len, NULL, &host_mem, &info, &log_.diag) == 0, "parse");
    client_pci(0x8086, 0x9a49, 0x030000);
    CHECK(leave_alone_unit(&info, 0, &pci, true, &why) == LEAVE_IDLE, "GPU + xHCI: %s", why.text);
    /* Nor is the GPU with a bridge (all below it is the unit's too). */
    memset(&tb, 0, sizeof(tb));
    tb_dmar_header(&tb, 39);
    u = tb_drhd(&tb, 0, 0, 0xfed90000);
    tb_scope(&tb, DMAR_SCOPE_ENDPOINT, 0, 0, 1, 2, 0);
    tb_scope(&tb, DMAR_SCOPE_BRIDGE, 0, 0, 1, 0x1c, 0);
    tb_end16(&tb, u);
    tb_seal(&tb);
    dmar_release(&info);
    CHECK(dmar_parse(tb.b, tb.len, NULL, &host_mem, &info, &log_.diag) == 0, "parse");
    CHECK(leave_alone_unit(&info, 0, &pci, true, &why) == LEAVE_IDLE, "GPU + bridge: %s", why.text);
    /* INCLUDE_PCI_ALL is never a graphics unit, even naming only the GPU. */
    memset(&tb, 0, sizeof(tb));
    tb_dmar_header(&tb, 39);
    u = tb_drhd(&tb, DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0xfed90000);
    tb_scope(&tb, DMAR_SCOPE_ENDPOINT, 0, 0, 1, 2, 0);
    tb_end16(&tb, u);
    tb_seal(&tb);
    dmar_release(&info);
    CHECK(dmar_parse(tb.b, tb.len, NULL, &host_mem, &info, &log_.diag) == 0, "parse");
    ndevs = 1;
    CHECK(leave_alone_unit(&info, 0, &pci, true, &why) == LEAVE_IDLE, "include-all: %s", why.text);
}

/* Two real DMAR tables (../shared/data/hw/dmar): Dell XPS 13 9310 (Tiger
 * Lake: GPU unit, two Thunderbolt units, INCLUDE_PCI_ALL, an RMRR) and MSI
 * Claw A1M (Meteor Lake: GPU unit, INCLUDE_PCI_ALL, SATC, SIDP). */
static const uint8_t xps13_9310[184] = {
    0x44, 0x4d, 0x41, 0x52, 0xb8, 0x00, 0x00, 0x00, 0x02, 0x74, 0x49, 0x4e, 0x54, 0x45, 0x4c, 0x20,
    0x44, 0x65, 0x6c, 0x6c, 0x20, 0x49, 0x6e, 0x63, 0x02, 0x00, 0x00, 0x00, 0x49, 0x4e, 0x54, 0x4c,
    0x25, 0x09, 0x20, 0x20, 0x26, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd9, 0xfe, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x40, 0xd8, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00,
    0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x60, 0xd8, 0xfe, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x08, 0x00, 0x00, 0x00, 0x00, 0x07, 0x02, 0x00, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x10, 0xd9, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x02, 0x00, 0x1e, 0x07,
    0x04, 0x08, 0x00, 0x00, 0x00, 0x00, 0x1e, 0x06, 0x01, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x6c, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x7f, 0x70, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
};
static const uint8_t msi_claw_a1m[152] = {
    0x44, 0x4d, 0x41, 0x52, 0x98, 0x00, 0x00, 0x00, 0x01, 0x59, 0x4d, 0x53, 0x49, 0x5f, 0x4e, 0x42,
    0x4d, 0x45, 0x47, 0x41, 0x42, 0x4f, 0x4f, 0x4b, 0x09, 0x20, 0x07, 0x01, 0x41, 0x4d, 0x49, 0x20,
    0x13, 0x00, 0x00, 0x01, 0x29, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0xfc, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x10, 0x80, 0xfc, 0x00, 0x00, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x02, 0x00, 0x1e, 0x07,
    0x04, 0x08, 0x00, 0x00, 0x00, 0x00, 0x1e, 0x06, 0x05, 0x00, 0x18, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x00,
    0x06, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x1f, 0x00, 0x00, 0x00, 0x02, 0x00,
    0x01, 0x08, 0x1c, 0x00, 0x00, 0x00, 0x0b, 0x00,
};

static void real_table(const uint8_t *t, size_t len, unsigned units)
{
    diag_init(&log_);
    dmar_release(&info);
    CHECK(dmar_parse(t, len, NULL, &host_mem, &info, &log_.diag) == 0, "parse");
    CHECK_EQ_U64(info.nunits, units);
}

TEST(real_client_tables)
{
    struct why why;
    real_table(xps13_9310, sizeof(xps13_9310), 4);
    client_pci(0x8086, 0x9a49, 0x030000); /* Iris Xe, Tiger Lake */
    CHECK(leave_alone_unit(&info, 0, &pci, false, &why) == LEAVE_IGFX, "XPS GPU unit: %s",
          why.text);
    CHECK(leave_alone_unit(&info, 1, &pci, false, &why) == LEAVE_IDLE,
          "XPS Thunderbolt 00:07.0: %s", why.text);
    CHECK(leave_alone_unit(&info, 2, &pci, false, &why) == LEAVE_IDLE,
          "XPS Thunderbolt 00:07.2 (absent here): %s", why.text);
    CHECK(strstr(why.text, "(0 PCI functions"), "nothing behind it: %s", why.text);
    CHECK(leave_alone_unit(&info, 3, &pci, false, &why) == LEAVE_NONE,
          "XPS INCLUDE_PCI_ALL with the NVMe: %s", why.text);
    real_table(msi_claw_a1m, sizeof(msi_claw_a1m), 2);
    client_pci(0x8086, 0x7d55, 0x030000); /* Arc, Meteor Lake */
    CHECK(leave_alone_unit(&info, 0, &pci, true, &why) == LEAVE_IGFX, "Claw GPU unit: %s",
          why.text);
    CHECK(leave_alone_unit(&info, 1, &pci, true, &why) == LEAVE_NONE,
          "Claw INCLUDE_PCI_ALL with the NVMe: %s", why.text);
}

/* ---- the engine honours the hold ------------------------------------------------ */

static struct vtd_unit unit;

static void te_on_by_firmware(void)
{
    fk.gsts |= VTD_GCMD_TE;
}

/* The owner says at bring-up that this unit keeps translation on. */
static bool keep_igfx_te(const struct vtd_unit *u, struct why *why)
{
    (void)u;
    why_set(why, "graphics unit of 8086:9a49 at 00:02.0");
    return true;
}

TEST(held_unit_keeps_te_on)
{
    struct why why;
    vtd_options.keep_firmware_te = keep_igfx_te;
    CHECK(fake_bring_up(&unit, QEMU_CAP, QEMU_ECAP, VTD_WANT_AUTO, te_on_by_firmware, &why) == 0,
          "bring-up: %s", why.text);
    CHECK(unit.found_tes && (fk.gsts & VTD_GCMD_TE), "TE found on");
    vtd_hold_te(&unit, true, "graphics unit of 8086:9a49 at 00:02.0");
    fake_out_clear();
    unsigned ngcmd = fk.ngcmd;
    CHECK(!vtd_disable_translation(&unit), "disable refused");
    CHECK(strstr(fake_out, "unit=0 translation not switched off: graphics unit"), "said: %s",
          fake_out);
    CHECK(!vtd_enable_translation(&unit), "enable refused");
    CHECK(fk.ngcmd == ngcmd, "no GCMD write at all (%u)", fk.ngcmd - ngcmd);
    CHECK(!vtd_release_te(&unit), "a fixed hold cannot be lifted");
    fake_out_clear();
    vtd_shutdown_all();
    CHECK(fk.gsts & VTD_GCMD_TE, "TE still on after shutdown");
    CHECK(!(fk.gsts & VTD_GCMD_QIE), "queue off");
    CHECK(strstr(fake_out, "unit=0 left alone: translation on as found, never switched"),
          "said: %s", fake_out);
    CHECK(!strstr(fake_out, "not switched off"), "shutdown does not even try: %s", fake_out);
    CHECK(!unit.up, "unit down");
    vtd_options.keep_firmware_te = NULL;
}

TEST(idle_unit_keeps_te_off_until_released)
{
    struct why why;
    CHECK(fake_bring_up(&unit, QEMU_CAP, QEMU_ECAP, VTD_WANT_AUTO, NULL, &why) == 0, "bring-up: %s",
          why.text);
    vtd_hold_te(&unit, false, "no device under test behind it");
    CHECK(!vtd_enable_translation(&unit), "enable refused");
    CHECK(!(fk.gsts & VTD_GCMD_TE), "TE stays off");
    CHECK(vtd_release_te(&unit), "lifted");
    CHECK(vtd_enable_translation(&unit) && (fk.gsts & VTD_GCMD_TE), "TE on once released");
    fake_out_clear();
    vtd_shutdown_all();
    CHECK(!(fk.gsts & VTD_GCMD_TE), "an unheld unit's TE goes off at the end");
    CHECK(strstr(fake_out, "unit=0 left safe: translation off"), "said: %s", fake_out);
}

TEST(unheld_unit_found_on_is_turned_off)
{
    struct why why;
    CHECK(fake_bring_up(&unit, QEMU_CAP, QEMU_ECAP, VTD_WANT_AUTO, te_on_by_firmware, &why) == 0,
          "bring-up: %s", why.text);
    vtd_shutdown_all();
    CHECK(!(fk.gsts & VTD_GCMD_TE), "TE off");
}

int main(void)
{
    fake_init();
    RUN(igfx_generations);
    RUN(client_units);
    RUN(gpu_unit_that_is_not_the_quirk);
    RUN(real_client_tables);
    RUN(held_unit_keeps_te_on);
    RUN(idle_unit_keeps_te_off_until_released);
    RUN(unheld_unit_found_on_is_turned_off);
    return check_finish();
}
