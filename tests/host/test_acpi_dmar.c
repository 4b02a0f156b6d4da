// HOST-DEPS: lib/printf.c acpi/diag.c acpi/table.c acpi/dmar.c acpi/dmar_scope.c tests/host/acpi_testlib.c tests/host/host_mem.c
/* DMAR parsing, scope resolution and the device -> unit lookup, on the
 * iasl-built images in tests/data/acpi and on mutated/synthetic ones.
 * Every malformed variant must produce its expected diagnostic. */
#include "acpi/dmar.h"
#include "tests/host/acpi_testlib.h"
#include "tests/host/check.h"
#include "tests/host/host_mem.h"

#include <stdlib.h>
#include <string.h>

CHECK_STATE_DEFINE;

static struct dmar_info info; /* large: keep it off the stack */
static struct diag_log log_;

/* q35: the pcie-root-port 00:02.0 leads to bus 1. */
static struct fake_pci q35_pci = {1, {{0, 0, 2, 0, 1, 1}}};
/* server: root port 17:00.0 leads to buses 0x18..0x1a. */
static struct fake_pci server_pci = {1, {{0, 0x17, 0, 0, 0x18, 0x1a}}};

static struct dmar_pci_ops ops(struct fake_pci *p)
{
    return (struct dmar_pci_ops){fake_secondary, fake_subordinate, p};
}

static int parse(const uint8_t *t, size_t len, struct fake_pci *p)
{
    struct dmar_pci_ops o = ops(p);
    diag_init(&log_);
    dmar_release(&info);
    return dmar_parse(t, len, p ? &o : NULL, &host_mem, &info, &log_.diag);
}

static int parse_image(const char *name, struct fake_pci *p)
{
    struct image im = image_load(name);
    int rc = parse(im.data, im.len, p);
    image_free(&im);
    return rc;
}

static const struct dmar_scope *scope(struct dmar_scope_list l, unsigned i)
{
    return &info.scopes[l.first + i];
}

TEST(q35_image)
{
    CHECK(parse_image("dmar-q35.dat", &q35_pci) == 0, "parse failed");
    EXPECT_NO_DIAG();
    CHECK(info.valid && info.checksum_ok && info.ordered, "header");
    CHECK_EQ_U64(info.haw, 39);
    CHECK_EQ_U64(info.flags, DMAR_FLAG_INTR_REMAP);
    CHECK_EQ_U64(info.nunits, 1);
    const struct dmar_unit *u = &info.units[0];
    CHECK_EQ_U64(u->reg_base, 0xfed90000);
    CHECK_EQ_U64(u->reg_size, 4096);
    CHECK(u->usable && !u->include_pci_all && u->segment == 0, "unit 0");
    CHECK_EQ_U64(u->scopes.count, 9);
    CHECK_EQ_U64(info.nrmrrs + info.natsrs + info.nsatcs, 0);

    const struct dmar_scope *io = scope(u->scopes, 0);
    CHECK(io->type == DMAR_SCOPE_IOAPIC && io->resolved && io->bus == 0xff && io->dev == 0,
          "IOAPIC scope");
    const struct dmar_scope *br = scope(u->scopes, 3);
    CHECK(br->type == DMAR_SCOPE_BRIDGE && br->range_known && br->sec_bus == 1 && br->sub_bus == 1,
          "root port range %d %x..%x", br->range_known, br->sec_bus, br->sub_bus);
    const struct dmar_scope *nvme = scope(u->scopes, 4);
    CHECK(nvme->resolved && nvme->path_len == 2 && nvme->bus == 1 && nvme->dev == 0 &&
              nvme->fn == 0,
          "NVMe behind the root port resolved to %02x:%02x.%x", nvme->bus, nvme->dev, nvme->fn);

    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 0, 0x1f, 2), 0);
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 1, 0, 0), 0);
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 0, 3, 0), 0);
    /* Not listed, and no INCLUDE_PCI_ALL unit: untranslated. */
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 0, 5, 0), -1);
    CHECK_EQ_U64(dmar_unit_for_device(&info, 1, 0, 0x1f, 2), -1);
    CHECK_EQ_U64(dmar_unit_for_scope_id(&info, DMAR_SCOPE_IOAPIC, 0), 0);
    CHECK_EQ_U64(dmar_unit_for_scope_id(&info, DMAR_SCOPE_HPET, 0), -1);
}

TEST(q35_without_pci_access)
{
    CHECK(parse_image("dmar-q35.dat", NULL) == 0, "parse failed");
    EXPECT_NOTE("device scope at offset 0x60: path of 2 elements needs PCI config access");
    CHECK(info.units[0].usable, "an unresolvable path does not make the unit unusable");
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 0, 0x1f, 3), 0);
    /* The bridge itself still matches; its buses are unknown. */
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 0, 2, 0), 0);
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 1, 0, 0), -1);
}

TEST(server_image)
{
    CHECK(parse_image("dmar-server.dat", &server_pci) == 0, "parse failed");
    EXPECT_NO_DIAG();
    CHECK(info.ordered && info.checksum_ok, "ordered, checksum");
    CHECK_EQ_U64(info.haw, 46);
    CHECK_EQ_U64(info.flags, DMAR_FLAG_INTR_REMAP | DMAR_FLAG_X2APIC_OPT_OUT);
    CHECK_EQ_U64(info.nunits, 3);
    CHECK_EQ_U64(info.nrmrrs, 2);
    CHECK_EQ_U64(info.natsrs, 2);
    CHECK_EQ_U64(info.nrhsas, 3);
    CHECK_EQ_U64(info.nandds, 1);
    CHECK_EQ_U64(info.nsatcs, 1);
    CHECK_EQ_U64(info.nsidps, 1);
    CHECK(!info.units[0].include_pci_all && info.units[1].include_pci_all &&
              info.units[2].include_pci_all,
          "INCLUDE_PCI_ALL flags");
    CHECK_EQ_U64(info.units[2].segment, 1);
    CHECK_EQ_U64(info.units[2].reg_base, 0x200ffffc000ull);
    CHECK_EQ_U64(info.units[2].reg_size, 8192);
    CHECK_EQ_U64(info.units[2].proximity_domain, 1);
    CHECK_EQ_U64(info.units[0].proximity_domain, 0);
    for (unsigned i = 0; i < 3; i++)
        CHECK(info.units[i].usable, "unit %u usable", i);

    /* Device -> unit. */
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 0x17, 0, 0), 0);    /* the root port */
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 0x17, 5, 0), 0);    /* VMD endpoint */
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 0x18, 0, 0), 0);    /* below the port */
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 0x1a, 0x1f, 7), 0); /* last bus below */
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 0x1b, 0, 0), 1);    /* past the range */
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 0x17, 1, 0), 1);
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 0, 0x14, 0), 1);
    CHECK_EQ_U64(dmar_unit_for_device(&info, 1, 0x85, 0, 0), 2);
    CHECK_EQ_U64(dmar_unit_for_device(&info, 2, 0, 0, 0), -1);
    CHECK_EQ_U64(dmar_unit_for_scope_id(&info, DMAR_SCOPE_IOAPIC, 8), 1);
    CHECK_EQ_U64(dmar_unit_for_scope_id(&info, DMAR_SCOPE_IOAPIC, 9), 2);
    CHECK_EQ_U64(dmar_unit_for_scope_id(&info, DMAR_SCOPE_HPET, 0), 1);

    /* RMRRs. */
    const struct dmar_rmrr *r0 = &info.rmrrs[0], *r1 = &info.rmrrs[1];
    CHECK(r0->usable && r0->base == 0x6e8a5000 && r0->limit == 0x6e8c4fff, "RMRR 0 range");
    CHECK(dmar_scopes_cover(&info, r0->scopes, 0, 0, 0x14, 0), "RMRR 0 covers xHCI");
    CHECK(dmar_scopes_cover(&info, r0->scopes, 0, 0, 0x1a, 0), "RMRR 0 covers EHCI 1a");
    CHECK(!dmar_scopes_cover(&info, r0->scopes, 0, 0, 0x1d, 0), "RMRR 0 not EHCI 1d");
    CHECK(dmar_scopes_cover(&info, r1->scopes, 0, 0, 0x1d, 0), "RMRR 1 covers EHCI 1d");
    CHECK(!dmar_scopes_cover(&info, r1->scopes, 1, 0, 0x1d, 0), "RMRR 1 is segment 0 only");

    /* ATSR, RHSA, ANDD, SATC, SIDP. */
    CHECK(!(info.atsrs[0].flags & DMAR_ATSR_ALL_PORTS) && info.atsrs[0].scopes.count == 1,
          "ATSR 0");
    CHECK((info.atsrs[1].flags & DMAR_ATSR_ALL_PORTS) && info.atsrs[1].segment == 1,
          "ATSR 1 ALL_PORTS");
    CHECK(dmar_scopes_cover(&info, info.atsrs[0].scopes, 0, 0x19, 0, 0), "ATSR 0 range");
    CHECK_EQ_U64(info.rhsas[1].unit, 1);
    CHECK(info.andds[0].device_number == 1 && strcmp(info.andds[0].name, "\\_SB.PC00.UAR1") == 0,
          "ANDD %u %s", info.andds[0].device_number, info.andds[0].name);
    const struct dmar_scope *ns = scope(info.units[1].scopes, 2);
    CHECK(ns->type == DMAR_SCOPE_ACPI && ns->enum_id == 1, "namespace device scope");
    CHECK((info.satcs[0].flags & DMAR_SATC_ATC_REQUIRED) && info.satcs[0].usable, "SATC");
    CHECK(dmar_scopes_cover(&info, info.satcs[0].scopes, 0, 0x6a, 1, 0), "SATC scope");
    CHECK(info.sidps[0].usable && dmar_scopes_cover(&info, info.sidps[0].scopes, 0, 0x6a, 2, 0),
          "SIDP scope");
}

TEST(client_image)
{
    CHECK(parse_image("dmar-client.dat", NULL) == 0, "parse failed");
    EXPECT_NO_DIAG();
    CHECK_EQ_U64(info.flags, DMAR_FLAG_INTR_REMAP | DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN);
    CHECK_EQ_U64(info.nunits, 2);
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 0, 2, 0), 0); /* iGPU unit */
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 0, 0x14, 0), 1);
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 3, 0, 0), 1);
    CHECK_EQ_U64(dmar_unit_for_scope_id(&info, DMAR_SCOPE_IOAPIC, 2), 1);
    CHECK_EQ_U64(dmar_unit_for_scope_id(&info, DMAR_SCOPE_HPET, 0), 1);
    CHECK_EQ_U64(info.nrmrrs, 2);
    CHECK(dmar_scopes_cover(&info, info.rmrrs[1].scopes, 0, 0, 2, 0), "iGPU RMRR");
    CHECK_EQ_U64(info.rmrrs[1].base, 0x7b800000);
    CHECK_EQ_U64(info.rmrrs[1].limit, 0x7fffffff);
}

/* --- malformed variants of the images ------------------------------------- */

static struct image mutable_image(const char *name)
{
    return image_load(name);
}

TEST(truncated_table)
{
    struct image im = mutable_image("dmar-server.dat");
    /* The header still claims the full length; only 0x60 bytes exist. */
    parse(im.data, 0x60, &server_pci);
    EXPECT_DEFECT("DMAR: header length 0x163 at offset 0x4 > 0x60 bytes available: truncated");
    EXPECT_DEFECT("DMAR: structure type 0 (DRHD) at offset 0x50: length 0x28 at offset 0x52 "
                  "overruns the table (0x10 bytes left): walk stopped");
    CHECK_EQ_U64(info.nunits, 1);
    CHECK(info.units[0].usable, "the complete first unit stays usable");
    /* Too short for the DMAR header at all. */
    parse(im.data, 40, &server_pci);
    CHECK(!info.valid, "valid with 40 bytes");
    EXPECT_DEFECT("DMAR: header length 0x163 at offset 0x4 > 0x28 bytes available");
    parse(im.data, 20, &server_pci);
    EXPECT_DEFECT("DMAR: table truncated: 20 bytes < header length 36");
    image_free(&im);
}

TEST(structure_length_overrun)
{
    struct image im = mutable_image("dmar-client.dat");
    im.data[0x4a] = 0x00; /* second DRHD claims 0x1000 bytes */
    im.data[0x4b] = 0x10;
    table_seal(im.data, im.len);
    parse(im.data, im.len, NULL);
    EXPECT_DEFECT("DMAR: structure type 0 (DRHD) at offset 0x48: length 0x1000 at offset 0x4a "
                  "overruns the table (0x60 bytes left): walk stopped");
    CHECK(info.nunits == 1 && info.units[0].usable, "first unit kept");
    image_free(&im);
}

TEST(zero_length_structure)
{
    struct image im = mutable_image("dmar-client.dat");
    im.data[0x4a] = 0;
    table_seal(im.data, im.len);
    parse(im.data, im.len, NULL);
    EXPECT_DEFECT("DMAR: structure type 0 (DRHD) at offset 0x48: length 0 at offset 0x4a: walk "
                  "stopped");
    CHECK_EQ_U64(info.nunits, 1);
    image_free(&im);
}

TEST(structure_shorter_than_its_type)
{
    struct tbuf tb;
    tb_dmar_header(&tb, 39);
    size_t s = tb_begin16(&tb, DMAR_TYPE_DRHD);
    tb_end16(&tb, s); /* length 4 */
    s = tb_drhd(&tb, 1, 0, 0xfed90000);
    tb_end16(&tb, s);
    tb_seal(&tb);
    parse(tb.b, tb.len, NULL);
    EXPECT_DEFECT("DMAR: structure type 0 (DRHD) at offset 0x30: length 0x4 at offset 0x32 < 16, "
                  "skipped");
    CHECK(info.nunits == 1 && info.units[0].include_pci_all && info.units[0].usable,
          "the next unit is parsed");
}

TEST(bad_checksum)
{
    struct image im = mutable_image("dmar-q35.dat");
    im.data[9] ^= 0x55;
    parse(im.data, im.len, &q35_pci);
    EXPECT_DEFECT("DMAR: checksum");
    CHECK(info.valid && !info.checksum_ok && info.nunits == 1 && info.units[0].usable,
          "still parsed, checksum_ok false");
    image_free(&im);
}

TEST(scope_zero_length_marks_only_its_unit)
{
    struct image im = mutable_image("dmar-client.dat");
    im.data[0x41] = 0; /* the iGPU unit's only scope */
    table_seal(im.data, im.len);
    parse(im.data, im.len, NULL);
    EXPECT_DEFECT("DMAR: structure type 0 (DRHD) at offset 0x30: device scope at offset 0x40: "
                  "length 0x0 at offset 0x41 < 6");
    CHECK(!info.units[0].usable, "corrupt unit unusable");
    CHECK(info.units[1].usable, "other unit usable");
    CHECK(info.rmrrs[0].usable && info.rmrrs[1].usable, "RMRRs usable");
    image_free(&im);
}

TEST(scope_overruns_structure)
{
    struct image im = mutable_image("dmar-client.dat");
    im.data[0x61] = 0x10; /* HPET scope of the second unit: 16 > 8 left */
    table_seal(im.data, im.len);
    parse(im.data, im.len, NULL);
    EXPECT_DEFECT("DMAR: structure type 0 (DRHD) at offset 0x48: device scope at offset 0x60: "
                  "length 0x10 at offset 0x61 overruns the structure (0x8 bytes left)");
    CHECK(info.units[0].usable && !info.units[1].usable, "only unit 1 unusable");
    image_free(&im);
}

TEST(scope_odd_length_and_unknown_type)
{
    struct tbuf tb;
    tb_dmar_header(&tb, 39);
    size_t s = tb_drhd(&tb, 0, 0, 0xfed90000);
    tb_scope(&tb, 9, 0, 0, 1, 2, 0); /* unknown scope type */
    tb_scope(&tb, DMAR_SCOPE_ENDPOINT, 0, 0, 1, 3, 0);
    tb_end16(&tb, s);
    s = tb_drhd(&tb, 1, 0, 0xfed91000);
    tb_scope(&tb, DMAR_SCOPE_ENDPOINT, 0, 0, 1, 4, 0);
    tb.b[tb.len - 7] = 7; /* odd: half a path element */
    tb_u8(&tb, 0);
    tb_end16(&tb, s);
    s = tb_begin16(&tb, 0x4242); /* unknown structure type */
    tb_u32(&tb, 0);
    tb_end16(&tb, s);
    tb_seal(&tb);
    parse(tb.b, tb.len, NULL);
    EXPECT_NOTE("device scope at offset 0x40: unknown type 9, skipped");
    EXPECT_DEFECT("DMAR: structure type 0 (DRHD) at offset 0x50: device scope at offset 0x60: "
                  "length 0x7 at offset 0x61 leaves half a path element");
    /* The odd scope leaves 2 bytes that read as a zero-length scope. */
    EXPECT_DEFECT("device scope at offset 0x67: length 0x0 at offset 0x68 < 6");
    EXPECT_NOTE("DMAR: structure type 16962 (unknown) at offset 0x69: unknown type, skipped by "
                "its length 0x8");
    CHECK(info.units[0].usable && info.units[0].scopes.count == 1, "unit 0 keeps its endpoint");
    CHECK(!info.units[1].usable, "unit 1 unusable");
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 0, 3, 0), 0);
}

TEST(path_points_nowhere)
{
    static struct fake_pci none = {0};
    parse_image("dmar-q35.dat", &none);
    EXPECT_NOTE("DMAR: structure type 0 (DRHD) at offset 0x30: device scope at offset 0x60: "
                "path points nowhere: no bridge at 0000:00:02.0 (element 0)");
    EXPECT_NOTE("device scope at offset 0x58: sub-hierarchy scope points at 0000:00:02.0, which "
                "is not a bridge");
    CHECK(info.units[0].usable, "unit stays usable");
    CHECK(!info.scopes[info.units[0].scopes.first + 4].resolved, "scope unresolved");
}

TEST(path_loops)
{
    /* A bridge whose secondary bus is its own bus. */
    static struct fake_pci loop = {2, {{0, 0, 2, 0, 1, 1}, {0, 1, 0, 0, 1, 1}}};
    struct tbuf tb;
    tb_dmar_header(&tb, 39);
    size_t s = tb_drhd(&tb, 0, 0, 0xfed90000);
    tb_scope(&tb, DMAR_SCOPE_ENDPOINT, 0, 0, 3, 2, 0, 0, 0, 0, 0);
    tb_scope(&tb, DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x20, 0); /* device 32 */
    tb_end16(&tb, s);
    tb_seal(&tb);
    parse(tb.b, tb.len, &loop);
    EXPECT_NOTE("device scope at offset 0x40: path loops: bridge at 0000:01:00.0 (element 1) "
                "has secondary bus 0x1 <= its own bus");
    EXPECT_DEFECT("device scope at offset 0x4c: path element 0 (20.0) at offset 0x52 is not a "
                  "device.function");
    CHECK(!info.scopes[0].resolved && !info.scopes[1].resolved, "both unresolved");
    /* Secondary bus 0 behind bus 0: an unconfigured bridge. */
    static struct fake_pci zero = {1, {{0, 0, 2, 0, 0, 0}}};
    parse(tb.b, tb.len, &zero);
    EXPECT_NOTE("path loops: bridge at 0000:00:02.0 (element 0) has secondary bus 0x0");
}

TEST(two_include_pci_all_units)
{
    struct image im = mutable_image("dmar-client.dat");
    im.data[0x34] = 1; /* the iGPU unit claims INCLUDE_PCI_ALL too */
    table_seal(im.data, im.len);
    parse(im.data, im.len, NULL);
    EXPECT_DEFECT("DMAR: structure type 0 (DRHD) at offset 0x48: second INCLUDE_PCI_ALL unit on "
                  "segment 0 (first at offset 0x30): flags 0x1 at offset 0x4c, unit unusable");
    CHECK(info.units[0].usable && !info.units[1].usable, "second unit unusable");
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 0, 0x14, 0), 0);
    image_free(&im);
}

TEST(structures_out_of_order)
{
    struct image im = mutable_image("dmar-client.dat");
    struct tbuf tb;
    /* Header, then the RMRRs, then the DRHDs. */
    tb.len = 0;
    tb_bytes(&tb, im.data, 0x30);
    tb_bytes(&tb, im.data + 0x68, im.len - 0x68);
    tb_bytes(&tb, im.data + 0x30, 0x38);
    tb_seal(&tb);
    parse(tb.b, tb.len, NULL);
    EXPECT_NOTE("DMAR: structure type 0 (DRHD) at offset 0x70: follows a structure of type 1: "
                "not in type order");
    CHECK(!info.ordered && info.nunits == 2 && info.nrmrrs == 2, "parsed anyway");
    image_free(&im);
}

TEST(unit_after_include_pci_all)
{
    struct image im = mutable_image("dmar-client.dat");
    struct tbuf tb;
    tb.len = 0;
    tb_bytes(&tb, im.data, 0x30);
    tb_bytes(&tb, im.data + 0x48, 0x20); /* INCLUDE_PCI_ALL unit first */
    tb_bytes(&tb, im.data + 0x30, 0x18);
    tb_seal(&tb);
    parse(tb.b, tb.len, NULL);
    EXPECT_NOTE("DMAR: structure type 0 (DRHD) at offset 0x50: unit on segment 0 follows that "
                "segment's INCLUDE_PCI_ALL unit at offset 0x30");
    CHECK(!info.ordered, "not ordered");
    /* The lookup does not depend on the order. */
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 0, 2, 0), 1);
    image_free(&im);
}

TEST(rmrr_not_whole_pages)
{
    struct image im = mutable_image("dmar-client.dat");
    im.data[0x70] = 0x01; /* RMRR 0 base 0x7a5d1001 */
    table_seal(im.data, im.len);
    parse(im.data, im.len, NULL);
    EXPECT_NOTE("DMAR: structure type 1 (RMRR) at offset 0x68: range 0x7a5d1001..0x7a5f0fff "
                "(offsets 0x70, 0x78) not whole 4 KiB pages: using 0x7a5d1000..0x7a5f0fff");
    CHECK_EQ_U64(log_.defects, 0);
    CHECK(info.rmrrs[0].usable && info.rmrrs[1].usable, "both RMRRs usable");
    CHECK(info.rmrrs[0].base == 0x7a5d1000 && info.rmrrs[0].limit == 0x7a5f0fff,
          "widened to whole pages: %#llx..%#llx", (unsigned long long)info.rmrrs[0].base,
          (unsigned long long)info.rmrrs[0].limit);
    image_free(&im);
}

TEST(rmrr_limit_below_base)
{
    struct image im = mutable_image("dmar-client.dat");
    im.data[0x7b] = 0x70; /* RMRR 0 limit 0x705f0fff < base 0x7a5d1000 */
    table_seal(im.data, im.len);
    parse(im.data, im.len, NULL);
    EXPECT_DEFECT("DMAR: structure type 1 (RMRR) at offset 0x68: range 0x7a5d1000..0x705f0fff "
                  "(offsets 0x70, 0x78): limit below base, RMRR unusable");
    CHECK(!info.rmrrs[0].usable && info.rmrrs[1].usable, "only RMRR 0 unusable");
    image_free(&im);
}

TEST(rmrr_below_1mib)
{
    struct tbuf tb;
    tb_dmar_header(&tb, 39);
    size_t s = tb_drhd(&tb, 1, 0, 0xfed90000);
    tb_end16(&tb, s);
    s = tb_begin16(&tb, DMAR_TYPE_RMRR);
    tb_u16(&tb, 0);
    tb_u16(&tb, 0);
    tb_u64(&tb, 0); /* page zero, as the EliteBook 8440p lists for its EHCIs */
    tb_u64(&tb, 0xfff);
    tb_scope(&tb, DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x1d, 0);
    tb_end16(&tb, s);
    tb_seal(&tb);
    parse(tb.b, tb.len, NULL);
    EXPECT_NOTE("DMAR: structure type 1 (RMRR) at offset 0x40: range 0x0..0xfff lies below 1 MiB");
    CHECK(log_.n == 1 && log_.defects == 0, "one note, no defect");
    CHECK(info.nrmrrs == 1 && info.rmrrs[0].usable, "RMRR usable");
}

TEST(bad_register_base)
{
    struct image im = mutable_image("dmar-client.dat");
    im.data[0x38] = 0x10; /* 0xfed90010 */
    table_seal(im.data, im.len);
    parse(im.data, im.len, NULL);
    EXPECT_DEFECT("DMAR: structure type 0 (DRHD) at offset 0x30: register base 0xfed90010 at "
                  "offset 0x38 not a 4 KiB page");
    CHECK(!info.units[0].usable && info.units[1].usable, "only unit 0 unusable");
    memset(im.data + 0x38, 0, 8); /* base 0, as a shipping Tiger Lake laptop has it */
    table_seal(im.data, im.len);
    parse(im.data, im.len, NULL);
    EXPECT_DEFECT("DMAR: structure type 0 (DRHD) at offset 0x30: register base 0x0 at offset "
                  "0x38 not a 4 KiB page");
    CHECK(log_.defects == 1 && !info.units[0].usable && info.units[1].usable,
          "only unit 0 unusable");
    image_free(&im);
}

TEST(overlapping_units)
{
    struct image im = mutable_image("dmar-client.dat");
    im.data[0x51] = 0x00; /* unit 1 at 0xfed90000, unit 0's page */
    table_seal(im.data, im.len);
    parse(im.data, im.len, NULL);
    EXPECT_DEFECT("DMAR: structure type 0 (DRHD) at offset 0x48: registers 0xfed90000..0xfed90fff "
                  "overlap those of the unit at offset 0x30 (0xfed90000..0xfed90fff): unit "
                  "unusable");
    CHECK(info.units[0].usable && !info.units[1].usable, "the second unit unusable");
    image_free(&im);
}

/* VT-d 4.x gives a DRHD's register-set size in byte 5 (2^N pages); Lunar
 * Lake tables set it to 4 for units 64 KiB apart.  That is no finding, and
 * the size counts when checking overlap. */
TEST(register_set_size)
{
    struct tbuf tb;
    tb_dmar_header(&tb, 42);
    size_t s = tb_drhd(&tb, 0, 0, 0xfc800000);
    tb.b[s + 5] = 4;
    tb_scope(&tb, DMAR_SCOPE_ENDPOINT, 0, 0, 1, 2, 0);
    tb_end16(&tb, s);
    s = tb_drhd(&tb, 1, 0, 0xfc810000);
    tb.b[s + 5] = 4;
    tb_end16(&tb, s);
    tb_seal(&tb);
    parse(tb.b, tb.len, NULL);
    EXPECT_NO_DIAG();
    CHECK(info.units[0].reg_size == 0x10000 && info.units[0].usable && info.units[1].usable,
          "64 KiB units");
    tb.b[0x30 + 5] = 5; /* unit 0 now claims 128 KiB: over unit 1 */
    tb_seal(&tb);
    parse(tb.b, tb.len, NULL);
    EXPECT_DEFECT("registers 0xfc810000..0xfc81ffff overlap those of the unit at offset 0x30 "
                  "(0xfc800000..0xfc81ffff)");
}

/* An ATSR for a segment no DRHD describes names nothing vtdsync uses. */
TEST(atsr_for_undescribed_segment)
{
    struct tbuf tb;
    tb_dmar_header(&tb, 46);
    size_t s = tb_drhd(&tb, 1, 0, 0xfed90000);
    tb_end16(&tb, s);
    s = tb_begin16(&tb, DMAR_TYPE_ATSR);
    tb_u8(&tb, 0);
    tb_u8(&tb, 0);
    tb_u16(&tb, 1); /* segment 1 */
    tb_scope(&tb, DMAR_SCOPE_BRIDGE, 0, 0, 1, 1, 0);
    tb_end16(&tb, s);
    tb_seal(&tb);
    parse(tb.b, tb.len, NULL);
    EXPECT_NOTE("DMAR: structure type 2 (ATSR) at offset 0x40: segment 1 has no DRHD");
    CHECK_EQ_U64(log_.defects, 0);
}

TEST(namespace_scope_without_andd_and_stray_rhsa)
{
    struct image im = mutable_image("dmar-server.dat");
    im.data[0x133] = 7;    /* ANDD device number 1 -> 7 */
    im.data[0x121] = 0xd0; /* last RHSA base no longer matches unit C */
    table_seal(im.data, im.len);
    parse(im.data, im.len, &server_pci);
    EXPECT_NOTE("DMAR: device scope at offset 0x70: ACPI device number 1 (offset 0x74) has no "
                "ANDD");
    EXPECT_NOTE("DMAR: structure type 3 (RHSA) at offset 0x118: register base 0x200ffffd000 at "
                "offset 0x120 matches no DRHD");
    CHECK_EQ_U64(info.units[2].proximity_domain, -1);
    image_free(&im);
}

/* Builds a DMAR with n DRHDs of `scopes` endpoint scopes each. */
static void build_many(struct tbuf *tb, unsigned n, unsigned scopes)
{
    tb_dmar_header(tb, 48);
    for (unsigned i = 0; i < n; i++) {
        size_t s = tb_drhd(tb, 0, (uint16_t)i, 0xfe000000ull + 0x1000ull * i);
        for (unsigned j = 0; j < scopes; j++)
            tb_scope(tb, DMAR_SCOPE_ENDPOINT, 0, (uint8_t)(j / 32), 1, j % 32, 0);
        tb_end16(tb, s);
    }
    tb_seal(tb);
}

/* A big server's table, beyond the fixed arrays vtdsync had (128 units,
 * 2048 scopes): the arrays now take their size from the table, so all of
 * it is kept, and a scope of a unit past index 255 still names its owner. */
TEST(bigger_than_the_old_arrays)
{
    static struct tbuf tb;
    build_many(&tb, 300, 17); /* 300 units, 5100 scopes */
    CHECK(parse(tb.b, tb.len, NULL) == 0, "parse");
    EXPECT_NO_DIAG();
    CHECK_EQ_U64(info.nunits, 300);
    CHECK_EQ_U64(info.nscopes, 300 * 17);
    unsigned usable = 0;
    for (unsigned i = 0; i < info.nunits; i++)
        usable +=
            info.units[i].usable && info.units[i].scopes.count == 17 && info.units[i].segment == i;
    CHECK_EQ_U64(usable, 300);
    const struct dmar_scope *last = &info.scopes[info.nscopes - 1];
    CHECK(last->owner_type == DMAR_TYPE_DRHD && last->owner_index == 299, "owner %u",
          last->owner_index);
    CHECK_EQ_U64(dmar_unit_for_device(&info, 299, 0, 16, 0), 299);
    CHECK(host_mem_live == 1, "one block for the whole table: %u", host_mem_live);
    dmar_release(&info);
    CHECK(host_mem_live == 0 && host_mem_live_bytes == 0, "released");
}

/* Beyond a sanity cap the note gives the table's real count, and what was
 * not kept is not used. */
TEST(limits)
{
    static struct tbuf tb;
    build_many(&tb, DMAR_MAX_UNITS + 2, 1);
    parse(tb.b, tb.len, NULL);
    EXPECT_NOTE("DMAR: 1024 of 1026 DRHD structures kept (vtdsync's limit); the others are not "
                "used");
    CHECK_EQ_U64(log_.n, 1);
    CHECK_EQ_U64(info.nunits, DMAR_MAX_UNITS);

    build_many(&tb, 9, 7300); /* 65700 scopes in all */
    parse(tb.b, tb.len, NULL);
    EXPECT_NOTE("DMAR: 65535 of 65700 device scopes kept (vtdsync's limit); structures with "
                "scopes not kept are not used");
    CHECK_EQ_U64(log_.defects, 0);
    CHECK_EQ_U64(info.nscopes, DMAR_MAX_SCOPES);
    CHECK(info.units[7].usable && !info.units[8].usable, "the unit past the pool limit unusable");
    CHECK(info.units[7].offset > 0xffff && info.scopes[info.nscopes - 1].offset > 0xffff,
          "offsets past 64 KiB kept whole");

    /* A path longer than vtdsync keeps. */
    tb_dmar_header(&tb, 39);
    size_t s = tb_drhd(&tb, 0, 0, 0xfed90000);
    tb_scope(&tb, DMAR_SCOPE_ENDPOINT, 0, 0, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
             0);
    tb_end16(&tb, s);
    tb_seal(&tb);
    parse(tb.b, tb.len, NULL);
    EXPECT_NOTE("device scope at offset 0x40: path of 9 elements: vtdsync keeps paths of up to 8");
    CHECK(!info.units[0].usable && log_.defects == 0, "unit not used, no defect");
}

/* Out of memory for the arrays: a reported failure, nothing kept, no
 * crash; the note still gives what the table held. */
TEST(out_of_memory)
{
    static struct tbuf tb;
    build_many(&tb, 3, 2);
    dmar_release(&info);
    diag_init(&log_);
    CHECK(dmar_parse(tb.b, tb.len, NULL, &host_mem_none, &info, &log_.diag) == 0, "parse");
    EXPECT_DEFECT("DMAR: out of memory: cannot allocate");
    EXPECT_NOTE("DMAR: 0 of 3 DRHD structures kept (vtdsync's limit)");
    CHECK(info.valid && info.nunits == 0 && info.nscopes == 0 && !info.units, "nothing kept");
    CHECK_EQ_U64(dmar_unit_for_device(&info, 0, 0, 0, 0), -1);
    dmar_release(&info);
    CHECK(dmar_parse(tb.b, tb.len, NULL, NULL, &info, &log_.diag) == 0 && info.nunits == 0,
          "no allocator: the same");
}

/* Checks what must hold for any parse result, whatever the input. */
static void check_invariants(void)
{
    CHECK(info.nunits <= DMAR_MAX_UNITS && info.nscopes <= DMAR_MAX_SCOPES &&
              info.nrmrrs <= DMAR_MAX_RMRRS,
          "counts within limits");
    for (unsigned i = 0; i < info.nunits; i++) {
        struct dmar_scope_list l = info.units[i].scopes;
        CHECK(l.count <= DMAR_MAX_SCOPES && l.first + l.count <= info.nscopes,
              "unit %u scope slice", i);
    }
    for (unsigned i = 0; i < info.nscopes; i++) {
        const struct dmar_scope *sc = &info.scopes[i];
        if (!sc->resolved || (sc->type != DMAR_SCOPE_ENDPOINT && sc->type != DMAR_SCOPE_BRIDGE) ||
            sc->owner_type != DMAR_TYPE_DRHD)
            continue;
        int u = dmar_unit_for_device(&info, sc->segment, sc->bus, sc->dev, sc->fn);
        CHECK(u >= 0 && u < (int)info.nunits, "resolved scope %u maps to unit %d", i, u);
    }
}

TEST(every_truncation)
{
    const char *names[] = {"dmar-q35.dat", "dmar-server.dat", "dmar-client.dat"};
    for (unsigned n = 0; n < 3; n++) {
        struct image im = image_load(names[n]);
        for (size_t len = 0; len <= im.len; len++) {
            uint8_t *copy = malloc(len ? len : 1);
            memcpy(copy, im.data, len);
            parse(copy, len, &server_pci);
            check_invariants();
            free(copy);
        }
        image_free(&im);
    }
}

TEST(random_mutations)
{
    const char *names[] = {"dmar-q35.dat", "dmar-server.dat", "dmar-client.dat"};
    static struct fake_pci messy = {
        3, {{0, 0, 2, 0, 1, 4}, {0, 1, 0, 0, 1, 1}, {0, 0x17, 0, 0, 0, 0xff}}};
    uint32_t seed = 12345;
    for (unsigned n = 0; n < 3; n++) {
        struct image im = image_load(names[n]);
        for (unsigned iter = 0; iter < 3000; iter++) {
            uint8_t *copy = malloc(im.len);
            memcpy(copy, im.data, im.len);
            for (unsigned k = 0; k < 1 + iter % 4; k++) {
                seed = seed * 1103515245u + 12345u;
                copy[36 + (seed >> 8) % (im.len - 36)] = (uint8_t)(seed >> 24);
            }
            parse(copy, im.len, iter & 1 ? &messy : &server_pci);
            check_invariants();
            free(copy);
        }
        image_free(&im);
    }
}

int main(void)
{
    RUN(q35_image);
    RUN(q35_without_pci_access);
    RUN(server_image);
    RUN(client_image);
    RUN(truncated_table);
    RUN(structure_length_overrun);
    RUN(zero_length_structure);
    RUN(structure_shorter_than_its_type);
    RUN(bad_checksum);
    RUN(scope_zero_length_marks_only_its_unit);
    RUN(scope_overruns_structure);
    RUN(scope_odd_length_and_unknown_type);
    RUN(path_points_nowhere);
    RUN(path_loops);
    RUN(two_include_pci_all_units);
    RUN(structures_out_of_order);
    RUN(unit_after_include_pci_all);
    RUN(rmrr_not_whole_pages);
    RUN(rmrr_limit_below_base);
    RUN(rmrr_below_1mib);
    RUN(bad_register_base);
    RUN(overlapping_units);
    RUN(register_set_size);
    RUN(atsr_for_undescribed_segment);
    RUN(namespace_scope_without_andd_and_stray_rhsa);
    RUN(bigger_than_the_old_arrays);
    RUN(limits);
    RUN(out_of_memory);
    RUN(every_truncation);
    RUN(random_mutations);
    return check_finish();
}
