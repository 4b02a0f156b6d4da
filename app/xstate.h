/* The catalogue of translation states a device's entry can hold.
 *
 * One enum for every suite that switches a device: its RID_PASID entry in
 * scalable mode, its context entry in legacy mode.  Per state the
 * catalogue knows its name (as the KTAP case names print it), what it
 * asks of the unit (with the precise reason when the unit cannot give
 * it), and how its entry is built from the domain the caller supplies.
 * struct xs_set holds one device's states with their domains, for the
 * suites that keep a whole matrix (transitions, traffic). */
#ifndef APP_XSTATE_H
#define APP_XSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/context_entry.h"
#include "iommu/domain.h"
#include "iommu/entry_sync.h"
#include "iommu/pasid_entry.h"
#include "iommu/pasid_write.h"

struct vtd_unit;

/* SS-A/SS-B and FS-A/FS-B: two domains of each stage; SS-A+FPD and
 * FS-A+FPD: SS-A and FS-A with fault reporting disabled (VT-d 9.3, 9.6). */
enum xstate {
    XS_BLOCKED,
    XS_PT,
    XS_SS_A,
    XS_SS_B,
    XS_FS_A,
    XS_FS_B,
    XS_NESTED,
    XS_SS_A_FPD,
    XS_FS_A_FPD,
    XS_COUNT
};

/* The domains of a set: SS-A, SS-B, FS-A, FS-B (xs_domain_of). */
#define XS_DOMAINS 4

/* "blocked", "PT", "SS-A", ... ("?" out of range). */
const char *xs_name(int s);
/* The translation type: "blocked", "PT", "SS", "FS", "nested" (FPD and
 * the A/B domain left out), and the same in lower case ("ss"). */
const char *xs_kind(enum xstate s);
const char *xs_kind_lower(enum xstate s);
/* The slot (0..XS_DOMAINS-1) of the domain s translates through; -1 for
 * blocked, PT and nested.  The FPD states use their base's domain. */
int xs_domain_of(enum xstate s);
/* The page-table format of s's domain (meaningful when xs_domain_of >= 0). */
enum pgtable_format xs_format(enum xstate s);
/* Whether s sets FPD (its faults are not reported). */
bool xs_fpd(enum xstate s);

/* NULL when unit u (in its mode and with its capabilities) can hold s;
 * else the precise reason it cannot, for a skip. */
const char *xs_requirement(const struct vtd_unit *u, enum xstate s);

/* One entry: a PASID entry (scalable mode) or a context entry (legacy). */
struct xs_entry {
    bool legacy;
    union {
        struct pasid_entry pe;
        struct legacy_context_entry ce;
    };
};

/* Build s's entry for unit u in u's mode.  dom: the domain a translating
 * state uses (its format must be xs_format(s)); pt_did: the domain id a
 * pass-through entry carries.  Nested has no builder yet: false. */
bool xs_build(enum xstate s, const struct vtd_unit *u, const struct vtd_domain *dom,
              uint16_t pt_did, struct xs_entry *e);
/* Whether entry e has FPD set. */
bool xs_entry_fpd(const struct xs_entry *e);
/* Write e as sid's entry (its RID_PASID entry in scalable mode, which
 * must be attached: vtd_attach_scalable). */
struct vtd_write_result xs_write(struct vtd_unit *u, uint16_t sid, const struct xs_entry *e,
                                 enum entry_sync_strategy strategy);

/* One device's states: the domains the wanted states translate through,
 * each state's entry, and for each unsupported state why. */
struct xs_set {
    struct vtd_unit *u;
    uint16_t sid;
    bool legacy;
    uint16_t pt_did;
    struct vtd_domain dom[XS_DOMAINS];
    bool dom_ok[XS_DOMAINS];
    bool supported[XS_COUNT];
    const char *why[XS_COUNT];
    struct xs_entry entry[XS_COUNT];
};

/* XS_BIT(s): a state in a `want` mask; XS_ALL: every state. */
#define XS_BIT(s) (1u << (s))
#define XS_ALL ((1u << XS_COUNT) - 1)

/* Fill x for device sid on unit u: every state of `want` the unit can
 * hold gets its domain (a fresh, empty one) and entry; the others, and
 * the states not wanted, are unsupported with their reason. */
void xs_set_build(struct xs_set *x, struct vtd_unit *u, uint16_t sid, unsigned want);
/* Mark every state but blocked unsupported, for one reason (the device
 * cannot be switched at all). */
void xs_set_none(struct xs_set *x, const char *why);
/* Move the device's entry to state s (which must be supported). */
struct vtd_write_result xs_set_switch(const struct xs_set *x, enum xstate s,
                                      enum entry_sync_strategy strategy);

#endif
