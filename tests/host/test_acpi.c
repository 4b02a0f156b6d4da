// HOST-DEPS: lib/printf.c acpi/diag.c acpi/table.c acpi/acpi.c acpi/madt.c acpi/mcfg.c acpi/spcr.c acpi/fadt.c acpi/hpet.c tests/host/acpi_testlib.c tests/host/host_mem.c
/* RSDP -> XSDT/RSDT -> table list, and the MADT, MCFG, SPCR, FADT and HPET
 * parsers, on the iasl-built images in tests/data/acpi and on mutated
 * ones.  Every malformed variant must produce its expected diagnostic. */
#include "acpi/acpi.h"
#include "acpi/fadt.h"
#include "acpi/hpet.h"
#include "acpi/madt.h"
#include "acpi/mcfg.h"
#include "acpi/spcr.h"
#include "tests/host/acpi_testlib.h"
#include "tests/host/check.h"
#include "tests/host/host_mem.h"

#include <string.h>

CHECK_STATE_DEFINE;

static struct diag_log log_;

/* --- RSDP / XSDT / RSDT ------------------------------------------------------- */

enum {
    RSDP_AT = 0xe0000,
    XSDT_AT = 0x7ffe1000,
    RSDT_AT = 0x7ffe2000,
    TABLES_AT = 0x7ff00000, /* table i at TABLES_AT + i * 0x1000 */
    DSDT_AT = 0x7ffe0040,   /* where facp-q35 points */
};

struct firmware {
    struct fake_mem mem;
    uint8_t rsdp[36];
    struct tbuf xsdt, rsdt, dsdt, ssdt[2];
    struct image img[5];
};
static struct firmware fw;
static struct acpi_tables tables;

static void fix_rsdp(uint8_t *r)
{
    r[8] = 0;
    r[8] = (uint8_t)(0x100 - acpi_sum(r, 20));
    r[32] = 0;
    r[32] = (uint8_t)(0x100 - acpi_sum(r, 36));
}

/* QEMU-like firmware: RSDP revision 2 -> XSDT and RSDT listing FACP, APIC,
 * MCFG, HPET, DMAR and two SSDTs; the FACP points at a DSDT. */
static void build_firmware(void)
{
    static const char *names[5] = {"facp-q35.dat", "madt-q35.dat", "mcfg-q35.dat", "hpet-q35.dat",
                                   "dmar-q35.dat"};
    for (unsigned i = 0; i < 5; i++) {
        image_free(&fw.img[i]);
        fw.img[i] = image_load(names[i]);
    }
    memset(&fw.mem, 0, sizeof(fw.mem));
    tb_header(&fw.dsdt, "DSDT", 2);
    tb_seal(&fw.dsdt);
    for (unsigned i = 0; i < 2; i++) {
        tb_header(&fw.ssdt[i], "SSDT", 2);
        tb_u32(&fw.ssdt[i], i);
        tb_seal(&fw.ssdt[i]);
    }
    tb_header(&fw.xsdt, "XSDT", 1);
    tb_header(&fw.rsdt, "RSDT", 1);
    for (unsigned i = 0; i < 7; i++) {
        uint64_t at = TABLES_AT + 0x1000ull * i;
        if (i < 5)
            fake_add(&fw.mem, at, fw.img[i].data, fw.img[i].len);
        else
            fake_add(&fw.mem, at, fw.ssdt[i - 5].b, fw.ssdt[i - 5].len);
        tb_u64(&fw.xsdt, at);
        tb_u32(&fw.rsdt, (uint32_t)at);
    }
    tb_seal(&fw.xsdt);
    tb_seal(&fw.rsdt);
    fake_add(&fw.mem, XSDT_AT, fw.xsdt.b, fw.xsdt.len);
    fake_add(&fw.mem, RSDT_AT, fw.rsdt.b, fw.rsdt.len);
    fake_add(&fw.mem, DSDT_AT, fw.dsdt.b, fw.dsdt.len);

    uint8_t *r = fw.rsdp;
    memset(r, 0, sizeof(fw.rsdp));
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "BOCHS ", 6);
    r[15] = 2;
    for (int i = 0; i < 4; i++)
        r[16 + i] = (uint8_t)((uint32_t)RSDT_AT >> (8 * i));
    r[20] = 36;
    for (int i = 0; i < 8; i++)
        r[24 + i] = (uint8_t)((uint64_t)XSDT_AT >> (8 * i));
    fix_rsdp(r);
    fake_add(&fw.mem, RSDP_AT, r, sizeof(fw.rsdp));
}

static int load(void)
{
    diag_init(&log_);
    acpi_tables_release(&tables);
    return acpi_tables_load(&tables, RSDP_AT, fake_map, &fw.mem, &host_mem, &log_.diag);
}

TEST(rsdp_xsdt_table_list)
{
    build_firmware();
    CHECK(load() == 0, "load failed");
    EXPECT_NO_DIAG();
    CHECK(strcmp(tables.root_sig, "XSDT") == 0, "root %s", tables.root_sig);
    CHECK_EQ_U64(tables.rsdp_revision, 2);
    CHECK(strcmp(tables.rsdp_oem_id, "BOCHS ") == 0, "oem id");
    CHECK_EQ_U64(tables.count, 8); /* 7 listed + DSDT */
    const char *sigs[] = {"FACP", "APIC", "MCFG", "HPET", "DMAR", "SSDT", "SSDT", "DSDT"};
    for (unsigned i = 0; i < 8 && i < tables.count; i++) {
        CHECK(strcmp(tables.tables[i].hdr.signature, sigs[i]) == 0, "table %u is %s", i,
              tables.tables[i].hdr.signature);
        CHECK(tables.tables[i].checksum_ok, "table %u checksum", i);
    }
    const struct acpi_table *d = acpi_find_table(&tables, "DMAR", 0);
    CHECK(d && d->phys == TABLES_AT + 0x4000 && d->hdr.length == fw.img[4].len, "DMAR entry");
    CHECK(acpi_table_map(&tables, d) == fw.img[4].data, "map DMAR");
    const struct acpi_table *s1 = acpi_find_table(&tables, "SSDT", 1);
    CHECK(s1 && s1->phys == TABLES_AT + 0x6000, "second SSDT");
    CHECK(!acpi_find_table(&tables, "SSDT", 2), "no third SSDT");
    CHECK(!acpi_find_table(&tables, "SPCR", 0), "no SPCR");
    const struct acpi_table *ds = acpi_find_table(&tables, "DSDT", 0);
    CHECK(ds && ds->phys == DSDT_AT, "DSDT from X_DSDT");
}

TEST(rsdp_errors)
{
    build_firmware();
    fw.rsdp[0] = 'X';
    CHECK(load() < 0, "bad signature accepted");
    EXPECT_DEFECT("RSDP: no \"RSD PTR \" signature at 0xe0000");

    build_firmware();
    diag_init(&log_);
    CHECK(acpi_tables_load(&tables, 0x1234, fake_map, &fw.mem, &host_mem, &log_.diag) < 0,
          "unmapped");
    EXPECT_DEFECT("RSDP: cannot map 0x1234");

    /* Extended checksum wrong: the XSDT address is not trusted. */
    build_firmware();
    fw.rsdp[33] = 0x77;
    CHECK(load() == 0, "load failed");
    EXPECT_DEFECT("RSDP: extended checksum 0x");
    EXPECT_NOTE("RSDP: revision 2 but XSDT at 0x7ffe1000 unusable: fell back to RSDT");
    CHECK(strcmp(tables.root_sig, "RSDT") == 0 && tables.count == 8, "RSDT used");

    /* First-20-byte checksum wrong and revision 0: RSDT used anyway. */
    build_firmware();
    fw.rsdp[15] = 0;
    fw.rsdp[9] = 'X';
    CHECK(load() == 0, "load failed");
    EXPECT_DEFECT("RSDP: checksum 0x");
    CHECK(strcmp(tables.root_sig, "RSDT") == 0 && tables.count == 8, "lenient RSDT");
}

TEST(xsdt_broken_falls_back_to_rsdt)
{
    build_firmware();
    fw.xsdt.b[40] ^= 0xff; /* entry bytes change: checksum wrong */
    CHECK(load() == 0, "load failed");
    EXPECT_DIAG("XSDT: checksum");
    EXPECT_DIAG("fell back to RSDT");
    CHECK(strcmp(tables.root_sig, "RSDT") == 0 && tables.count == 8, "RSDT used");

    /* Both broken: the XSDT is used with a diagnostic. */
    build_firmware();
    fw.xsdt.b[9] ^= 1;
    fw.rsdt.b[9] ^= 1;
    CHECK(load() == 0, "load failed");
    EXPECT_DEFECT("XSDT: checksum 0x");
    EXPECT_DIAG(", used anyway");
    CHECK(strcmp(tables.root_sig, "XSDT") == 0 && tables.count == 8, "XSDT used");

    /* XSDT signature wrong. */
    build_firmware();
    fw.xsdt.b[0] = 'Y';
    CHECK(load() == 0, "load failed");
    EXPECT_DEFECT("ACPI: XSDT at 0x7ffe1000: signature \"YSDT\", expected \"XSDT\"");
    CHECK(strcmp(tables.root_sig, "RSDT") == 0, "RSDT used");
}

TEST(table_entries_with_problems)
{
    build_firmware();
    /* Entry 5 points to unmapped memory, entry 6 is 0, HPET's checksum and
     * the MCFG's length are wrong; a trailing half entry. */
    size_t e5 = 36 + 5 * 8, e6 = 36 + 6 * 8;
    fw.xsdt.b[e5 + 3] = 0x12;
    memset(fw.xsdt.b + e6, 0, 8);
    fw.xsdt.len += 4;
    tb_seal(&fw.xsdt);
    fw.mem.r[7].len = fw.xsdt.len;
    fw.img[3].data[20] ^= 1;
    fw.img[2].data[5] = 0x10; /* MCFG length 0x103c > mapped */
    CHECK(load() == 0, "load failed");
    EXPECT_DEFECT("XSDT: length 0x60: 4 trailing bytes after the last 8-byte entry");
    EXPECT_DEFECT("ACPI: XSDT entry 5 at 0x12f05000: cannot map header");
    EXPECT_NOTE("XSDT: entry 6 at offset 0x54 is 0, skipped");
    EXPECT_DEFECT("ACPI: HPET at 0x7ff03000: checksum");
    EXPECT_DEFECT("ACPI: XSDT entry 2 at 0x7ff02000: cannot map 0x103c bytes");
    CHECK_EQ_U64(tables.count, 5); /* FACP APIC HPET DMAR DSDT */
    CHECK(acpi_find_table(&tables, "HPET", 0) && !acpi_find_table(&tables, "HPET", 0)->checksum_ok,
          "HPET listed with a bad checksum");
}

TEST(too_many_tables)
{
    build_firmware();
    tb_header(&fw.xsdt, "XSDT", 1);
    for (unsigned i = 0; i < ACPI_MAX_TABLES + 3; i++)
        tb_u64(&fw.xsdt, TABLES_AT + 0x5000); /* the same SSDT over and over */
    tb_seal(&fw.xsdt);
    fw.mem.r[7].len = fw.xsdt.len;
    CHECK(load() == 0, "load failed");
    EXPECT_NOTE("ACPI: 1024 of 1027 tables kept (vtdsync's limit); the others are not read");
    CHECK_EQ_U64(log_.defects, 0);
    CHECK_EQ_U64(tables.count, ACPI_MAX_TABLES);
}

/* --- MADT -------------------------------------------------------------------- */

static struct madt_info madt;

static int parse_madt(const void *t, size_t len)
{
    madt_release(&madt);
    return madt_parse(t, len, &host_mem, &madt, &log_.diag);
}

TEST(madt_q35)
{
    struct image im = image_load("madt-q35.dat");
    diag_init(&log_);
    CHECK(parse_madt(im.data, im.len) == 0, "parse");
    EXPECT_NO_DIAG();
    CHECK_EQ_U64(madt.lapic_address, 0xfee00000);
    CHECK(!madt.lapic_overridden && (madt.flags & 1), "flags");
    CHECK_EQ_U64(madt.ncpus, 2);
    CHECK(madt.cpus[1].apic_id == 1 && madt.cpus[1].uid == 1 && madt.cpus[1].enabled &&
              !madt.cpus[1].x2apic,
          "cpu 1");
    CHECK_EQ_U64(madt.nioapics, 1);
    CHECK(madt.ioapics[0].address == 0xfec00000 && madt.ioapics[0].gsi_base == 0, "ioapic");
    CHECK_EQ_U64(madt.noverrides, 5);
    CHECK(madt.overrides[0].source == 0 && madt.overrides[0].gsi == 2, "irq0 -> gsi2");
    CHECK_EQ_U64(madt.overrides[1].flags, 0xd);
    CHECK(madt.nnmis == 1 && madt.nmis[0].uid == MADT_UID_ALL_CPUS && madt.nmis[0].lint == 1,
          "nmi");
    image_free(&im);
}

TEST(madt_server)
{
    struct image im = image_load("madt-server.dat");
    diag_init(&log_);
    CHECK(parse_madt(im.data, im.len) == 0, "parse");
    EXPECT_NO_DIAG();
    CHECK(madt.lapic_overridden && madt.lapic_address == 0xfee10000, "override");
    CHECK_EQ_U64(madt.ncpus, 5);
    CHECK(!madt.cpus[2].enabled && madt.cpus[2].online_capable && madt.cpus[2].apic_id == 4,
          "online-capable cpu");
    CHECK(madt.cpus[3].x2apic && madt.cpus[3].apic_id == 0x100 && madt.cpus[3].uid == 3 &&
              madt.cpus[3].enabled,
          "x2apic cpu");
    CHECK_EQ_U64(madt.nioapics, 2);
    CHECK_EQ_U64(madt.ioapics[1].gsi_base, 24);
    CHECK_EQ_U64(madt.nnmis, 2);
    CHECK(madt.nmis[1].uid == MADT_UID_ALL_CPUS && madt.nmis[1].lint == 1, "x2apic nmi");
    image_free(&im);
}

TEST(madt_malformed)
{
    struct image im = image_load("madt-q35.dat");
    im.data[0x2d] = 0; /* first entry length 0 */
    table_seal(im.data, im.len);
    diag_init(&log_);
    parse_madt(im.data, im.len);
    EXPECT_DEFECT("MADT: entry type 0 at offset 0x2c: length 0x0 at offset 0x2d < 2: walk stopped");
    EXPECT_DEFECT("MADT: no enabled or online-capable CPU");

    im.data[0x2d] = 0xf0; /* overrun */
    table_seal(im.data, im.len);
    diag_init(&log_);
    parse_madt(im.data, im.len);
    EXPECT_DEFECT("MADT: entry type 0 at offset 0x2c: length 0xf0 at offset 0x2d overruns the "
                  "table (0x54 bytes left): walk stopped");

    im.data[0x2d] = 4; /* too short for a LAPIC; the walk goes on from +4 */
    table_seal(im.data, im.len);
    diag_init(&log_);
    parse_madt(im.data, im.len);
    EXPECT_DEFECT("MADT: entry type 0 at offset 0x2c: length 0x4 at offset 0x2d < 8, skipped");

    im.data[0x2d] = 8;
    im.data[0x37] = 0; /* second CPU gets APIC id 0 */
    table_seal(im.data, im.len);
    diag_init(&log_);
    parse_madt(im.data, im.len);
    EXPECT_DEFECT("MADT: entry type 0 at offset 0x34: APIC id 0x0 already listed at offset 0x2c, "
                  "ignored");
    CHECK_EQ_U64(madt.ncpus, 1);

    diag_init(&log_);
    parse_madt(im.data, 40);
    EXPECT_DEFECT("APIC: header length 0x80 at offset 0x4 > 0x28 bytes available: truncated");
    CHECK(!madt.valid, "valid");
    image_free(&im);
}

/* A MADT of n x2APIC CPUs (APIC ids 0..n-1), all enabled. */
static void build_x2apic_madt(struct tbuf *tb, unsigned n)
{
    tb_header(tb, "APIC", 5);
    tb_u32(tb, 0xfee00000);
    tb_u32(tb, 1);
    for (unsigned i = 0; i < n; i++) {
        tb_u8(tb, MADT_X2APIC);
        tb_u8(tb, 16);
        tb_u16(tb, 0);
        tb_u32(tb, i);
        tb_u32(tb, 1);
        tb_u32(tb, i);
    }
    tb_seal(tb);
}

/* More CPUs than the 1024 vtdsync's fixed array held: all kept now, in one
 * block sized by the table. */
TEST(madt_2000_cpus)
{
    static struct tbuf tb;
    build_x2apic_madt(&tb, 2000);
    diag_init(&log_);
    CHECK(parse_madt(tb.b, tb.len) == 0, "parse");
    EXPECT_NO_DIAG();
    CHECK_EQ_U64(madt.ncpus, 2000);
    if (madt.ncpus == 2000) {
        CHECK(madt.cpus[1999].apic_id == 1999 && madt.cpus[1999].enabled, "last CPU");
        CHECK(madt.cpus[1999].offset == 44 + 16 * 1999, "offset 0x%x", madt.cpus[1999].offset);
    }
    unsigned live = host_mem_live;
    madt_release(&madt);
    CHECK(host_mem_live == live - 1, "its one block released");
}

TEST(madt_too_many_cpus)
{
    static struct tbuf tb;
    build_x2apic_madt(&tb, MADT_MAX_CPUS + 4);
    diag_init(&log_);
    parse_madt(tb.b, tb.len);
    EXPECT_NOTE("MADT: 32768 of 32772 CPUs kept (vtdsync's limit); the others are not used");
    CHECK(log_.n == 1 && log_.defects == 0, "one note");
    CHECK_EQ_U64(madt.ncpus, MADT_MAX_CPUS);
}

TEST(madt_out_of_memory)
{
    static struct tbuf tb;
    build_x2apic_madt(&tb, 4);
    madt_release(&madt);
    diag_init(&log_);
    CHECK(madt_parse(tb.b, tb.len, &host_mem_none, &madt, &log_.diag) == 0, "parse");
    EXPECT_DEFECT("MADT: out of memory: cannot allocate");
    EXPECT_NOTE("MADT: 0 of 4 CPUs kept (vtdsync's limit)");
    EXPECT_DEFECT("MADT: no enabled or online-capable CPU");
    CHECK(madt.valid && madt.ncpus == 0, "nothing kept");
}

/* A 2-socket Supermicro X10DAi lists a local APIC NMI entry per CPU: 40. */
TEST(madt_nmi_per_cpu)
{
    static struct tbuf tb;
    tb_header(&tb, "APIC", 3);
    tb_u32(&tb, 0xfee00000);
    tb_u32(&tb, 1);
    for (unsigned i = 0; i < 40; i++) {
        tb_u8(&tb, MADT_LAPIC);
        tb_u8(&tb, 8);
        tb_u8(&tb, (uint8_t)i); /* UID */
        tb_u8(&tb, (uint8_t)i); /* APIC id */
        tb_u32(&tb, 1);
    }
    for (unsigned i = 0; i < 40; i++) {
        tb_u8(&tb, MADT_LAPIC_NMI);
        tb_u8(&tb, 6);
        tb_u8(&tb, (uint8_t)i);
        tb_u16(&tb, 5);
        tb_u8(&tb, 1);
    }
    tb_seal(&tb);
    diag_init(&log_);
    parse_madt(tb.b, tb.len);
    EXPECT_NO_DIAG();
    CHECK(madt.ncpus == 40 && madt.nnmis == 40, "%u CPUs, %u NMI entries", madt.ncpus, madt.nnmis);
}

/* --- MCFG -------------------------------------------------------------------- */

static struct mcfg_info mcfg;

static int parse_mcfg(const void *t, size_t len)
{
    mcfg_release(&mcfg);
    return mcfg_parse(t, len, &host_mem, &mcfg, &log_.diag);
}

/* More windows than vtdsync keeps: one note with the real count. */
TEST(mcfg_too_many_windows)
{
    static struct tbuf tb;
    tb_header(&tb, "MCFG", 1);
    tb_u64(&tb, 0);
    for (unsigned i = 0; i < MCFG_MAX_WINDOWS + 2; i++) {
        tb_u64(&tb, 0x4000000000ull + 0x10000000ull * i);
        tb_u16(&tb, (uint16_t)i);
        tb_u8(&tb, 0);
        tb_u8(&tb, 0xff);
        tb_u32(&tb, 0);
    }
    tb_seal(&tb);
    diag_init(&log_);
    parse_mcfg(tb.b, tb.len);
    EXPECT_NOTE("MCFG: 4096 of 4098 windows kept (vtdsync's limit); the others are not used");
    CHECK(log_.n == 1 && mcfg.count == MCFG_MAX_WINDOWS, "%u diagnostics, %u windows", log_.n,
          mcfg.count);
}

TEST(mcfg_images)
{
    struct image im = image_load("mcfg-q35.dat");
    diag_init(&log_);
    CHECK(parse_mcfg(im.data, im.len) == 0, "parse");
    EXPECT_NO_DIAG();
    CHECK(mcfg.count == 1 && mcfg.windows[0].base == 0xb0000000 && mcfg.windows[0].end_bus == 0xff,
          "q35 window");
    CHECK_EQ_U64(mcfg_ecam_address(&mcfg, 0, 1, 2, 3),
                 0xb0000000 + (1 << 20) + (2 << 15) + (3 << 12));
    CHECK_EQ_U64(mcfg_ecam_address(&mcfg, 1, 0, 0, 0), 0);
    image_free(&im);

    im = image_load("mcfg-server.dat");
    diag_init(&log_);
    CHECK(parse_mcfg(im.data, im.len) == 0, "parse");
    EXPECT_NO_DIAG();
    CHECK_EQ_U64(mcfg.count, 2);
    CHECK_EQ_U64(mcfg_ecam_address(&mcfg, 1, 0x80, 0, 0), 0x200000000000ull + (0x80ull << 20));
    CHECK_EQ_U64(mcfg_ecam_address(&mcfg, 1, 0x7f, 0, 0), 0);
    image_free(&im);
}

TEST(mcfg_malformed)
{
    struct image im = image_load("mcfg-server.dat");
    im.data[44 + 16 + 10] = 0x90;
    im.data[44 + 16 + 11] = 0x80; /* end < start */
    im.data[44 + 2] = 0x08;       /* base not 1 MiB aligned */
    table_seal(im.data, im.len);
    diag_init(&log_);
    parse_mcfg(im.data, im.len - 4);
    EXPECT_DEFECT("MCFG: header length 0x4c at offset 0x4 > 0x48 bytes available: truncated");
    EXPECT_DEFECT("MCFG: 12 stray byte(s) at offset 0x3c after the last entry");
    EXPECT_DEFECT("MCFG: entry at offset 0x2c: base 0x80080000 at offset 0x2c not 1 MiB aligned, "
                  "skipped");
    CHECK_EQ_U64(mcfg.count, 0);

    diag_init(&log_);
    parse_mcfg(im.data, im.len);
    EXPECT_DEFECT("MCFG: entry at offset 0x3c: end bus 0x80 at offset 0x47 < start bus 0x90, "
                  "skipped");

    struct tbuf tb;
    tb_header(&tb, "MCFG", 1);
    tb_u64(&tb, 0);
    for (int i = 0; i < 2; i++) {
        tb_u64(&tb, 0xe0000000);
        tb_u16(&tb, 0);
        tb_u8(&tb, 0);
        tb_u8(&tb, 0x3f);
        tb_u32(&tb, 0);
    }
    tb_seal(&tb);
    diag_init(&log_);
    parse_mcfg(tb.b, tb.len);
    EXPECT_DEFECT("MCFG: entry at offset 0x3c: segment 0 buses 0x0..0x3f overlap an earlier entry, "
                  "skipped");
    CHECK_EQ_U64(mcfg.count, 1);
    image_free(&im);
}

/* --- SPCR -------------------------------------------------------------------- */

static struct spcr_info spcr;

TEST(spcr_images)
{
    struct image im = image_load("spcr-io.dat");
    diag_init(&log_);
    CHECK(spcr_parse(im.data, im.len, &spcr, &log_.diag) == 0, "parse");
    EXPECT_NO_DIAG();
    CHECK(spcr.valid && spcr.is_16550 && !spcr.mmio && spcr.base.address == 0x2f8, "COM2");
    CHECK_EQ_U64(spcr.access_bytes, 1);
    CHECK_EQ_U64(spcr.baud, 115200);
    CHECK_EQ_U64(spcr.stop_bits, 1);
    CHECK_EQ_U64(spcr.pci_vendor_id, 0xffff);
    image_free(&im);

    im = image_load("spcr-mmio.dat");
    diag_init(&log_);
    CHECK(spcr_parse(im.data, im.len, &spcr, &log_.diag) == 0, "parse");
    EXPECT_NO_DIAG();
    CHECK(spcr.valid && spcr.mmio && spcr.base.address == 0xfe032000, "MMIO UART");
    CHECK_EQ_U64(spcr.interface_type, SPCR_IF_16550_GAS);
    CHECK(spcr.is_16550 && strcmp(spcr_interface_name(spcr.interface_type), "16550-GAS") == 0,
          "16550-GAS");
    CHECK_EQ_U64(spcr.access_bytes, 4);
    CHECK_EQ_U64(spcr.baud, 9600);
    image_free(&im);
}

TEST(spcr_variants)
{
    struct image im = image_load("spcr-io.dat");
    im.data[58] = 5; /* no such baud code */
    table_seal(im.data, im.len);
    diag_init(&log_);
    CHECK(spcr_parse(im.data, im.len, &spcr, &log_.diag) == 0, "parse");
    EXPECT_NOTE("SPCR: baud rate code 5 at offset 0x3a unknown: keeping the current rate");
    CHECK_EQ_U64(spcr.baud, 0);

    im.data[58] = 0; /* "as is" */
    im.data[40] = 2; /* PCI config space */
    table_seal(im.data, im.len);
    diag_init(&log_);
    CHECK(spcr_parse(im.data, im.len, &spcr, &log_.diag) < 0, "accepted");
    EXPECT_NOTE("SPCR: base address space 2 at offset 0x28 is neither MMIO nor I/O");
    CHECK(log_.n == 1, "baud code 0 is not a problem");

    im.data[40] = 1;
    memset(im.data + 44, 0, 8);
    table_seal(im.data, im.len);
    diag_init(&log_);
    CHECK(spcr_parse(im.data, im.len, &spcr, &log_.diag) < 0, "accepted");
    EXPECT_NOTE("SPCR: base address at offset 0x2c is 0: console port not configured");
    image_free(&im);

    /* Revision 4: UART clock and precise baud rate. */
    struct tbuf tb;
    tb.len = 0;
    im = image_load("spcr-mmio.dat");
    tb_bytes(&tb, im.data, im.len);
    tb.b[8] = 4;
    tb.b[76] = 0x00;
    tb.b[77] = 0x1b;
    tb.b[78] = 0xb7; /* 12 MHz */
    tb_u32(&tb, 1500000);
    tb_seal(&tb);
    diag_init(&log_);
    CHECK(spcr_parse(tb.b, tb.len, &spcr, &log_.diag) == 0, "parse rev 4");
    CHECK_EQ_U64(spcr.uart_clock_hz, 12000000);
    CHECK_EQ_U64(spcr.baud, 1500000);
    image_free(&im);
}

/* --- FADT -------------------------------------------------------------------- */

static struct fadt_info fadt;

TEST(fadt_q35)
{
    struct image im = image_load("facp-q35.dat");
    diag_init(&log_);
    CHECK(fadt_parse(im.data, im.len, &fadt, &log_.diag) == 0, "parse");
    EXPECT_NO_DIAG();
    CHECK(strcmp(fadt.hdr.oem_id, "BOCHS ") == 0 && strcmp(fadt.hdr.oem_table_id, "BXPC    ") == 0,
          "OEM fields %s %s", fadt.hdr.oem_id, fadt.hdr.oem_table_id);
    CHECK_EQ_U64(fadt.hdr.oem_revision, 1);
    CHECK(fadt.pm_timer_present && fadt.pm_timer.space_id == ACPI_GAS_IO &&
              fadt.pm_timer.address == 0x608,
          "PM timer");
    CHECK(fadt.pm_timer_32bit, "TMR_VAL_EXT");
    CHECK(fadt.reset_supported && fadt.reset_reg.address == 0xcf9 && fadt.reset_value == 6,
          "reset");
    CHECK_EQ_U64(fadt.dsdt, 0x7ffe0040);
    CHECK_EQ_U64(fadt.facs, 0x7ffe0000);
    CHECK_EQ_U64(fadt.sci_int, 9);
    CHECK_EQ_U64(fadt.century, 0x32);
    image_free(&im);
}

TEST(fadt_variants)
{
    struct image im = image_load("facp-q35.dat");

    /* Revision 1 layout: 116 bytes, 24-bit timer, no reset register. */
    struct tbuf tb;
    tb.len = 0;
    tb_bytes(&tb, im.data, 116);
    tb.b[8] = 1;
    tb.b[113] &= (uint8_t)~1; /* TMR_VAL_EXT (bit 8) off */
    tb_seal(&tb);
    diag_init(&log_);
    CHECK(fadt_parse(tb.b, tb.len, &fadt, &log_.diag) == 0, "parse v1");
    CHECK(fadt.pm_timer_present && fadt.pm_timer.address == 0x608 && !fadt.pm_timer_32bit,
          "legacy PM_TMR_BLK, 24-bit");
    EXPECT_DEFECT("FACP: RESET_REG_SUP set but the table (0x74 bytes) has no reset register");
    CHECK(!fadt.reset_supported, "no reset");

    /* X_PM_TMR_BLK preferred; a disagreement is reported. */
    im.data[208 + 4] = 0x08;
    im.data[208 + 5] = 0x0b; /* X: 0xb08 */
    table_seal(im.data, im.len);
    diag_init(&log_);
    fadt_parse(im.data, im.len, &fadt, &log_.diag);
    EXPECT_NOTE("FACP: X_PM_TMR_BLK at offset 0xd0 (io 0xb08) disagrees with PM_TMR_BLK 0x608 at "
                "offset 0x4c: using X_PM_TMR_BLK");
    CHECK_EQ_U64(fadt.pm_timer.address, 0xb08);

    /* No timer at all. */
    memset(im.data + 208, 0, 12);
    memset(im.data + 76, 0, 4);
    table_seal(im.data, im.len);
    diag_init(&log_);
    fadt_parse(im.data, im.len, &fadt, &log_.diag);
    EXPECT_NOTE("FACP: no PM timer (PM_TMR_BLK and X_PM_TMR_BLK are 0)");
    CHECK(!fadt.pm_timer_present, "no timer");

    diag_init(&log_);
    CHECK(fadt_parse(im.data, 100, &fadt, &log_.diag) < 0, "truncated accepted");
    EXPECT_DEFECT("FACP: header length 0x10c at offset 0x4 > 0x64 bytes available: truncated");
    image_free(&im);
}

/* --- HPET -------------------------------------------------------------------- */

TEST(hpet)
{
    struct hpet_info h;
    struct image im = image_load("hpet-q35.dat");
    diag_init(&log_);
    CHECK(hpet_parse(im.data, im.len, &h, &log_.diag) == 0, "parse");
    EXPECT_NO_DIAG();
    CHECK(h.valid && h.base.address == 0xfed00000 && h.base.space_id == ACPI_GAS_MEMORY, "base");
    CHECK_EQ_U64(h.pci_vendor_id, 0x8086);
    CHECK_EQ_U64(h.num_comparators, 3);
    CHECK(h.counter_64bit, "64-bit counter");

    im.data[40] = 1; /* I/O space */
    table_seal(im.data, im.len);
    diag_init(&log_);
    CHECK(hpet_parse(im.data, im.len, &h, &log_.diag) < 0, "accepted");
    EXPECT_DEFECT("HPET: base address at offset 0x28: space 1 address 0xfed00000 is not a 1 KiB-"
                  "aligned MMIO block");

    im.data[0] = 'X';
    diag_init(&log_);
    CHECK(hpet_parse(im.data, im.len, &h, &log_.diag) < 0, "accepted");
    EXPECT_DEFECT("HPET: signature at offset 0x0 is \"XPET\"");
    image_free(&im);
}

int main(void)
{
    RUN(rsdp_xsdt_table_list);
    RUN(rsdp_errors);
    RUN(xsdt_broken_falls_back_to_rsdt);
    RUN(table_entries_with_problems);
    RUN(too_many_tables);
    RUN(madt_q35);
    RUN(madt_server);
    RUN(madt_malformed);
    RUN(madt_2000_cpus);
    RUN(madt_too_many_cpus);
    RUN(madt_out_of_memory);
    RUN(madt_nmi_per_cpu);
    RUN(mcfg_too_many_windows);
    RUN(mcfg_images);
    RUN(mcfg_malformed);
    RUN(spcr_images);
    RUN(spcr_variants);
    RUN(fadt_q35);
    RUN(fadt_variants);
    RUN(hpet);
    for (unsigned i = 0; i < 5; i++)
        image_free(&fw.img[i]);
    return check_finish();
}
