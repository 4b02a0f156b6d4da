/* Field tables: for each field its absolute bit range and the entry kinds
 * ("modes") that make the IOMMU read it. */
#include "tests/host/model_rules.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

enum {
    M_FS = 1 << 0,
    M_SS = 1 << 1,
    M_NESTED = 1 << 2,
    M_PT = 1 << 3,
    M_ALL = M_FS | M_SS | M_NESTED | M_PT,
    M_NP = 1 << 4, /* not present (P = 0), any other field */
};

struct model_field {
    unsigned lo, hi; /* absolute bit numbers within the entry */
    unsigned ours;   /* modes using it, our reading of the spec */
    unsigned series; /* modes using it, the Linux series */
};

static const struct model_field pasid_fields[] = {
    {0, 0, M_ALL | M_NP, M_ALL | M_NP},           /* P */
    {1, 1, M_ALL | M_NP, M_SS | M_NESTED | M_PT}, /* FPD */
    {2, 4, M_ALL, M_ALL},                         /* AW */
    {6, 8, M_ALL, M_ALL},                         /* PGTT */
    {9, 9, M_SS | M_NESTED, M_SS | M_NESTED},     /* SSADE */
    {12, 63, M_SS | M_NESTED, M_SS | M_NESTED},   /* SSPTPTR */
    {64, 79, M_ALL, M_ALL},                       /* DID */
    {87, 87, M_ALL, M_ALL},                       /* PWSNP */
    {88, 88, M_ALL, M_FS | M_NESTED},             /* PGSNP */
    {128, 128, M_FS | M_NESTED, M_NESTED},        /* SRE */
    {130, 131, M_FS | M_NESTED, M_FS | M_NESTED}, /* FSPM */
    {132, 132, M_FS | M_NESTED, M_NESTED},        /* WPE */
    {135, 135, M_FS | M_NESTED, M_NESTED},        /* EAFE */
    {140, 191, M_FS | M_NESTED, M_FS | M_NESTED}, /* FSPTPTR */
};

static void set_bit_range(uint64_t *q, unsigned lo, unsigned hi)
{
    for (unsigned b = lo; b <= hi; b++)
        q[b / 64] |= 1ULL << (b % 64);
}

static unsigned pasid_mode(const uint64_t *e)
{
    if (!(e[0] & 1))
        return M_NP;
    switch ((e[0] >> 6) & 7) {
    case 1:
        return M_FS;
    case 2:
        return M_SS;
    case 3:
        return M_NESTED;
    case 4:
        return M_PT;
    }
    return 0;
}

static void pasid_used_by(const uint64_t *e, uint64_t *u, bool series)
{
    unsigned mode = pasid_mode(e);

    memset(u, 0, 8 * sizeof(uint64_t));
    if (!mode) { /* reserved PGTT: anything may matter */
        memset(u, 0xff, 8 * sizeof(uint64_t));
        return;
    }
    for (size_t i = 0; i < sizeof(pasid_fields) / sizeof(pasid_fields[0]); i++) {
        const struct model_field *f = &pasid_fields[i];
        if ((series ? f->series : f->ours) & mode)
            set_bit_range(u, f->lo, f->hi);
    }
}

void model_pasid_used(const uint64_t *entry, uint64_t *used)
{
    pasid_used_by(entry, used, false);
}

void model_pasid_used_series(const uint64_t *entry, uint64_t *used)
{
    pasid_used_by(entry, used, true);
}

void model_sm_context_used(const uint64_t *e, uint64_t *u)
{
    memset(u, 0, 4 * sizeof(uint64_t));
    set_bit_range(u, 0, 1); /* P, and FPD whatever P says */
    if (!(e[0] & 1))
        return;
    set_bit_range(u, 2, 4);   /* DTE, PASIDE, PRE */
    set_bit_range(u, 9, 63);  /* PDTS, PASIDDIRPTR */
    set_bit_range(u, 64, 84); /* RID_PASID, RID_PRIV */
}

void model_legacy_context_used(const uint64_t *e, uint64_t *u)
{
    memset(u, 0, 2 * sizeof(uint64_t));
    set_bit_range(u, 0, 1); /* P, and FPD whatever P says */
    if (!(e[0] & 1))
        return;
    set_bit_range(u, 2, 3);   /* TT */
    set_bit_range(u, 64, 66); /* AW */
    set_bit_range(u, 72, 87); /* DID */
    if (((e[0] >> 2) & 3) != 2)
        set_bit_range(u, 12, 63); /* SLPTPTR unless pass-through */
}

void model_window_fpd_or(const uint64_t *start, const uint64_t *target, uint64_t *w)
{
    memset(w, 0, 8 * sizeof(uint64_t));
    w[0] = (start[0] | target[0]) & 2;
}

const struct model_rules model_pasid_rules = {model_pasid_used, model_window_fpd_or};
const struct model_rules model_pasid_series_rules = {model_pasid_used_series, NULL};
const struct model_rules model_sm_context_rules = {model_sm_context_used, model_window_fpd_or};
const struct model_rules model_legacy_context_rules = {model_legacy_context_used,
                                                       model_window_fpd_or};
