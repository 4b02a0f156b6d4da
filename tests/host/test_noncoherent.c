// HOST-DEPS: lib/printf.c lib/ktap.c iommu/vtd.c iommu/vtd_unit.c iommu/vtd_takeover.c iommu/qi.c iommu/fault.c iommu/context_entry.c iommu/pasid_entry.c iommu/entry_sync.c iommu/pasid_write.c iommu/domain.c iommu/pgtable.c iommu/pgtable_walk.c tests/host/vtd_fake.c tests/host/cache_model.c tests/host/model_walk.c iommu/vtd_alias.c lib/why.c
/* Non-coherent page walks and snooping, on the fake unit with the cache
 * model (tests/host/cache_model.h) and its remapping walk (model_walk.h).
 *
 * With ECAP.C = 0 (and, in scalable mode, page tables without SMPWC/PWSNP)
 * the fake sees table memory only as far as the engine flushed it; stale
 * memory reads as all ones, so a structure the engine forgot to flush
 * makes the DMA fault.  Each case takes the engine's normal path (bring-up,
 * attach, domain map/unmap, vtd_pasid_write / vtd_context_write) and then
 * checks what a device's DMA translates to:
 *
 * - legacy: root, context entries and second-stage tables, C = 0 and 1;
 * - scalable: root, context, PASID directory and PASID entries (RID_PASID
 *   and a second PASID with its own PASID table), second- and first-stage
 *   tables, pass-through; for C/SMPWC/SC = 0/0/0, 1/0/0 (page tables must
 *   still be flushed), 0/1/1 (PASID tables flushed, walks snooped) and
 *   1/1/1 (nothing flushed at all);
 * - PWSNP is set exactly where SMPWC is, PGSNP where SC is, and the fake
 *   refuses either bit where the unit cannot honour it;
 * - the model itself: a line is seen only after a flush covers it, and a
 *   changed entry that is not flushed keeps translating the old way. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "iommu/domain.h"
#include "iommu/pasid_write.h"
#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "tests/host/cache_model.h"
#include "tests/host/check.h"
#include "tests/host/model_walk.h"
#include "tests/host/vtd_fake.h"

CHECK_STATE_DEFINE;

#define SID 0x18          /* 00:03.0: lower half of the scalable root entry */
#define SID_HIGH 0x2a0    /* 02:14.0: devfn 0xa0, the upper half */
#define PASID 0x2a5       /* beyond PASID table 0: a second table and its directory entry */
#define IOVA 0x40201000ULL
#define IOVA_FAR 0x7f5e00000ULL /* other upper-level tables */
#define PHYS_A 0x123456000ULL
#define PHYS_B 0x0badc0000ULL
#define RW (PGTABLE_ACC_READ | PGTABLE_ACC_WRITE)

#define ECAP_FLTS VTD_ECAP_FLTS
#define ECAP_PSS14 (13ULL << 35) /* 14-bit PASIDs: a directory with 256 entries */
#define ECAP_SNOOP (VTD_ECAP_SMPWCS | VTD_ECAP_SC)

static struct vtd_unit unit;

static bool bring_up(uint64_t ecap, enum vtd_mode_request want)
{
    struct why why;
    if (fake_bring_up(&unit, QEMU_CAP, ecap, want, NULL, &why)) {
        printf("    # bring-up: %s\n", why.text);
        return false;
    }
    return true;
}

/* The DMA of sid (pasid < 0: without PASID) translates to want. */
#define CHECK_DMA(sid, pasid, iova, want)                                                          \
    do {                                                                                           \
        struct model_dma r_ = model_dma((sid), (pasid), (iova), RW);                               \
        CHECK(r_.ok && r_.phys == (want), "dma %#x/%d %#llx: %s (phys %#llx, want %#llx)",         \
              (unsigned)(sid), (int)(pasid), (unsigned long long)(iova),                           \
              r_.ok ? "ok" : r_.why, (unsigned long long)r_.phys, (unsigned long long)(want));     \
    } while (0)

/* The DMA faults, and the reason names `what`. */
#define CHECK_DMA_FAULT(sid, pasid, iova, what)                                                    \
    do {                                                                                           \
        struct model_dma r_ = model_dma((sid), (pasid), (iova), RW);                               \
        CHECK(!r_.ok && strstr(r_.why, (what)), "dma %#x/%d %#llx: %s, want a fault on '%s'",      \
              (unsigned)(sid), (int)(pasid), (unsigned long long)(iova),                           \
              r_.ok ? "translated" : r_.why, (what));                                              \
    } while (0)

static bool domain(struct vtd_domain *d, enum pgtable_format f, uint64_t phys)
{
    if (vtd_domain_init(d, &unit, f))
        return false;
    return !vtd_domain_map(d, IOVA, phys, 0x2000, PGTABLE_R | PGTABLE_W) &&
           !vtd_domain_map(d, IOVA_FAR, phys + 0x10000, 0x1000, PGTABLE_R | PGTABLE_W);
}

static bool write_pasid(uint16_t sid, uint32_t pasid, const struct pasid_entry *e,
                        enum entry_sync_strategy s)
{
    struct vtd_write_result r = vtd_pasid_write(&unit, sid, pasid, e, s);
    if (!r.ok)
        printf("    # vtd_pasid_write: %s\n", r.why.text);
    return r.ok;
}

/* ---- the model itself --------------------------------------------------- */

TEST(model_sees_only_flushed_lines)
{
    CHECK(bring_up(QEMU_ECAP, VTD_WANT_SCALABLE), "bring-up");
    uint8_t *p = fake_ops.alloc_pages(NULL, 1);
    uint64_t phys = (uint64_t)(uintptr_t)p;
    const uint8_t *mem = cache_model_view(phys, 4096, false);
    CHECK(mem && mem[0] == CACHE_MODEL_STALE && mem[4095] == CACHE_MODEL_STALE,
          "a fresh page is stale in memory");
    CHECK(cache_model_view(phys, 4096, true) == p, "a coherent walk reads the CPU's bytes");
    memset(p + 72, 0x11, 8);
    CHECK(mem[72] == CACHE_MODEL_STALE, "a store alone does not reach memory");
    CHECK(cache_model_stale_lines(p, 4096) == 64, "every line differs");
    fake_ops.flush(NULL, p + 72, 8);
    CHECK(mem[72] == 0x11 && mem[64] == 0 && mem[127] == 0, "the whole line 64..127 is written");
    CHECK(mem[63] == CACHE_MODEL_STALE && mem[128] == CACHE_MODEL_STALE, "its neighbours are not");
    fake_ops.flush(NULL, p + 120, 16); /* straddles two lines */
    CHECK(mem[128] == 0 && mem[191] == 0 && mem[192] == CACHE_MODEL_STALE, "two lines written");
    CHECK(cache_model_stale_lines(p, 4096) == 62, "62 lines left: %u",
          cache_model_stale_lines(p, 4096));
    CHECK(!cache_model_view(phys + 4090, 8, false), "a read past the page is not table memory");
    CHECK(!cache_model_view(0x1000, 8, true), "nor is an address the fake never gave out");
}

/* A table entry changed in the CPU's cache but not flushed keeps
 * translating the old way; the flush makes the device see the new one. */
TEST(unflushed_entry_keeps_old_translation)
{
    struct vtd_domain a, b;
    struct pasid_entry e;
    CHECK(bring_up(QEMU_ECAP, VTD_WANT_SCALABLE), "bring-up");
    CHECK(vtd_attach_scalable(&unit, SID, 0) == 0, "attach");
    CHECK(domain(&a, PGTABLE_SECOND_STAGE, PHYS_A) && domain(&b, PGTABLE_SECOND_STAGE, PHYS_B),
          "domains");
    vtd_domain_pasid_entry(&a, &e);
    CHECK(write_pasid(SID, 0, &e, ENTRY_SYNC_STRATEGY_HITLESS), "install A");
    CHECK_DMA(SID, -1, IOVA, PHYS_A);
    volatile struct pasid_entry *live = vtd_pasid_entry(&unit, SID, 0, false);
    live->q[0] = (live->q[0] & 0xfff) | pgtable_root(&b.pt); /* SSPTPTR of B, no flush */
    CHECK_DMA(SID, -1, IOVA, PHYS_A);
    vtd_flush(&unit, live, sizeof(*live));
    CHECK_DMA(SID, -1, IOVA, PHYS_B);
}

/* ---- legacy mode ------------------------------------------------------------ */

static void legacy_path(uint64_t ecap)
{
    struct vtd_domain d;
    struct legacy_context_entry ce;
    CHECK(bring_up(ecap, VTD_WANT_LEGACY), "bring-up");
    CHECK(unit.mode == VTD_MODE_LEGACY, "legacy mode");
    CHECK(domain(&d, PGTABLE_SECOND_STAGE, PHYS_A), "domain");
    struct legacy_context_cfg c = {.slptptr = pgtable_root(&d.pt),
                                   .did = d.did,
                                   .aw = vtd_aw_for_levels(d.pt.params.levels),
                                   .tt = LEGACY_TT_UNTRANSLATED};
    legacy_context_build(&ce, &c);
    CHECK(vtd_context_write(&unit, SID, &ce, ENTRY_SYNC_STRATEGY_HITLESS).ok, "context entry");
    CHECK_DMA(SID, -1, IOVA, PHYS_A);
    CHECK_DMA(SID, -1, IOVA + 0x1000, PHYS_A + 0x1000);
    CHECK_DMA(SID, -1, IOVA_FAR, PHYS_A + 0x10000);
    CHECK_DMA_FAULT(SID, -1, IOVA + 0x2000, "not-present");
    /* Lines no entry shares: fresh tables must have been flushed whole. */
    CHECK_DMA_FAULT(SID, -1, IOVA + 0x10000, "not-present");
    CHECK_DMA_FAULT(SID + 8, -1, IOVA, "context entry of 0020 not present");
    /* A page mapped into live tables, then one unmapped. */
    CHECK(!vtd_domain_map(&d, IOVA + 0x2000, PHYS_B, 0x1000, PGTABLE_R | PGTABLE_W), "map");
    CHECK_DMA(SID, -1, IOVA + 0x2000, PHYS_B);
    CHECK(!vtd_domain_unmap(&d, IOVA, 0x1000, 0), "unmap");
    CHECK_DMA_FAULT(SID, -1, IOVA, "not-present");
    /* The other table kind of legacy mode: pass-through, by clear-then-update. */
    c.tt = LEGACY_TT_PASS_THROUGH;
    legacy_context_build(&ce, &c);
    CHECK(vtd_context_write(&unit, SID, &ce, ENTRY_SYNC_STRATEGY_CLEAR).ok, "PT entry");
    CHECK_DMA(SID, -1, IOVA, IOVA);
    CHECK_DMA_FAULT(SID + 1, -1, IOVA, "context entry of 0019 not present");
}

TEST(legacy_non_coherent)
{
    legacy_path(QEMU_ECAP);
    CHECK(cache_model_stats().lines > 0, "tables were flushed");
}

TEST(legacy_coherent_flushes_nothing)
{
    legacy_path(QEMU_ECAP | VTD_ECAP_C);
    CHECK(cache_model_stats().lines == 0, "%u lines flushed with ECAP.C=1",
          cache_model_stats().lines);
}

/* ---- scalable mode ---------------------------------------------------------- */

static void scalable_path(uint64_t ecap)
{
    struct vtd_domain ss_a, ss_b, fs;
    struct pasid_entry e;
    bool pwsnp = ecap & VTD_ECAP_SMPWCS, pgsnp = ecap & VTD_ECAP_SC;
    CHECK(bring_up(ecap | ECAP_FLTS | ECAP_PSS14, VTD_WANT_SCALABLE), "bring-up");
    CHECK(unit.mode == VTD_MODE_SCALABLE, "scalable mode");
    CHECK(vtd_attach_scalable(&unit, SID, 0) == 0 && vtd_attach_scalable(&unit, SID_HIGH, 0) == 0,
          "attach");
    CHECK(domain(&ss_a, PGTABLE_SECOND_STAGE, PHYS_A) &&
              domain(&ss_b, PGTABLE_SECOND_STAGE, PHYS_B) &&
              domain(&fs, PGTABLE_FIRST_STAGE, PHYS_B),
          "domains");

    /* Second stage on RID_PASID, for both halves of the root entry. */
    vtd_domain_pasid_entry(&ss_a, &e);
    CHECK(pasid_entry_get(&e, PASID_PWSNP) == pwsnp && pasid_entry_get(&e, PASID_PGSNP) == pgsnp,
          "SS entry: PWSNP %d PGSNP %d", (int)pasid_entry_get(&e, PASID_PWSNP),
          (int)pasid_entry_get(&e, PASID_PGSNP));
    CHECK(write_pasid(SID, 0, &e, ENTRY_SYNC_STRATEGY_HITLESS), "SS-A");
    CHECK(write_pasid(SID_HIGH, 0, &e, ENTRY_SYNC_STRATEGY_HITLESS), "SS-A upper half");
    CHECK_DMA(SID, -1, IOVA, PHYS_A);
    CHECK_DMA(SID_HIGH, -1, IOVA + 0x1000, PHYS_A + 0x1000);
    CHECK_DMA(SID, -1, IOVA_FAR, PHYS_A + 0x10000);
    /* Lines no entry shares: fresh tables must have been flushed whole. */
    CHECK_DMA_FAULT(SID, -1, IOVA + 0x10000, "not-present");
    CHECK_DMA_FAULT(SID + 2, -1, IOVA, "context entry of 001a not present");
    /* Tables that change under a live entry. */
    CHECK(!vtd_domain_map(&ss_a, IOVA + 0x2000, PHYS_B, 0x1000, PGTABLE_R | PGTABLE_W), "map");
    CHECK_DMA(SID, -1, IOVA + 0x2000, PHYS_B);
    CHECK(!vtd_domain_unmap(&ss_a, IOVA, 0x1000, 0), "unmap");
    CHECK_DMA_FAULT(SID, -1, IOVA, "not-present");

    /* Entry updates: SS-A -> SS-B (hitless), SS-B -> FS (clear). */
    vtd_domain_pasid_entry(&ss_b, &e);
    CHECK(write_pasid(SID, 0, &e, ENTRY_SYNC_STRATEGY_HITLESS), "SS-B");
    CHECK_DMA(SID, -1, IOVA, PHYS_B);
    vtd_domain_pasid_entry(&fs, &e);
    CHECK(pasid_entry_get(&e, PASID_PWSNP) == pwsnp && pasid_entry_get(&e, PASID_PGSNP) == pgsnp,
          "FS entry snoop bits");
    CHECK(write_pasid(SID, 0, &e, ENTRY_SYNC_STRATEGY_CLEAR), "FS");
    CHECK_DMA(SID, -1, IOVA_FAR, PHYS_B + 0x10000);

    /* A second PASID: its own PASID table behind a new directory entry. */
    CHECK(write_pasid(SID, PASID, &e, ENTRY_SYNC_STRATEGY_HITLESS), "FS on PASID %#x", PASID);
    CHECK_DMA(SID, PASID, IOVA + 0x1000, PHYS_B + 0x1000);
    CHECK_DMA_FAULT(SID, PASID + 1, IOVA, "PASID entry not present");
    CHECK_DMA_FAULT(SID, 0x1000, IOVA, "directory entry for PASID 4096 not present");

    /* Pass-through, as the suites build it. */
    struct pasid_entry_cfg pc = {.did = vtd_alloc_did(&unit), .aw = PASID_AW_48BIT};
    vtd_pasid_snoop(&unit, &pc);
    pasid_entry_build_pt(&e, &pc);
    CHECK(write_pasid(SID, 0, &e, ENTRY_SYNC_STRATEGY_HITLESS), "PT");
    CHECK_DMA(SID, -1, IOVA + 0x5000, IOVA + 0x5000);
}

TEST(scalable_non_coherent)
{
    scalable_path(QEMU_ECAP);
    CHECK(cache_model_stats().lines > 0, "tables were flushed");
}

/* ECAP.C = 1 says nothing about page tables reached through a PASID
 * entry: without SMPWC they still need flushing. */
TEST(scalable_coherent_tables_non_coherent_paging)
{
    scalable_path(QEMU_ECAP | VTD_ECAP_C);
}

TEST(scalable_snooped_paging_non_coherent_tables)
{
    scalable_path(QEMU_ECAP | ECAP_SNOOP);
}

TEST(scalable_coherent_flushes_nothing)
{
    scalable_path(QEMU_ECAP | VTD_ECAP_C | ECAP_SNOOP);
    CHECK(cache_model_stats().lines == 0, "%u lines flushed with C=1 SMPWC=1",
          cache_model_stats().lines);
}

/* ---- snoop fields -------------------------------------------------------- */

TEST(snoop_bits_follow_smpwc_and_sc)
{
    static const uint64_t ecaps[] = {0, VTD_ECAP_SMPWCS, VTD_ECAP_SC, ECAP_SNOOP};
    for (unsigned i = 0; i < 4; i++) {
        CHECK(bring_up(QEMU_ECAP | ecaps[i], VTD_WANT_SCALABLE), "bring-up");
        struct pasid_entry_cfg c = {.did = 1};
        vtd_pasid_snoop(&unit, &c);
        CHECK(c.pwsnp == !!(ecaps[i] & VTD_ECAP_SMPWCS), "ecap %#llx: PWSNP %d",
              (unsigned long long)ecaps[i], c.pwsnp);
        CHECK(c.pgsnp == !!(ecaps[i] & VTD_ECAP_SC), "ecap %#llx: PGSNP %d",
              (unsigned long long)ecaps[i], c.pgsnp);
        CHECK(vtd_paging_snooped(&unit) == !!(ecaps[i] & VTD_ECAP_SMPWCS),
              "scalable page walks snooped iff SMPWC");
    }
    CHECK(bring_up(QEMU_ECAP | VTD_ECAP_C | ECAP_SNOOP, VTD_WANT_LEGACY), "legacy bring-up");
    CHECK(vtd_paging_snooped(&unit), "legacy page walks follow ECAP.C");
    CHECK(bring_up(QEMU_ECAP | ECAP_SNOOP, VTD_WANT_LEGACY), "legacy bring-up");
    CHECK(!vtd_paging_snooped(&unit), "legacy page walks follow ECAP.C, not SMPWC");
}

/* A unit refuses the bits it cannot honour: the fake does too, so an
 * engine that set them regardless would fail every walk above. */
TEST(unit_refuses_unsupported_snoop_bits)
{
    struct vtd_domain d;
    struct pasid_entry e;
    CHECK(bring_up(QEMU_ECAP, VTD_WANT_SCALABLE), "bring-up");
    CHECK(vtd_attach_scalable(&unit, SID, 0) == 0, "attach");
    CHECK(domain(&d, PGTABLE_SECOND_STAGE, PHYS_A), "domain");
    vtd_domain_pasid_entry(&d, &e);
    pasid_entry_set(&e, PASID_PWSNP, 1);
    CHECK(write_pasid(SID, 0, &e, ENTRY_SYNC_STRATEGY_CLEAR), "PWSNP entry");
    CHECK_DMA_FAULT(SID, -1, IOVA, "PWSNP");
    vtd_domain_pasid_entry(&d, &e);
    pasid_entry_set(&e, PASID_PGSNP, 1);
    CHECK(write_pasid(SID, 0, &e, ENTRY_SYNC_STRATEGY_CLEAR), "PGSNP entry");
    CHECK_DMA_FAULT(SID, -1, IOVA, "PGSNP");
    vtd_domain_pasid_entry(&d, &e);
    CHECK(write_pasid(SID, 0, &e, ENTRY_SYNC_STRATEGY_CLEAR), "plain entry");
    CHECK_DMA(SID, -1, IOVA, PHYS_A);
}

int main(void)
{
    fake_init();
    cache_model_attach();
    RUN(model_sees_only_flushed_lines);
    RUN(unflushed_entry_keeps_old_translation);
    RUN(legacy_non_coherent);
    RUN(legacy_coherent_flushes_nothing);
    RUN(scalable_non_coherent);
    RUN(scalable_coherent_tables_non_coherent_paging);
    RUN(scalable_snooped_paging_non_coherent_tables);
    RUN(scalable_coherent_flushes_nothing);
    RUN(snoop_bits_follow_smpwc_and_sc);
    RUN(unit_refuses_unsupported_snoop_bits);
    fake_free_all();
    cache_model_detach();
    return check_finish();
}
