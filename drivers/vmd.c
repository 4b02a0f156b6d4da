/* Intel VMD detection (vmd.h).  The device IDs are those Intel's VMD
 * controllers report, by platform. */
#include "drivers/vmd.h"

#include "lib/printf.h"

#define INTEL_VENDOR 0x8086
#define CLASS_RAID 0x0104 /* mass storage, RAID bus controller */

static const struct {
    uint16_t device;
    const char *platform;
} vmd_ids[] = {
    {0x201d, "Skylake-SP"},  {0x28c0, "Xeon (Ice Lake-SP and later)"},
    {0x9a0b, "Tiger Lake"},  {0x467f, "Alder Lake"},
    {0x4c3d, "Rocket Lake"}, {0xa77f, "Raptor Lake"},
    {0x7d0b, "Meteor Lake"}, {0xad0b, "Arrow Lake"},
    {0xb60b, "Lunar Lake"},  {0xb06f, "Intel client"},
    {0xb07f, "Intel client"},
};

const char *vmd_platform(uint32_t id, uint32_t class_rev)
{
    if ((id & 0xffff) != INTEL_VENDOR || class_rev >> 16 != CLASS_RAID)
        return NULL;
    for (size_t i = 0; i < sizeof(vmd_ids) / sizeof(vmd_ids[0]); i++)
        if (vmd_ids[i].device == id >> 16)
            return vmd_ids[i].platform;
    return NULL;
}

unsigned vmd_scan(const struct vmd_scan_ops *ops, char *buf, size_t len)
{
    unsigned found = 0;
    char first[24] = "";
    const char *platform = NULL;
    for (unsigned i = 0; i < ops->n; i++) {
        const char *p = vmd_platform(ops->read32(ops->ctx, i, 0x00), ops->read32(ops->ctx, i, 0x08));
        if (!p)
            continue;
        if (!found++) {
            platform = p;
            ops->name(ops->ctx, i, first, sizeof(first));
        }
    }
    buf[0] = 0;
    if (found == 1)
        ksnprintf(buf, len,
                  "an Intel VMD controller (%s) at %s hides the NVMe drives behind it: turn VMD "
                  "(Intel RST) off in the firmware setup",
                  platform, first);
    else if (found)
        ksnprintf(buf, len,
                  "%u Intel VMD controllers (%s at %s, ...) hide the NVMe drives behind them: "
                  "turn VMD (Intel RST) off in the firmware setup",
                  found, platform, first);
    return found;
}
