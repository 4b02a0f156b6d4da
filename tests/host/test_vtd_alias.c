// HOST-DEPS: lib/printf.c lib/ktap.c iommu/vtd.c iommu/vtd_unit.c iommu/vtd_takeover.c iommu/qi.c iommu/fault.c iommu/context_entry.c iommu/pasid_entry.c iommu/entry_sync.c iommu/pasid_write.c iommu/vtd_alias.c tests/host/vtd_fake.c lib/why.c
/* DMA aliases in the engine (iommu/vtd_alias.c) on the fake register file:
 * every context entry written for a device is written for its aliases, the
 * syncs name the alias source-id where the cache is tagged by source-id
 * (context cache), a scalable alias shares the device's PASID directory,
 * detach takes the aliases the device owns with it, a shared alias follows
 * the device that wrote it last, and faults at an alias are its owner's. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "iommu/pasid_write.h"
#include "iommu/vtd.h"
#include "iommu/vtd_alias.h"
#include "iommu/vtd_regs.h"
#include "tests/host/check.h"
#include "tests/host/vtd_fake.h"

CHECK_STATE_DEFINE;

#define EDU 0x0108   /* 01:01.0 behind a PCIe-to-PCI bridge */
#define NVME 0x0110  /* 01:02.0 behind the same bridge */
#define ALIAS 0x0100 /* 01:00.0: the bridge's secondary bus, device 0 */
#define ECAP_PSS9 (9ULL << 35)

static struct vtd_unit unit;

static bool bring_up(enum vtd_mode_request want)
{
    struct why why;
    int rc = fake_bring_up(&unit, QEMU_CAP, QEMU_ECAP | ECAP_PSS9 | ECAP_DT, want, NULL, &why);
    CHECK(rc == 0, "bring-up: %s", why.text);
    vtd_options = (struct vtd_options){0};
    return rc == 0 && vtd_alias_add(&unit, EDU, ALIAS) == 0 &&
           vtd_alias_add(&unit, NVME, ALIAS) == 0;
}

/* Descriptors since `from` of type context-cache (1), device-selective,
 * naming sid. */
static unsigned cc_for(unsigned from, uint16_t sid)
{
    unsigned n = 0;
    for (unsigned i = from; i < fk.ndesc && i < FAKE_DESC_LOG; i++) {
        uint64_t d = fk.desc[i][0];
        if ((d & 0xf) == 1 && ((d >> 4) & 3) == 3 && (uint16_t)(d >> 32) == sid)
            n++;
    }
    return n;
}

static void build_ctx(struct legacy_context_entry *e, uint16_t did, enum legacy_context_tt tt)
{
    struct legacy_context_cfg c = {
        .slptptr = 0x40000000ULL + ((uint64_t)did << 12), .did = did, .aw = 2, .tt = tt};
    legacy_context_build(e, &c);
}

static bool same_ctx(uint16_t a, uint16_t b)
{
    volatile struct legacy_context_entry *x = vtd_legacy_context(&unit, a, false);
    volatile struct legacy_context_entry *y = vtd_legacy_context(&unit, b, false);
    return x && y && x->q[0] == y->q[0] && x->q[1] == y->q[1];
}

/* Legacy: one vtd_context_write moves the device and its alias, each with
 * its own sync; the context-cache invalidation names the alias too. */
TEST(legacy_entry_written_for_the_alias)
{
    if (!bring_up(VTD_WANT_LEGACY))
        return;
    struct legacy_context_entry a, b;
    build_ctx(&a, 3, LEGACY_TT_UNTRANSLATED);
    build_ctx(&b, 4, LEGACY_TT_PASS_THROUGH);
    struct vtd_write_result r = vtd_context_write(&unit, EDU, &a, ENTRY_SYNC_STRATEGY_HITLESS);
    CHECK(r.ok, "write: %s", r.why.text);
    CHECK(same_ctx(EDU, ALIAS), "alias entry equals the device's");
    CHECK(vtd_alias_owner(&unit, ALIAS) == EDU, "owner %d", vtd_alias_owner(&unit, ALIAS));
    unsigned mark = fk.ndesc;
    r = vtd_context_write(&unit, EDU, &b, ENTRY_SYNC_STRATEGY_HITLESS);
    CHECK(r.ok && r.syncs == 2, "present -> present: %u syncs, want 2 (device, alias)", r.syncs);
    CHECK(same_ctx(EDU, ALIAS), "alias follows the update");
    CHECK(cc_for(mark, EDU) == 1 && cc_for(mark, ALIAS) == 1,
          "context-cache for device %u, alias %u", cc_for(mark, EDU), cc_for(mark, ALIAS));
    /* The NVMe behind the same bridge takes the alias over. */
    r = vtd_context_write(&unit, NVME, &a, ENTRY_SYNC_STRATEGY_HITLESS);
    CHECK(r.ok && same_ctx(NVME, ALIAS), "alias follows the NVMe now");
    CHECK(vtd_alias_owner(&unit, ALIAS) == NVME, "owner %d", vtd_alias_owner(&unit, ALIAS));
    CHECK(!same_ctx(EDU, ALIAS), "the edu's own entry is unchanged");
    /* A device without aliases writes one entry. */
    r = vtd_context_write(&unit, 0x18, &a, ENTRY_SYNC_STRATEGY_HITLESS);
    CHECK(r.ok && r.syncs <= 1, "no alias: %u syncs", r.syncs);
}

static uint64_t dir_of(uint16_t sid)
{
    volatile struct sm_context_entry *ce = vtd_sm_context(&unit, sid, false);
    return ce && (ce->q[0] & SM_CTX_P) ? ce->q[0] & SM_CTX_PASIDDIRPTR : 0;
}

/* Scalable: the alias context entry points at the device's own PASID
 * directory (one PASID entry serves both); detach clears it with the
 * context-cache invalidation for the alias. */
TEST(scalable_alias_shares_the_pasid_directory)
{
    if (!bring_up(VTD_WANT_SCALABLE))
        return;
    CHECK(unit.mode == VTD_MODE_SCALABLE, "scalable");
    CHECK(vtd_attach_scalable_dte(&unit, EDU, 0, true) == 0, "attach");
    CHECK(dir_of(EDU) && dir_of(ALIAS) == dir_of(EDU), "alias directory %#llx, device %#llx",
          (unsigned long long)dir_of(ALIAS), (unsigned long long)dir_of(EDU));
    volatile struct sm_context_entry *ace = vtd_sm_context(&unit, ALIAS, false);
    volatile struct sm_context_entry *own = vtd_sm_context(&unit, EDU, false);
    CHECK((own->q[0] & SM_CTX_DTE) && !(ace->q[0] & SM_CTX_DTE), "no device-TLB under the alias");
    CHECK(ace->q[1] == own->q[1], "same RID_PASID");
    CHECK(vtd_pasid_entry(&unit, EDU, 0, true) == vtd_pasid_entry(&unit, ALIAS, 0, false),
          "one PASID entry for both source-ids");
    struct pasid_entry pt;
    pasid_entry_build_pt(&pt, &(struct pasid_entry_cfg){.did = 5, .aw = PASID_AW_48BIT});
    CHECK(vtd_pasid_write(&unit, EDU, 0, &pt, ENTRY_SYNC_STRATEGY_HITLESS).ok, "PASID write");
    CHECK(vtd_pasid_entry(&unit, ALIAS, 0, false)->q[0] == pt.q[0], "alias sees the PT entry");
    /* Leaving PT with quirk pt_ctx_flush drops the alias's context entry
     * from the cache too (QEMU keeps its fast path per source-id). */
    vtd_options.pt_ctx_flush = true;
    struct pasid_entry blocked;
    pasid_entry_build_blocked(&blocked);
    unsigned mark = fk.ndesc;
    CHECK(vtd_pasid_write(&unit, EDU, 0, &blocked, ENTRY_SYNC_STRATEGY_HITLESS).ok, "PT->blocked");
    CHECK(cc_for(mark, EDU) == 1 && cc_for(mark, ALIAS) == 1, "pt_ctx_flush: device %u alias %u",
          cc_for(mark, EDU), cc_for(mark, ALIAS));
    mark = fk.ndesc;
    CHECK(vtd_detach_scalable(&unit, EDU, 5) == 0, "detach");
    CHECK(!dir_of(EDU) && !dir_of(ALIAS), "both not present after detach");
    CHECK(cc_for(mark, ALIAS) == 1, "detach invalidates the alias's context cache");
    CHECK(vtd_alias_owner(&unit, ALIAS) < 0, "no owner after detach");
}

/* Two devices behind one bridge: the alias follows the last attach; the
 * device that lost it does not take it away on detach. */
TEST(scalable_shared_alias_follows_the_last_attach)
{
    if (!bring_up(VTD_WANT_SCALABLE))
        return;
    CHECK(vtd_attach_scalable(&unit, EDU, 0) == 0 && vtd_attach_scalable(&unit, NVME, 0) == 0,
          "attach both");
    CHECK(dir_of(ALIAS) == dir_of(NVME) && dir_of(NVME) != dir_of(EDU), "alias is the NVMe's");
    CHECK(vtd_alias_owner(&unit, ALIAS) == NVME, "owner %d", vtd_alias_owner(&unit, ALIAS));
    CHECK(vtd_detach_scalable(&unit, EDU, 1) == 0 && dir_of(ALIAS) == dir_of(NVME),
          "the edu's detach leaves the NVMe's alias");
    /* A re-attach of an attached device takes the alias back. */
    CHECK(vtd_attach_scalable(&unit, EDU, 0) == 0 && dir_of(ALIAS) == dir_of(EDU),
          "re-attach takes it back");
}

/* A fault recorded at the alias belongs to its owner only. */
TEST(alias_faults_are_the_owners)
{
    if (!bring_up(VTD_WANT_LEGACY))
        return;
    struct legacy_context_entry a;
    build_ctx(&a, 3, LEGACY_TT_UNTRANSLATED);
    CHECK(vtd_context_write(&unit, NVME, &a, ENTRY_SYNC_STRATEGY_HITLESS).ok, "NVMe");
    CHECK(vtd_context_write(&unit, EDU, &a, ENTRY_SYNC_STRATEGY_HITLESS).ok, "edu");
    uint32_t mark = vtd_fault_seq();
    fk.frcd_lo = 0x5000;
    fk.frcd_hi = VTD_FRCD_F | (0x05ULL << 32) | ALIAS;
    CHECK(vtd_fault_scan(&unit) == 1, "one record");
    CHECK(vtd_faults_since(mark, EDU, NULL, 0) == 1, "the edu's (it owns the alias)");
    CHECK(vtd_faults_since(mark, NVME, NULL, 0) == 0, "not the NVMe's");
    CHECK(vtd_faults_since(mark, ALIAS, NULL, 0) == 1, "and the alias's own");
    CHECK(vtd_faults_since(mark, -1, NULL, 0) == 1, "counted once");
    struct vtd_fault_record r;
    char line[200];
    vtd_faults_since(mark, -1, &r, 1);
    vtd_fault_format(&r, line, sizeof(line));
    CHECK(strstr(line, "sid=01:00.0 ") && strstr(line, " alias-of=01:01.0"), "line: %s", line);
}

/* Registration: idempotent, the own ID ignored, the per-device limit kept. */
TEST(registration_limits)
{
    if (!bring_up(VTD_WANT_LEGACY))
        return;
    uint16_t out[VTD_ALIAS_MAX_PER_SID];
    CHECK(vtd_alias_add(&unit, EDU, ALIAS) == 0 && vtd_alias_add(&unit, EDU, EDU) == 0, "add");
    CHECK(vtd_aliases_of(&unit, EDU, out, VTD_ALIAS_MAX_PER_SID) == 1, "one alias");
    CHECK(vtd_alias_shared(&unit, EDU, NVME) && vtd_alias_shared(&unit, NVME, ALIAS) &&
              vtd_alias_shared(&unit, EDU, EDU),
          "behind one bridge: shared");
    CHECK(!vtd_alias_shared(&unit, EDU, 0x18) && !vtd_alias_shared(&unit, 0x18, 0x20),
          "elsewhere: not shared");
    for (unsigned i = 1; i < VTD_ALIAS_MAX_PER_SID; i++)
        CHECK(vtd_alias_add(&unit, EDU, (uint16_t)(0x200 + i)) == 0, "alias %u", i);
    CHECK(vtd_alias_add(&unit, EDU, 0x300) == -1, "one too many refused");
    CHECK(strstr(fake_out, "more than 8 DMA aliases") != NULL, "and said: %s", fake_out);
    /* Many devices: the list grows past one page. */
    for (unsigned s = 0; s < 1200; s++)
        CHECK(vtd_alias_add(&unit, (uint16_t)(0x1000 + s), 0x0f00) == 0, "device %u", s);
    CHECK(vtd_aliases_of(&unit, 0x1000 + 1199, out, 1) == 1, "last one kept");
    CHECK(vtd_aliases_of(&unit, EDU, out, VTD_ALIAS_MAX_PER_SID) == VTD_ALIAS_MAX_PER_SID,
          "the first ones survive growing");
}

int main(void)
{
    fake_init();
    RUN(legacy_entry_written_for_the_alias);
    RUN(scalable_alias_shares_the_pasid_directory);
    RUN(scalable_shared_alias_follows_the_last_attach);
    RUN(alias_faults_are_the_owners);
    RUN(registration_limits);
    fake_free_all();
    return check_finish();
}
