/* Bringing the VT-d units up once per run, for every suite that needs them.
 *
 * vtd_setup() takes the units the DMAR lists (platform.dmar), brings each
 * usable one up in the mode cfg.mode asks for, and copies cfg.trace and
 * cfg.quirk into vtd_options.  Later calls return the same result. */
#ifndef APP_VTD_SETUP_H
#define APP_VTD_SETUP_H

#include <stdbool.h>
#include <stdint.h>

#include "iommu/vtd.h"

/* Number of units up; 0 with why set (a precise skip reason) when none. */
unsigned vtd_setup(struct why *why);
/* A remapping unit the firmware lists that cannot be brought up fails the
 * run, once, and never turns it into a pass made of skips.  This is true,
 * with the sentence in why, for the one case or suite that reports it;
 * false when every unit came up or the failure was reported already. */
bool vtd_setup_claim_failure(struct why *why);
/* For a suite that cannot run (why): the first one after a bring-up failure
 * fails with it; the others, and every suite when all units came up, skip. */
void vtd_suite_unavailable(const char *suite, const char *why);
/* The unit that translates seg:bus:dev.fn, or NULL (reason in why).  The
 * caller takes the device for its tests: if it still held its foreign
 * entry (see below), that entry is removed, so the device starts as every
 * suite expects: blocked, and in scalable mode not attached. */
struct vtd_unit *vtd_setup_unit_for(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
                                    struct why *why);

/* For a caller that only borrowed a function vtd_setup_unit_for took while
 * it was foreign, and left it as taken (detached, or blocked in legacy
 * mode): it is foreign again, with its foreign entry back when it held one
 * (had_entry: vtd_setup_has_foreign_entry before the take).  False when
 * the entry could not be written (the function stays taken). */
bool vtd_setup_give_back(struct vtd_unit *u, uint16_t sid, bool had_entry);

/* The same without taking the device. */
struct vtd_unit *vtd_setup_unit_peek(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
                                     struct why *why);
/* A function the unit translates is foreign until a suite takes it.
 * Before translation is first enabled, vtd_setup gives each a "foreign"
 * entry: pass-through (ECAP.PT), else an identity mapping of its RMRRs
 * (none without an RMRR: it stays blocked). */
bool vtd_setup_is_foreign(const struct vtd_unit *u, uint16_t sid);
/* True while sid is foreign and holds its foreign entry. */
bool vtd_setup_has_foreign_entry(const struct vtd_unit *u, uint16_t sid);
/* Of the foreign functions that got a foreign entry (on every unit; their
 * number in *checked), how many no longer hold it in the live tables; the
 * first such is named in first ("unit=N bb:dd.f"). */
unsigned vtd_setup_foreign_lost(unsigned *checked, char *first, size_t len);
/* Faults since `mark` (vtd_fault_seq) from the devices of u that still
 * hold their foreign entry: reported, never a suite's own failure. */
unsigned vtd_setup_foreign_faults_since(const struct vtd_unit *u, uint32_t mark);

#endif
