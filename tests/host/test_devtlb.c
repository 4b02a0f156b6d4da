// HOST-DEPS: lib/printf.c lib/ktap.c iommu/vtd.c iommu/vtd_unit.c iommu/vtd_takeover.c iommu/qi.c iommu/fault.c iommu/context_entry.c tests/host/vtd_fake.c iommu/vtd_alias.c lib/why.c
/* The device-TLB invalidation descriptors (iommu/qi.c) bit by bit, as the
 * fake unit consumed them, against the spec's layouts (6.5.2.5 device-TLB
 * invalidate, type 3; 6.5.2.6 PASID-based device-TLB invalidate, type 8):
 *
 * - the size encoding: S=0 is one 4 KiB page; S=1 with the address bits
 *   from 12 up to one below the size's top bit set, that bit clear, for
 *   every size from 8 KiB to all of 2^64;
 * - SID, PASID, MIP (the ATS Invalidate Queue Depth) and PFSID in their
 *   places, nothing in any other bit;
 * - PFSID only with ECAP.DIT, also on a real unit that reports it;
 * - a range not aligned to its size, a size beyond 2^64, a unit without
 *   ECAP.DT and a PASID-based one in legacy mode are refused, nothing
 *   queued. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "tests/host/check.h"
#include "tests/host/vtd_fake.h"

CHECK_STATE_DEFINE;

#define ECAP_DIT (1ULL << 41)

static struct vtd_unit unit;
static const struct vtd_devtlb_target dev = {.sid = 0xa4b3, .pf_sid = 0xc5d6, .qdep = 0x15};

static bool bring_up(uint64_t ecap_extra, enum vtd_mode_request want)
{
    struct why why;
    int rc = fake_bring_up(&unit, QEMU_CAP, QEMU_ECAP | ecap_extra, want, NULL, &why);
    CHECK(rc == 0, "bring-up: %s", why.text);
    fk.ndesc = 0;
    return rc == 0;
}

/* The expected qword 1 for [addr, addr + 2^(12+n)), S in bit s_bit. */
static uint64_t want_qw1(uint64_t addr, unsigned n, unsigned s_bit)
{
    if (!n)
        return addr;
    /* bits 12 .. 12+n-2 set: for n = 1 none, for n = 52 bits 12..62 */
    uint64_t ones = 0;
    for (unsigned b = 12; b + 1 < 12 + n; b++)
        ones |= 1ULL << b;
    return addr | ones | (1ULL << s_bit);
}

static void check_one(const char *what, const uint64_t *got, uint64_t q0, uint64_t q1)
{
    CHECK(got[0] == q0 && got[1] == q1 && got[2] == 0 && got[3] == 0,
          "%s: got [%#llx %#llx %#llx %#llx], want [%#llx %#llx 0 0]", what,
          (unsigned long long)got[0], (unsigned long long)got[1], (unsigned long long)got[2],
          (unsigned long long)got[3], (unsigned long long)q0, (unsigned long long)q1);
}

/* Type 3: qword 0 = type 3 | MIP 20:16 | PFSID[3:0] 15:12 | SID 47:32 |
 * PFSID[15:4] 63:52; qword 1 = address 63:12 | S bit 0. */
static uint64_t want_type3(bool dit)
{
    uint64_t q0 = 0x3 | (0x15ULL << 16) | (0xa4b3ULL << 32);
    if (dit)
        q0 |= (0x6ULL << 12) | (0xc5dULL << 52);
    return q0;
}

/* Type 8: qword 0 = type 8 | MIP 8:4 | PFSID[3:0] 15:12 | SID 31:16 |
 * PASID 51:32 | PFSID[15:4] 63:52; qword 1 = address 63:12 | S bit 11,
 * G (bit 0) clear. */
static uint64_t want_type8(bool dit, uint32_t pasid)
{
    uint64_t q0 = 0x8 | (0x15ULL << 4) | (0xa4b3ULL << 16) | ((uint64_t)pasid << 32);
    if (dit)
        q0 |= (0x6ULL << 12) | (0xc5dULL << 52);
    return q0;
}

TEST(sizes_and_fields_of_both_descriptors)
{
    for (unsigned dit = 0; dit < 2; dit++) {
        for (unsigned n = 0; n <= VTD_DEVTLB_ALL; n++) {
            /* the highest address aligned to the size, so its bits meet the size's */
            uint64_t addr = n >= VTD_DEVTLB_ALL ? 0 : (~0xfffULL >> (12 + n)) << (12 + n);
            char w3[96], w8[96];
            if (!bring_up(ECAP_DT | (dit ? ECAP_DIT : 0), VTD_WANT_SCALABLE))
                return;
            snprintf(w3, sizeof(w3), "type 3 dit=%u 2^%u at %#llx", dit, 12 + n,
                     (unsigned long long)addr);
            snprintf(w8, sizeof(w8), "type 8 dit=%u 2^%u at %#llx", dit, 12 + n,
                     (unsigned long long)addr);
            CHECK(vtd_inv_devtlb(&unit, &dev, addr, n) == 0, "%s: refused", w3);
            CHECK(vtd_inv_pasid_devtlb(&unit, &dev, 0xfedcb, addr, n) == 0, "%s: refused", w8);
            CHECK(fk.ndesc == 2, "%s: %u descriptors", w8, fk.ndesc);
            if (fk.ndesc < 2)
                continue;
            check_one(w3, fk.desc[0], want_type3(dit), want_qw1(addr, n, 0));
            check_one(w8, fk.desc[1], want_type8(dit, 0xfedcb), want_qw1(addr, n, 11));
        }
    }
}

/* The whole address space is 2^64 bytes from 0: address bits 62:12 set,
 * bit 63 clear, S. */
TEST(whole_address_space)
{
    if (!bring_up(ECAP_DT, VTD_WANT_SCALABLE))
        return;
    CHECK(vtd_inv_devtlb(&unit, &dev, 0, VTD_DEVTLB_ALL) == 0, "type 3 refused");
    CHECK(vtd_inv_pasid_devtlb(&unit, &dev, 1, 0, VTD_DEVTLB_ALL) == 0, "type 8 refused");
    CHECK(fk.ndesc == 2 && fk.desc[0][1] == 0x7ffffffffffff001ULL &&
              fk.desc[1][1] == 0x7ffffffffffff800ULL,
          "qword 1: %#llx and %#llx", (unsigned long long)fk.desc[0][1],
          (unsigned long long)fk.desc[1][1]);
}

TEST(refused_without_queuing)
{
    static const struct {
        const char *what;
        uint64_t addr;
        unsigned n;
    } bad[] = {
        {"4 KiB at 0x1800", 0x1800, 0},
        {"8 KiB at 0x3000", 0x3000, 1},
        {"2 MiB at 0x101000", 0x101000, 9},
        {"2^64 at 0x1000", 0x1000, VTD_DEVTLB_ALL},
        {"2^65", 0, VTD_DEVTLB_ALL + 1},
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (!bring_up(ECAP_DT, VTD_WANT_SCALABLE))
            return;
        fake_out_clear();
        CHECK(vtd_inv_devtlb(&unit, &dev, bad[i].addr, bad[i].n) != 0, "%s: type 3 queued",
              bad[i].what);
        CHECK(vtd_inv_pasid_devtlb(&unit, &dev, 1, bad[i].addr, bad[i].n) != 0,
              "%s: type 8 queued", bad[i].what);
        CHECK(fk.ndesc == 0, "%s: %u descriptors reached the unit", bad[i].what, fk.ndesc);
        CHECK(strstr(fake_out, "bytes: beyond 2^64 or not aligned to its size; not queued"),
              "%s: no reason: %s",
              bad[i].what, fake_out);
    }
    /* no ECAP.DT: the unit has no device-TLB invalidation at all */
    if (bring_up(0, VTD_WANT_SCALABLE)) {
        CHECK(vtd_inv_devtlb(&unit, &dev, 0, 0) != 0, "no DT: type 3 queued");
        CHECK(vtd_inv_pasid_devtlb(&unit, &dev, 1, 0, 0) != 0, "no DT: type 8 queued");
        CHECK(fk.ndesc == 0, "no DT: %u descriptors", fk.ndesc);
    }
    /* legacy mode: 128-bit descriptors, no PASID-based ones */
    if (bring_up(ECAP_DT, VTD_WANT_LEGACY)) {
        CHECK(unit.mode == VTD_MODE_LEGACY, "legacy mode");
        CHECK(vtd_inv_pasid_devtlb(&unit, &dev, 1, 0, 0) != 0, "legacy: type 8 queued");
        CHECK(vtd_inv_devtlb(&unit, &dev, 0x7000, 0) == 0, "legacy: type 3 refused");
        CHECK(fk.ndesc == 1 && fk.desc[0][0] == want_type3(false) && fk.desc[0][1] == 0x7000,
              "legacy: %u descriptors, first [%#llx %#llx]", fk.ndesc,
              (unsigned long long)fk.desc[0][0], (unsigned long long)fk.desc[0][1]);
    }
}

/* A real unit that reports DIT and DT: Intel M50FCP (Sapphire Rapids),
 * VER 6.0 (corpus row C40 of ../shared/data/hw/capecap.tsv).  Both
 * descriptors carry the PF's SID there. */
TEST(real_unit_with_dit_gets_the_pf_sid)
{
    const uint64_t cap = 0x19ed008c40780c66ULL, ecap = 0x3ee9e86f050dfULL;
    CHECK((ecap & ECAP_DIT) && (ecap & ECAP_DT), "the row reports DIT and DT");
    struct why why;
    int rc = fake_bring_up(&unit, cap, ecap, VTD_WANT_AUTO, NULL, &why);
    CHECK(rc == 0, "bring-up: %s", why.text);
    if (rc)
        return;
    fk.ndesc = 0;
    CHECK(vtd_inv_devtlb(&unit, &dev, 0, VTD_DEVTLB_ALL) == 0, "type 3 refused");
    if (unit.mode == VTD_MODE_SCALABLE)
        CHECK(vtd_inv_pasid_devtlb(&unit, &dev, 5, 0, VTD_DEVTLB_ALL) == 0, "type 8 refused");
    for (unsigned i = 0; i < fk.ndesc && i < 2; i++) {
        uint64_t q0 = fk.desc[i][0];
        unsigned pfsid = (unsigned)(((q0 >> 12) & 0xf) | ((q0 >> 52) << 4));
        CHECK(pfsid == dev.pf_sid, "descriptor %u: PFSID %#x, want %#x", i, pfsid, dev.pf_sid);
    }
    CHECK(fk.ndesc == (unit.mode == VTD_MODE_SCALABLE ? 2u : 1u), "%u descriptors", fk.ndesc);
}

int main(void)
{
    fake_init();
    RUN(sizes_and_fields_of_both_descriptors);
    RUN(whole_address_space);
    RUN(refused_without_queuing);
    RUN(real_unit_with_dit_gets_the_pf_sid);
    fake_free_all();
    return check_finish();
}
