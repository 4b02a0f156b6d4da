/* One bring-up of the VT-d units per run (see vtd_setup.h). */
#include "app/vtd_setup.h"

#include "arch/x86/cpu.h"
#include "drivers/edu.h"
#include "drivers/pci.h"
#include "drivers/pci_alias.h"
#include "iommu/domain.h"
#include "iommu/fault.h"
#include "iommu/pasid_write.h"
#include "iommu/vtd_alias.h"
#include "iommu/vtd_hw.h"
#include "lib/kstring.h"
#include "lib/page.h"
#include "lib/ktap.h"
#include "lib/parse.h"
#include "lib/printf.h"
#include "app/leave_alone.h"
#include "app/nvme_pick.h"
#include "app/platform.h"
#include "app/run.h"
#include "app/xstate.h"

/* Everything vtd_setup keeps about one unit, the unit itself first.  A
 * record is found from its unit by the unit's index (record_of) and from a
 * device by the DMAR unit that covers it (by_dmar), never by a search. */
struct setup_unit {
    struct vtd_unit unit;
    unsigned dmar_index; /* platform.dmar.units[dmar_index] */
    /* Bit per source id.  foreign: a function the unit translates that no
     * suite has taken (vtd_setup_unit_for clears it); its faults are
     * foreign.  has_entry: it got a foreign entry at bring-up, so that
     * translation never blocks a device the tests do not own
     * (real-hardware.md: RMRRs are live); without ECAP.PT only devices
     * with an RMRR get one.  Allocated at bring-up (page_alloc: not
     * 256 KiB of zeros in the image); NULL when that failed. */
    uint8_t *foreign;
    uint8_t *has_entry;
    uint16_t foreign_did;
    /* Without ECAP.PT: the identity domain holding every RMRR of the
     * unit's devices (created on the first device in an RMRR's scope). */
    struct vtd_domain rmrr_domain;
    bool rmrr_domain_ok;
};

/* One record per unit brought up, recs[u->index], allocated at bring-up
 * (alloc_records) for as many units as the DMAR table describes. */
static struct setup_unit *recs;
static unsigned nrecs; /* records allocated */
static unsigned nup;   /* units up: recs[0 .. nup-1] */
static int *by_dmar;   /* DMAR unit -> index in recs, -1 when not up */
static unsigned nby_dmar;
static bool done;
static struct why setup_why; /* the reason when no unit came up */
/* DMAR-listed units that would not come up: a failure, reported once. */
static unsigned failed_units;
static char failure_text[320];
static bool failure_claimed;

#define SID_MAP_PAGES (65536 / 8 / 4096)

static bool bit(const uint8_t *map, uint16_t sid)
{
    return map && (map[sid >> 3] & (1u << (sid & 7)));
}

static void set_bit(uint8_t *map, uint16_t sid, bool on)
{
    if (on)
        map[sid >> 3] |= (uint8_t)(1u << (sid & 7));
    else
        map[sid >> 3] &= (uint8_t) ~(1u << (sid & 7));
}

static void *slots_of(size_t size, unsigned n)
{
    return page_alloc(((uint64_t)size * n + PAGE_SIZE - 1) / PAGE_SIZE);
}

/* One record per unit of the DMAR table, up to what vtd_units[] holds (far
 * above what the parser keeps); zeroed, so nothing is "ok" yet. */
static bool alloc_records(unsigned n)
{
    by_dmar = slots_of(sizeof(*by_dmar), n);
    nby_dmar = by_dmar ? n : 0;
    for (unsigned i = 0; i < nby_dmar; i++)
        by_dmar[i] = -1;
    if (n > VTD_MAX_UNITS) {
        ktap_diag("vtd: %u of the %u DMAR units are used: vtd_units[] has %u slots", VTD_MAX_UNITS,
                  n, VTD_MAX_UNITS);
        n = VTD_MAX_UNITS;
    }
    recs = slots_of(sizeof(*recs), n);
    nrecs = recs ? n : 0;
    return recs && by_dmar;
}

/* The record whose unit u is (also while u is being brought up), or NULL
 * for a unit vtd_setup does not hold. */
static struct setup_unit *record_of(const struct vtd_unit *u)
{
    if (!u || u->index < 0 || (unsigned)u->index >= nrecs)
        return NULL;
    struct setup_unit *r = &recs[u->index];
    return &r->unit == u ? r : NULL;
}

static enum vtd_mode_request wanted_mode(void)
{
    if (!strcmp(cfg.mode, "legacy"))
        return VTD_WANT_LEGACY;
    if (!strcmp(cfg.mode, "scalable"))
        return VTD_WANT_SCALABLE;
    return VTD_WANT_AUTO;
}

static bool keep_firmware_te(const struct vtd_unit *u, struct why *why);

/* QEMU 10.0.2's VT-d reads a PASID entry from memory again for each field
 * of one translation (the PT check, the table pointer, the levels, the
 * domain id, ...), so a DMA racing a hitless SS -> PT flip can take "SS"
 * from the old entry and the pointer from the new one, walk a table at
 * address 0 and fault (reason 0x06), or with FPD fail silently and leave
 * the NVMe controller fatal.  It is a race, seen about once in 16 loaded
 * runs of foreign-pt, so it cannot be probed; under QEMU the workaround is
 * on and said once.  quirk=pasid_reread turns it on anywhere,
 * quirk=no_pasid_reread off (to see the deviation). */
static void set_pasid_reread(void)
{
    bool forced_on = config_list_has(cfg.quirk, "pasid_reread");
    bool forced_off = config_list_has(cfg.quirk, "no_pasid_reread");
    vtd_options.pasid_reread = forced_on || (cpu_is_qemu() && !forced_off);
    if (vtd_options.pasid_reread)
        ktap_diag("vtd: finding: %s: hitless PASID-entry updates keep the fields only the old "
                  "entry uses until a sync after the flip (one more sync where one changes)",
                  forced_on ? "quirk=pasid_reread"
                            : "QEMU's VT-d rereads a PASID entry within one translation "
                              "(quirk=no_pasid_reread to see it)");
}

static void set_options(void)
{
    vtd_options.trace = cfg.trace;
    vtd_options.pt_ctx_flush = config_list_has(cfg.quirk, "pt_ctx_flush");
    vtd_options.window_us = cfg.window_us;
    vtd_options.keep_firmware_te = keep_firmware_te;
    set_pasid_reread();
}

/* "RMRR 0x...-0x..., ..." for the RMRRs whose scope holds d; "" if none. */
static bool rmrrs_of(const struct pci_dev *d, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = 0;
    for (unsigned r = 0; r < platform.dmar.nrmrrs; r++) {
        const struct dmar_rmrr *rm = &platform.dmar.rmrrs[r];
        if (!platform_rmrr_covers(rm, d))
            continue;
        if (n + 1 < len)
            n += ksnprintf(buf + n, len - n, "%s%#llx-%#llx", n ? "," : "RMRR ",
                           (unsigned long long)rm->base, (unsigned long long)rm->limit);
    }
    return n != 0;
}

/* Without pass-through, identity-map every RMRR range of d in the unit's
 * RMRR domain: the only DMA such a device may do unattended. */
static int rmrr_identity(struct setup_unit *r, const struct pci_dev *d)
{
    struct vtd_unit *u = &r->unit;
    if (!r->rmrr_domain_ok) {
        enum pgtable_format f =
            u->mode == VTD_MODE_LEGACY || u->caps.slts ? PGTABLE_SECOND_STAGE : PGTABLE_FIRST_STAGE;
        if (vtd_domain_init(&r->rmrr_domain, u, f))
            return -1;
        r->rmrr_domain_ok = true;
    }
    for (unsigned k = 0; k < platform.dmar.nrmrrs; k++) {
        const struct dmar_rmrr *rm = &platform.dmar.rmrrs[k];
        if (!platform_rmrr_covers(rm, d))
            continue;
        if (vtd_domain_map_identity(&r->rmrr_domain, rm->base, rm->limit - rm->base + 1))
            return -1;
    }
    return 0;
}

/* Give sid its foreign entry: pass-through, or (without ECAP.PT) the RMRR
 * identity domain, built by the catalogue (app/xstate.h) like every
 * suite's entries: the domain's own stage, SS-A or FS-A.  Returns false
 * when the entry could not be written. */
static bool install_foreign(struct setup_unit *rec, uint16_t sid, bool identity)
{
    struct vtd_unit *u = &rec->unit;
    const struct vtd_domain *dom = identity ? &rec->rmrr_domain : NULL;
    enum xstate s = !identity                                      ? XS_PT
                    : dom->pt.params.format == PGTABLE_FIRST_STAGE ? XS_FS_A
                                                                   : XS_SS_A;
    struct xs_entry e;
    if (!xs_build(s, u, dom, rec->foreign_did, &e))
        return false;
    if (u->mode == VTD_MODE_SCALABLE && vtd_attach_scalable(u, sid, 0))
        return false;
    return xs_write(u, sid, &e, ENTRY_SYNC_STRATEGY_HITLESS).ok;
}

/* Register with the engine the DMA aliases (drivers/pci_alias.h) of every
 * function r's unit translates, before any entry is written: from then on
 * each entry the function gets, foreign or under test, is written for its
 * aliases too.  The alias goes to the device's unit: the unit that sees a
 * request is the one on its path, whatever source-id it carries. */
static void register_aliases(struct setup_unit *r)
{
    struct vtd_unit *u = &r->unit;
    struct pci_alias al[VTD_ALIAS_MAX_PER_SID + 1];
    char own[8], rid[8], via[24];
    for (unsigned i = 0; i < pci_count(); i++) {
        const struct pci_dev *d = pci_get(i);
        if (dmar_unit_for_device(&platform.dmar, d->seg, d->bus, d->dev, d->fn) !=
            (int)r->dmar_index)
            continue;
        unsigned n = pci_dma_aliases(d, pci_get, al, VTD_ALIAS_MAX_PER_SID + 1);
        uint16_t sid = vtd_sid(d->bus, d->dev, d->fn);
        if (n > VTD_ALIAS_MAX_PER_SID + 1)
            ktap_diag("vtd: unit=%d %s has %u DMA aliases; only %d get entries", u->index,
                      vtd_sid_str(sid, own), n - 1, VTD_ALIAS_MAX_PER_SID);
        for (unsigned k = 1; k < n && k <= VTD_ALIAS_MAX_PER_SID; k++) {
            const struct pci_dev *b = al[k].bridge >= 0 ? pci_get((unsigned)al[k].bridge) : NULL;
            via[0] = 0;
            if (b)
                ksnprintf(via, sizeof(via), " %02x:%02x.%x", b->bus, b->dev, b->fn);
            if (vtd_alias_add(u, sid, al[k].rid))
                continue;
            ktap_diag("vtd: unit=%d %s does DMA as %s too (%s%s)", u->index, vtd_sid_str(sid, own),
                      vtd_sid_str(al[k].rid, rid), pci_alias_kind_name(al[k].kind), via);
        }
    }
}

/* Before translation is ever enabled on r's unit, every PCI function it
 * translates gets a foreign entry.  Without it, the first vtd_enable_translation
 * would block them all: a lab machine loses its USB keyboard (SMM legacy
 * emulation through an RMRR) and its display, and floods with faults. */
static void foreign_entries(struct setup_unit *r)
{
    struct vtd_unit *u = &r->unit;
    bool pt = u->caps.pt;
    unsigned listed = 0, total = 0, blocked = 0;
    char rmrr[96], b[8];
    r->foreign = page_alloc(SID_MAP_PAGES);
    r->has_entry = page_alloc(SID_MAP_PAGES);
    if (!r->foreign || !r->has_entry) {
        ktap_diag("vtd: unit=%d out of memory for the foreign device maps: every device it "
                  "translates is blocked once translation is on",
                  u->index);
        r->foreign = r->has_entry = NULL;
        return;
    }
    r->foreign_did = vtd_alloc_did(u);
    /* One line per device is what a lab wants to read, up to a point: a
     * server has hundreds of functions behind one unit. */
    unsigned n = 0;
    for (unsigned i = 0; i < pci_count(); i++) {
        const struct pci_dev *d = pci_get(i);
        if (dmar_unit_for_device(&platform.dmar, d->seg, d->bus, d->dev, d->fn) ==
            (int)r->dmar_index)
            n++;
    }
    for (unsigned i = 0; i < pci_count(); i++) {
        const struct pci_dev *d = pci_get(i);
        if (dmar_unit_for_device(&platform.dmar, d->seg, d->bus, d->dev, d->fn) !=
            (int)r->dmar_index)
            continue;
        uint16_t sid = vtd_sid(d->bus, d->dev, d->fn);
        bool has_rmrr = rmrrs_of(d, rmrr, sizeof(rmrr));
        vtd_sid_str(sid, b);
        set_bit(r->foreign, sid, true);
        if (!pt && !has_rmrr) {
            blocked++; /* nothing it may do without an owner: stays blocked */
            continue;
        }
        if (!pt && rmrr_identity(r, d)) {
            ktap_diag("vtd: unit=%d foreign device %s: cannot map its %s: left blocked", u->index,
                      b, rmrr);
            continue;
        }
        if (!install_foreign(r, sid, !pt)) {
            ktap_diag("vtd: unit=%d foreign device %s: entry not written: left blocked", u->index,
                      b);
            continue;
        }
        set_bit(r->has_entry, sid, true);
        total++;
        if (!pt) {
            ktap_diag("vtd: unit=%d foreign device %s identity-mapped (%s); no ECAP.PT, so "
                      "its other DMA will fault",
                      u->index, b, rmrr);
            listed++;
        } else if (has_rmrr || n <= 8) {
            ktap_diag("vtd: unit=%d foreign device %s left in pass-through%s%s%s", u->index, b,
                      has_rmrr ? " (" : "", rmrr, has_rmrr ? ")" : "");
            listed++;
        }
    }
    if (total > listed)
        ktap_diag("vtd: unit=%d %u foreign devices left in pass-through (%u listed above)",
                  u->index, total, listed);
    if (blocked)
        ktap_diag("vtd: unit=%d %u devices without RMRR left blocked (no ECAP.PT)", u->index,
                  blocked);
}

/* ---- units left alone (app/leave_alone.h) -------------------------------- */

#define VIRTIO_VENDOR 0x1af4

/* The functions the suites take for their DMA: the NVMe controller
 * (device=, or the first one: traffic, transitions, faults), QEMU's edu
 * (isolation, stale, faults, foreign) and, under QEMU only, a virtio
 * function with ATS (the vtd suite's device_tlb case). */
static bool under_test(void *ctx, const struct pci_dev *d)
{
    (void)ctx;
    uint16_t seg;
    uint8_t bus, dev, fn;
    if (cfg.device[0] && parse_bdf(cfg.device, &seg, &bus, &dev, &fn) && d->seg == seg &&
        d->bus == bus && d->dev == dev && d->fn == fn)
        return true;
    if (d == pci_find_class(NVME_CLASS_CODE, 0xffffff, NULL))
        return true;
    if (d->vendor == EDU_VENDOR && d->device == EDU_DEVICE)
        return true;
    return cpu_is_qemu() && d->vendor == VIRTIO_VENDOR && d->caps.ats;
}

static unsigned pci_count_cb(void *ctx)
{
    (void)ctx;
    return pci_count();
}

static const struct pci_dev *pci_get_cb(void *ctx, unsigned i)
{
    (void)ctx;
    return pci_get(i);
}

/* The takeover keeps translation on where the firmware left it on a
 * graphics unit that Linux never switches off (leave_alone.h). */
static bool keep_firmware_te(const struct vtd_unit *u, struct why *why)
{
    static const struct leave_alone_pci pci = {pci_count_cb, pci_get_cb, under_test, NULL};
    const struct setup_unit *r = record_of(u);
    return r && leave_alone_unit(&platform.dmar, r->dmar_index, &pci, true, why) == LEAVE_IGFX;
}

/* Hold TE on a unit with nothing under test, or on the graphics unit, and
 * say so once. */
static void leave_alone(struct vtd_unit *u, unsigned dmar_unit)
{
    static const struct leave_alone_pci pci = {pci_count_cb, pci_get_cb, under_test, NULL};
    struct why why;
    enum leave_alone k = leave_alone_unit(&platform.dmar, dmar_unit, &pci, u->found_tes, &why);
    if (k == LEAVE_NONE)
        return;
    vtd_hold_te(u, k == LEAVE_IGFX, why.text);
    ktap_diag("vtd: unit=%d at %#llx left alone: %s", u->index, (unsigned long long)u->base,
              why.text);
}

/* Does a resolved scope of `list` name seg:sid as an endpoint (or an ACPI
 * namespace device's requester ID)? */
static bool scope_names(struct dmar_scope_list list, uint16_t seg, uint16_t sid)
{
    for (unsigned i = 0; i < list.count && list.first + i < platform.dmar.nscopes; i++) {
        const struct dmar_scope *sc = &platform.dmar.scopes[list.first + i];
        if (sc->resolved && sc->segment == seg && vtd_sid(sc->bus, sc->dev, sc->fn) == sid &&
            (sc->type == DMAR_SCOPE_ENDPOINT || sc->type == DMAR_SCOPE_ACPI))
            return true;
    }
    return false;
}

/* One requester ID that a scope of the unit's DRHD or of an RMRR names but
 * PCI enumeration did not find: gets the foreign entry an enumerated
 * function would get (pass-through, else its RMRRs' identity map). */
static void scope_only_entry(struct setup_unit *r, uint16_t sid)
{
    struct vtd_unit *u = &r->unit;
    struct pci_dev named = {.seg = u->segment,
                            .bus = (uint8_t)(sid >> 8),
                            .dev = (uint8_t)((sid >> 3) & 31),
                            .fn = (uint8_t)(sid & 7),
                            .parent = -1};
    char rmrr[96], b[8];
    bool has_rmrr = rmrrs_of(&named, rmrr, sizeof(rmrr));
    if (bit(r->foreign, sid) || (!u->caps.pt && !has_rmrr))
        return; /* done already, or nothing it may do unowned */
    vtd_sid_str(sid, b);
    set_bit(r->foreign, sid, true);
    if ((!u->caps.pt && rmrr_identity(r, &named)) || !install_foreign(r, sid, !u->caps.pt)) {
        ktap_diag("vtd: unit=%d %s (named in the DMAR, not enumerated): entry not written",
                  u->index, b);
        return;
    }
    set_bit(r->has_entry, sid, true);
    ktap_diag("vtd: unit=%d %s is named in the DMAR but not enumerated (hidden or phantom "
              "function): %s%s%s%s",
              u->index, b, u->caps.pt ? "left in pass-through" : "identity-mapped",
              has_rmrr ? " (" : "", has_rmrr ? rmrr : "", has_rmrr ? ")" : "");
}

/* Functions a DMAR scope names may do DMA without showing in config space
 * (hidden by firmware, phantom functions, ACPI devices with a PCI
 * requester ID): RMRR scopes say they do, and the unit's DRHD scope says
 * which unit sees them.  Each gets a foreign entry like an enumerated one. */
static void scope_only_entries(struct setup_unit *r)
{
    struct vtd_unit *u = &r->unit;
    const struct dmar_unit *du = &platform.dmar.units[r->dmar_index];
    if (!r->foreign)
        return;
    for (unsigned i = 0; i < platform.dmar.nscopes; i++) {
        const struct dmar_scope *sc = &platform.dmar.scopes[i];
        if (!sc->resolved || sc->segment != u->segment ||
            (sc->type != DMAR_SCOPE_ENDPOINT && sc->type != DMAR_SCOPE_ACPI))
            continue;
        uint16_t sid = vtd_sid(sc->bus, sc->dev, sc->fn);
        if (pci_find_bdf(sc->segment, sc->bus, sc->dev, sc->fn))
            continue; /* enumerated: foreign_entries did it */
        bool mine = scope_names(du->scopes, sc->segment, sid) ||
                    (sc->owner_type == DMAR_TYPE_RMRR &&
                     dmar_unit_for_device(&platform.dmar, sc->segment, sc->bus, sc->dev, sc->fn) ==
                         (int)r->dmar_index);
        if (mine && (sc->owner_type == DMAR_TYPE_DRHD || sc->owner_type == DMAR_TYPE_RMRR))
            scope_only_entry(r, sid);
    }
}

/* The first call brings the units up; every call answers the same. */
static unsigned setup_once(void)
{
    done = true;
    set_options();
    if (!platform_iommu_usable(&setup_why))
        return false;
    if (!alloc_records(platform.dmar.nunits))
        return why_set(&setup_why, "out of memory for the remapping units' state");
    struct why reason;
    why_clear(&reason);
    for (unsigned i = 0; i < platform.dmar.nunits && nup < nrecs; i++) {
        const struct dmar_unit *du = &platform.dmar.units[i];
        if (!du->usable) {
            ktap_diag("vtd: DMAR unit %u at %#llx not usable (corrupt DRHD): left alone", i,
                      (unsigned long long)du->reg_base);
            continue;
        }
        struct setup_unit *r = &recs[nup];
        r->dmar_index = i; /* for keep_firmware_te, during the bring-up */
        if (vtd_hw_unit_init(&r->unit, (int)nup, du->reg_base, du->reg_size, du->segment,
                             wanted_mode(), &reason)) {
            ktap_diag("vtd: unit at %#llx not brought up: %s", (unsigned long long)du->reg_base,
                      reason.text);
            if (!failed_units++)
                ksnprintf(failure_text, sizeof(failure_text),
                          "remapping unit at %#llx (DMAR unit %u) not brought up: %s",
                          (unsigned long long)du->reg_base, i, reason.text);
            continue;
        }
        by_dmar[i] = (int)nup++;
        register_aliases(r);
        foreign_entries(r);
        leave_alone(&r->unit, i);
        scope_only_entries(r);
    }
    if (failed_units > 1) {
        size_t n = strlen(failure_text);
        ksnprintf(failure_text + n, sizeof(failure_text) - n, " (and %u more units)",
                  failed_units - 1);
    }
    if (!nup && !reason.text[0])
        return why_set(&setup_why, "no remapping unit could be brought up");
    if (!nup)
        return why_set(&setup_why, "%s", reason.text);
    return nup;
}

unsigned vtd_setup(struct why *why)
{
    unsigned n = done ? nup : setup_once();
    if (!n)
        why_set(why, "%s", setup_why.text);
    return n;
}

bool vtd_setup_claim_failure(struct why *why)
{
    if (!failed_units || failure_claimed)
        return false;
    failure_claimed = true;
    why_set(why, "%s", failure_text);
    return true;
}

void vtd_suite_unavailable(const char *suite, const char *why)
{
    struct why failure;
    if (vtd_setup_claim_failure(&failure))
        ktap_suite_fail(suite, failure.text);
    else
        ktap_suite_skip(suite, why);
}

/* The record of the unit that translates seg:bus:dev.fn, or NULL (why). */
static struct setup_unit *record_for(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
                                     struct why *why)
{
    if (!vtd_setup(why))
        return NULL;
    int d = dmar_unit_for_device(&platform.dmar, seg, bus, dev, fn);
    if (d < 0) {
        why_set(why, "no DMAR unit covers the device (not in any device scope)");
        return NULL;
    }
    if ((unsigned)d >= nby_dmar || by_dmar[d] < 0) {
        why_set(why, "the device's remapping unit was not brought up");
        return NULL;
    }
    return &recs[by_dmar[d]];
}

struct vtd_unit *vtd_setup_unit_peek(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
                                     struct why *why)
{
    struct setup_unit *r = record_for(seg, bus, dev, fn, why);
    return r ? &r->unit : NULL;
}

bool vtd_setup_is_foreign(const struct vtd_unit *u, uint16_t sid)
{
    const struct setup_unit *r = record_of(u);
    return r && bit(r->foreign, sid);
}

bool vtd_setup_has_foreign_entry(const struct vtd_unit *u, uint16_t sid)
{
    const struct setup_unit *r = record_of(u);
    return r && bit(r->foreign, sid) && bit(r->has_entry, sid);
}

/* A device under test shares each alias with the other functions behind
 * the same bridge: one context entry, so their DMA follows the device's
 * entries from now on.  Said once per device taken. */
static void report_shared_aliases(struct vtd_unit *u, uint16_t sid)
{
    uint16_t al[VTD_ALIAS_MAX_PER_SID], other[4];
    char a[8], b[8], o[8];
    unsigned n = vtd_aliases_of(u, sid, al, VTD_ALIAS_MAX_PER_SID);
    for (unsigned i = 0; i < n; i++) {
        unsigned m = vtd_alias_sharers(u, al[i], sid, other, 4);
        for (unsigned k = 0; k < m; k++)
            ktap_diag("vtd: unit=%d %s shares its DMA alias %s with %s: that device's DMA "
                      "follows the entries of the device under test",
                      u->index, vtd_sid_str(sid, a), vtd_sid_str(al[i], b),
                      vtd_sid_str(other[k], o));
    }
}

struct vtd_unit *vtd_setup_unit_for(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
                                    struct why *why)
{
    struct setup_unit *r = record_for(seg, bus, dev, fn, why);
    if (!r)
        return NULL;
    struct vtd_unit *u = &r->unit;
    uint16_t sid = vtd_sid(bus, dev, fn);
    char b[8];
    if (u->te_hold[0]) {
        /* A device the list in under_test() missed: the unit now has a
         * device under test, unless it is the graphics unit. */
        if (!vtd_release_te(u)) {
            why_set(why, "the device is behind the graphics unit, whose translation vtdsync "
                         "leaves alone (see the # vtd: lines)");
            return NULL;
        }
        ktap_diag("vtd: unit=%d now has a device under test (%s): translation may be switched",
                  u->index, vtd_sid_str(sid, b));
    }
    if (!bit(r->foreign, sid))
        return u;
    report_shared_aliases(u, sid);
    if (!bit(r->has_entry, sid)) {
        set_bit(r->foreign, sid, false);
        return u; /* blocked already: nothing to undo */
    }
    /* The suite takes the device: give it back the state every suite
     * starts from, not attached (scalable) or blocked (legacy).  Taking
     * the context entry away, not just rewriting the PASID entry, is what
     * a unit that keeps a per-context pass-through fast path (QEMU 10.0.2)
     * needs to translate the device again. */
    bool ok;
    if (u->mode == VTD_MODE_SCALABLE) {
        uint16_t did = r->rmrr_domain_ok && !u->caps.pt ? r->rmrr_domain.did : r->foreign_did;
        ok = !vtd_detach_scalable(u, sid, did);
    } else {
        struct legacy_context_entry ce;
        legacy_context_build_blocked(&ce);
        ok = vtd_context_write(u, sid, &ce, ENTRY_SYNC_STRATEGY_HITLESS).ok;
    }
    if (!ok) {
        why_set(why, "could not take the device back from its foreign entry");
        return NULL;
    }
    set_bit(r->foreign, sid, false);
    set_bit(r->has_entry, sid, false);
    return u;
}

bool vtd_setup_give_back(struct vtd_unit *u, uint16_t sid, bool had_entry)
{
    struct setup_unit *r = record_of(u);
    if (!r || !r->foreign)
        return false;
    if (had_entry && !install_foreign(r, sid, !u->caps.pt))
        return false;
    set_bit(r->foreign, sid, true);
    if (had_entry)
        set_bit(r->has_entry, sid, true);
    return true;
}

/* Does sid still hold the foreign entry r's unit gave it?  Checked by
 * meaning, not bytes: present, the foreign domain id, and pass-through or
 * (no ECAP.PT) a translation through the RMRR identity table. */
static bool foreign_entry_live(struct setup_unit *r, uint16_t sid)
{
    struct vtd_unit *u = &r->unit;
    bool identity = !u->caps.pt;
    uint16_t did = identity ? r->rmrr_domain.did : r->foreign_did;
    uint64_t root = identity ? pgtable_root(&r->rmrr_domain.pt) : 0;
    if (u->mode == VTD_MODE_SCALABLE) {
        volatile struct pasid_entry *pe = vtd_pasid_entry(u, sid, vtd_rid_pasid(u, sid), false);
        if (!pe)
            return false;
        struct pasid_entry e;
        for (unsigned q = 0; q < PASID_ENTRY_QWORDS; q++)
            e.q[q] = pe->q[q];
        enum pasid_pgtt t = pasid_entry_pgtt(&e);
        uint64_t ptr = pasid_entry_get(&e, t == PASID_PGTT_FS ? PASID_FSPTPTR : PASID_SSPTPTR);
        return pasid_entry_present(&e) && pasid_entry_get(&e, PASID_DID) == did &&
               (identity ? (t == PASID_PGTT_SS || t == PASID_PGTT_FS) && ptr == root
                         : t == PASID_PGTT_PT);
    }
    volatile struct legacy_context_entry *ce = vtd_legacy_context(u, sid, false);
    if (!ce)
        return false;
    uint64_t q0 = ce->q[0], q1 = ce->q[1];
    uint64_t tt = (q0 & LEGACY_CTX_TT_MASK) >> LEGACY_CTX_TT_SHIFT;
    return (q0 & LEGACY_CTX_P) && (q1 & LEGACY_CTX_DID_MASK) >> LEGACY_CTX_DID_SHIFT == did &&
           (identity ? tt == LEGACY_TT_UNTRANSLATED && (q0 & LEGACY_CTX_SLPTPTR) == root
                     : tt == LEGACY_TT_PASS_THROUGH);
}

unsigned vtd_setup_foreign_lost(unsigned *checked, char *first, size_t len)
{
    unsigned lost = 0;
    char b[8];
    *checked = 0;
    first[0] = 0;
    for (unsigned i = 0; i < nup; i++) {
        struct setup_unit *r = &recs[i];
        for (unsigned sid = 0; r->has_entry && sid < 65536; sid++) {
            if (!bit(r->foreign, (uint16_t)sid) || !bit(r->has_entry, (uint16_t)sid))
                continue;
            ++*checked;
            if (foreign_entry_live(r, (uint16_t)sid))
                continue;
            if (!lost++)
                ksnprintf(first, len, "unit=%d %s", r->unit.index, vtd_sid_str((uint16_t)sid, b));
        }
    }
    return lost;
}

unsigned vtd_setup_foreign_faults_since(const struct vtd_unit *u, uint32_t mark)
{
    unsigned n = 0;
    for (unsigned i = 0; i < pci_count(); i++) {
        const struct pci_dev *d = pci_get(i);
        uint16_t sid = vtd_sid(d->bus, d->dev, d->fn);
        if (d->seg == u->segment && vtd_setup_is_foreign(u, sid))
            n += vtd_faults_since(mark, sid, NULL, 0);
    }
    return n;
}
