/* One bring-up of the VT-d units per run (see vtd_setup.h). */
#include "tests/vtd_setup.h"

#include "iommu/vtd_hw.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/printf.h"
#include "tests/platform.h"
#include "tests/run.h"

static struct vtd_unit units[VTD_MAX_UNITS];
static int dmar_index[VTD_MAX_UNITS]; /* units[i] is platform.dmar.units[dmar_index[i]] */
static bool done;
static const char *setup_why;
static char why_buf[160];

static enum vtd_mode_request wanted_mode(void)
{
    if (!strcmp(cfg.mode, "legacy"))
        return VTD_WANT_LEGACY;
    if (!strcmp(cfg.mode, "scalable"))
        return VTD_WANT_SCALABLE;
    return VTD_WANT_AUTO;
}

static void set_options(void)
{
    vtd_options.trace = cfg.trace;
    vtd_options.pt_ctx_flush = config_list_has(cfg.quirk, "pt_ctx_flush");
    vtd_options.window_us = cfg.window_us;
}

unsigned vtd_setup(const char **why)
{
    if (done) {
        *why = setup_why;
        return vtd_nunits;
    }
    done = true;
    set_options();
    setup_why = platform_iommu_skip_reason();
    if (setup_why) {
        *why = setup_why;
        return 0;
    }
    char reason[160];
    for (unsigned i = 0; i < platform.dmar.nunits && vtd_nunits < VTD_MAX_UNITS; i++) {
        const struct dmar_unit *du = &platform.dmar.units[i];
        if (!du->usable) {
            ktap_diag("vtd: DMAR unit %u at %#llx not usable (corrupt DRHD): left alone", i,
                      (unsigned long long)du->reg_base);
            continue;
        }
        unsigned idx = vtd_nunits;
        if (vtd_hw_unit_init(&units[idx], (int)idx, du->reg_base, du->reg_size, du->segment,
                             wanted_mode(), reason, sizeof(reason))) {
            ktap_diag("vtd: unit at %#llx not brought up: %s", (unsigned long long)du->reg_base,
                      reason);
            ksnprintf(why_buf, sizeof(why_buf), "%s", reason);
            continue;
        }
        dmar_index[idx] = (int)i;
    }
    if (!vtd_nunits)
        setup_why = why_buf[0] ? why_buf : "no remapping unit could be brought up";
    *why = setup_why;
    return vtd_nunits;
}

struct vtd_unit *vtd_setup_unit_for(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
                                    const char **why)
{
    if (!vtd_setup(why))
        return NULL;
    int d = dmar_unit_for_device(&platform.dmar, seg, bus, dev, fn);
    if (d < 0) {
        *why = "no DMAR unit covers the device (not in any device scope)";
        return NULL;
    }
    for (unsigned i = 0; i < vtd_nunits; i++)
        if (dmar_index[i] == d)
            return vtd_units[i];
    *why = "the device's remapping unit was not brought up";
    return NULL;
}
