// HOST-DEPS: lib/printf.c drivers/vmd.c
/* Intel VMD detection on a fake PCI config space: each VMD generation is
 * named, look-alikes (another vendor, another class, a RAID card) are not,
 * and the sentence for skip reasons says where the VMD is and what to do. */
#include "drivers/vmd.h"
#include "tests/host/check.h"

#include <stdio.h>
#include <string.h>

CHECK_STATE_DEFINE;

struct fake_fn {
    uint8_t bus, dev, fn;
    uint8_t cfg[256];
};

static void set_ids(struct fake_fn *f, uint16_t vendor, uint16_t device, uint32_t class_code)
{
    memset(f->cfg, 0, sizeof(f->cfg));
    f->cfg[0] = vendor & 0xff;
    f->cfg[1] = vendor >> 8;
    f->cfg[2] = device & 0xff;
    f->cfg[3] = device >> 8;
    f->cfg[8] = 0x01; /* revision */
    f->cfg[9] = class_code & 0xff;
    f->cfg[10] = (class_code >> 8) & 0xff;
    f->cfg[11] = class_code >> 16;
}

static uint32_t fake_read32(void *ctx, unsigned i, unsigned off)
{
    const uint8_t *c = ((struct fake_fn *)ctx)[i].cfg + off;
    return c[0] | c[1] << 8 | c[2] << 16 | (uint32_t)c[3] << 24;
}

static void fake_name(void *ctx, unsigned i, char *buf, size_t len)
{
    const struct fake_fn *f = &((struct fake_fn *)ctx)[i];
    snprintf(buf, len, "0000:%02x:%02x.%u", f->bus, f->dev, f->fn);
}

static unsigned scan(struct fake_fn *fns, unsigned n, char *buf, size_t len)
{
    struct vmd_scan_ops ops = {fns, n, fake_read32, fake_name};
    return vmd_scan(&ops, buf, len);
}

TEST(every_generation_is_named)
{
    static const struct {
        uint16_t device;
        const char *platform;
    } known[] = {{0x201d, "Skylake-SP"}, {0x28c0, "Xeon"}, {0x9a0b, "Tiger Lake"},
                 {0x467f, "Alder Lake"}, {0x4c3d, "Rocket Lake"}, {0xa77f, "Raptor Lake"},
                 {0x7d0b, "Meteor Lake"}, {0xad0b, "Arrow Lake"}, {0xb60b, "Lunar Lake"}};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        struct fake_fn f;
        set_ids(&f, 0x8086, known[i].device, 0x010400);
        const char *p = vmd_platform(fake_read32(&f, 0, 0), fake_read32(&f, 0, 8));
        CHECK(p && strstr(p, known[i].platform), "%04x: %s", known[i].device, p ? p : "(none)");
    }
}

TEST(look_alikes_are_not_vmd)
{
    struct fake_fn f;
    set_ids(&f, 0x1000, 0x467f, 0x010400); /* another vendor's RAID card */
    CHECK(!vmd_platform(fake_read32(&f, 0, 0), fake_read32(&f, 0, 8)), "vendor");
    set_ids(&f, 0x8086, 0x467f, 0x010802); /* class NVMe */
    CHECK(!vmd_platform(fake_read32(&f, 0, 0), fake_read32(&f, 0, 8)), "class");
    set_ids(&f, 0x8086, 0x2822, 0x010400); /* Intel SATA RAID, not VMD */
    CHECK(!vmd_platform(fake_read32(&f, 0, 0), fake_read32(&f, 0, 8)), "SATA RAID");
    set_ids(&f, 0xffff, 0xffff, 0xffffff); /* nothing there */
    CHECK(!vmd_platform(fake_read32(&f, 0, 0), fake_read32(&f, 0, 8)), "absent");
}

TEST(scan_of_an_alder_lake_desktop)
{
    struct fake_fn fns[4] = {{.dev = 0}, {.dev = 2}, {.dev = 0x0e}, {.dev = 0x14}};
    set_ids(&fns[0], 0x8086, 0x4660, 0x060000); /* host bridge */
    set_ids(&fns[1], 0x8086, 0x4680, 0x030000); /* iGPU */
    set_ids(&fns[2], 0x8086, 0x467f, 0x010400); /* VMD */
    set_ids(&fns[3], 0x8086, 0x7ae0, 0x0c0330); /* xHCI */
    char why[200];
    CHECK(scan(fns, 4, why, sizeof(why)) == 1, "one VMD");
    CHECK(strstr(why, "an Intel VMD controller (Alder Lake) at 0000:00:0e.0 hides the NVMe drives") &&
              strstr(why, "turn VMD (Intel RST) off in the firmware setup"),
          "why: %s", why);
}

TEST(scan_of_a_two_socket_server_and_of_none)
{
    struct fake_fn fns[3] = {{.bus = 0x00}, {.bus = 0x64, .fn = 5}, {.bus = 0xc9, .fn = 5}};
    set_ids(&fns[0], 0x8086, 0x09a2, 0x088000);
    set_ids(&fns[1], 0x8086, 0x28c0, 0x010400);
    set_ids(&fns[2], 0x8086, 0x28c0, 0x010400);
    char why[200];
    CHECK(scan(fns, 3, why, sizeof(why)) == 2, "two VMDs");
    CHECK(strstr(why, "2 Intel VMD controllers") && strstr(why, "0000:64:00.5"), "why: %s", why);
    CHECK(scan(fns, 1, why, sizeof(why)) == 0 && why[0] == 0, "none: empty sentence '%s'", why);
}

int main(void)
{
    RUN(every_generation_is_named);
    RUN(look_alikes_are_not_vmd);
    RUN(scan_of_an_alder_lake_desktop);
    RUN(scan_of_a_two_socket_server_and_of_none);
    return check_finish();
}
