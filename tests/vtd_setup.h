/* Bringing the VT-d units up once per run, for every suite that needs them.
 *
 * vtd_setup() takes the units the DMAR lists (platform.dmar), brings each
 * usable one up in the mode cfg.mode asks for, and copies cfg.trace and
 * cfg.quirk into vtd_options.  Later calls return the same result. */
#ifndef TESTS_VTD_SETUP_H
#define TESTS_VTD_SETUP_H

#include <stdint.h>

#include "iommu/vtd.h"

/* Number of units up; 0 with *why set (a precise skip reason) when none. */
unsigned vtd_setup(const char **why);
/* The unit that translates seg:bus:dev.fn, or NULL (reason in *why). */
struct vtd_unit *vtd_setup_unit_for(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
                                    const char **why);

#endif
