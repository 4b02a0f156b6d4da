/* The recording, enumerating model IOMMU (see model_iommu.h). */
#include "tests/host/model_iommu.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static unsigned qwords(const struct model_iommu *m)
{
    return (unsigned)m->fmt->nr_chunks * m->fmt->chunk_qwords;
}

static void note(struct model_iommu *m, const char *fmt, ...)
{
    va_list ap;

    if (m->first_problem[0])
        return;
    va_start(ap, fmt);
    vsnprintf(m->first_problem, sizeof(m->first_problem), fmt, ap);
    va_end(ap);
}

static void hex_entry(const struct model_iommu *m, const uint64_t *q, char *buf, size_t size)
{
    size_t at = 0;

    for (unsigned i = 0; i < qwords(m) && i < 4 && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%016llx", i ? ":" : "",
                               (unsigned long long)q[i]);
}

/* Only the current value of each chunk is visible. */
static void collapse(struct model_iommu *m)
{
    unsigned cq = m->fmt->chunk_qwords;

    for (unsigned c = 0; c < m->fmt->nr_chunks; c++) {
        memcpy(m->versions[c][0], &m->mem[c * cq], cq * sizeof(uint64_t));
        m->nr_versions[c] = 1;
    }
    memcpy(m->at_sync, m->mem, qwords(m) * sizeof(uint64_t));
    memcpy(m->snaps[0], m->mem, qwords(m) * sizeof(uint64_t));
    m->nr_snaps = 1;
}

static void add_snapshot(struct model_iommu *m)
{
    if (m->nr_snaps == MODEL_MAX_SNAPS) {
        note(m, "model: too many stores between two syncs");
        m->violations++;
        return;
    }
    memcpy(m->snaps[m->nr_snaps++], m->mem, qwords(m) * sizeof(uint64_t));
}

/* The rereads reader (model_iommu.h): no bit an earlier entry uses may
 * change in a later one that does not use it, within one sync interval.
 * In a breaking update that holds where the window goes up (the old entry
 * to the non-present window); later steps change what a non-present
 * entry ignores. */
static void judge_rereads(struct model_iommu *m)
{
    if (!m->opts.rereads)
        return;
    for (unsigned i = 0; i < m->nr_snaps; i++) {
        uint64_t ui[ENTRY_SYNC_MAX_QWORDS] = {0};
        m->rules->used(m->snaps[i], ui);
        for (unsigned j = i + 1; j < m->nr_snaps; j++) {
            uint64_t uj[ENTRY_SYNC_MAX_QWORDS] = {0};
            m->rules->used(m->snaps[j], uj);
            for (unsigned q = 0; q < qwords(m); q++) {
                uint64_t lost = (m->snaps[i][q] ^ m->snaps[j][q]) & ui[q] & ~uj[q];
                if (!lost)
                    continue;
                m->violations++;
                m->reread_violations++;
                note(m, "a rereading reader can pair entry %u's type with entry %u's qword %u "
                        "(bits %#llx only the earlier entry uses changed), after %u syncs",
                     i, j, q, (unsigned long long)lost, m->syncs);
                break;
            }
        }
    }
}

/* The chunk's current memory value becomes one more value a reader may see. */
static void add_version(struct model_iommu *m, unsigned c)
{
    unsigned cq = m->fmt->chunk_qwords;
    const uint64_t *now = &m->mem[c * cq];

    for (unsigned v = 0; v < m->nr_versions[c]; v++) {
        if (!memcmp(m->versions[c][v], now, cq * sizeof(uint64_t)))
            return;
    }
    if (m->nr_versions[c] == MODEL_MAX_VERSIONS) {
        note(m, "model: too many versions of chunk %u", c);
        m->violations++;
        return;
    }
    memcpy(m->versions[c][m->nr_versions[c]++], now, cq * sizeof(uint64_t));
}

void model_init(struct model_iommu *m, const struct entry_format *fmt,
                const struct model_rules *rules, const uint64_t *start, const uint64_t *target,
                bool allow_non_present, struct model_opts opts)
{
    memset(m, 0, sizeof(*m));
    m->fmt = fmt;
    m->rules = rules;
    m->opts = opts;
    m->start = start;
    m->target = target;
    if (rules->window)
        rules->window(start, target, m->window);
    m->allow_non_present = allow_non_present;
    memcpy(m->mem, start, qwords(m) * sizeof(uint64_t));
    collapse(m);
}

static bool equal_in(const uint64_t *a, const uint64_t *b, const uint64_t *mask, unsigned n)
{
    for (unsigned q = 0; q < n; q++) {
        if ((a[q] ^ b[q]) & mask[q])
            return false;
    }
    return true;
}

static void judge(struct model_iommu *m, const uint64_t *seen)
{
    uint64_t u[ENTRY_SYNC_MAX_QWORDS] = {0};
    unsigned n = qwords(m);
    char a[80], s[80], t[80];

    m->combos++;
    m->rules->used(seen, u);
    if (equal_in(seen, m->start, u, n) || equal_in(seen, m->target, u, n))
        return;
    if (!entry_sync_is_present(m->fmt, seen)) {
        m->non_present_seen++;
        if (!m->allow_non_present) {
            note(m, "non-present entry visible in a hitless update (after %u syncs)", m->syncs);
            m->violations++;
            return;
        }
        /* The window is read too: it decides whether its faults are
         * reported, so it must be the one the rules ask for. */
        if (equal_in(seen, m->window, u, n))
            return;
        m->violations++;
        m->wrong_window++;
        hex_entry(m, seen, a, sizeof(a));
        hex_entry(m, m->window, t, sizeof(t));
        note(m, "non-present window %s after %u syncs, the rules want %s in its used bits", a,
             m->syncs, t);
        return;
    }
    m->violations++;
    hex_entry(m, seen, a, sizeof(a));
    hex_entry(m, m->start, s, sizeof(s));
    hex_entry(m, m->target, t, sizeof(t));
    note(m, "mixed entry %s after %u syncs (start %s, target %s)", a, m->syncs, s, t);
}

/* Every entry a reader can assemble from the visible chunk versions. */
static void enumerate(struct model_iommu *m, unsigned chunk, uint64_t *assembled)
{
    unsigned cq = m->fmt->chunk_qwords;

    if (chunk == m->fmt->nr_chunks) {
        judge(m, assembled);
        return;
    }
    for (unsigned v = 0; v < m->nr_versions[chunk]; v++) {
        memcpy(&assembled[chunk * cq], m->versions[chunk][v], cq * sizeof(uint64_t));
        enumerate(m, chunk + 1, assembled);
    }
}

static void judge_all_visible(struct model_iommu *m)
{
    uint64_t assembled[ENTRY_SYNC_MAX_QWORDS] = {0};

    enumerate(m, 0, assembled);
}

static void model_write_chunk(void *ctx, volatile uint64_t *entry, unsigned index,
                              const uint64_t *value)
{
    struct model_iommu *m = ctx;
    unsigned cq = m->fmt->chunk_qwords;

    if (entry != m->mem || index >= m->fmt->nr_chunks) {
        m->wrong_address++;
        note(m, "store to chunk %u of a wrong entry", index);
        return;
    }
    m->stores++;
    for (unsigned h = 0; h < cq; h++) {
        m->mem[index * cq + h] = value[h];
        if (m->opts.torn_64)
            add_version(m, index); /* each half visible on its own */
    }
    add_version(m, index);
    add_snapshot(m);
    if (index == m->fmt->present_qword / cq && !entry_sync_is_present(m->fmt, m->mem)) {
        m->window_stores++;
        m->window_q0 = m->mem[m->fmt->present_qword];
    }
}

static void model_sync(void *ctx, const struct entry_sync_point *p)
{
    struct model_iommu *m = ctx;
    size_t bytes = qwords(m) * sizeof(uint64_t);

    if (++m->sync_calls == m->opts.drop_sync)
        return;
    if (memcmp(p->cached, m->at_sync, bytes) || memcmp(p->now, m->mem, bytes) ||
        p->cached_present != entry_sync_is_present(m->fmt, m->at_sync) ||
        p->now_present != entry_sync_is_present(m->fmt, m->mem) || p->sync_index != m->sync_calls) {
        m->bad_sync_points++;
        note(m, "sync %u was told a wrong cached/now entry", m->sync_calls);
    }
    judge_all_visible(m);
    judge_rereads(m);
    collapse(m);
    m->syncs++;
}

struct entry_sync_ops model_ops(struct model_iommu *m)
{
    return (struct entry_sync_ops){
        .ctx = m,
        .write_chunk = model_write_chunk,
        .sync = model_sync,
        .reader_rereads = m->opts.rereads,
    };
}

void model_finish(struct model_iommu *m)
{
    size_t bytes = qwords(m) * sizeof(uint64_t);

    judge_all_visible(m);
    judge_rereads(m);
    if (memcmp(m->mem, m->at_sync, bytes)) {
        m->unsynced_at_end = true;
        note(m, "update returned with stores not followed by a sync");
    }
    if (memcmp(m->mem, m->target, bytes)) {
        m->final_mismatch = true;
        note(m, "memory differs from the target at the end");
    }
}

bool model_clean(const struct model_iommu *m)
{
    return !m->violations && !m->bad_sync_points && !m->wrong_address && !m->unsynced_at_end &&
           !m->final_mismatch;
}
