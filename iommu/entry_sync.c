/* entry_sync: hitless (or minimally breaking) updates of multi-chunk entries.
 * The algorithm is described in entry_sync.h and the design note. */
#include "iommu/entry_sync.h"

#include "lib/kstring.h"
#include "lib/printf.h"

/* One update in progress: the entry as this CPU last wrote it (`mem`) and
 * as it stood at the last sync (`at_sync`). */
struct sync_run {
    const struct entry_format *fmt;
    const struct entry_sync_ops *ops;
    volatile uint64_t *entry;
    uint64_t mem[ENTRY_SYNC_MAX_QWORDS];
    uint64_t at_sync[ENTRY_SYNC_MAX_QWORDS];
    struct entry_sync_result res;
};

static unsigned entry_qwords(const struct entry_format *fmt)
{
    return (unsigned)fmt->nr_chunks * fmt->chunk_qwords;
}

static unsigned present_chunk(const struct entry_format *fmt)
{
    return fmt->present_qword / fmt->chunk_qwords;
}

bool entry_sync_is_present(const struct entry_format *fmt, const uint64_t *entry)
{
    return (entry[fmt->present_qword] & fmt->present_mask) != 0;
}

const char *entry_sync_class_name(enum entry_sync_class cls)
{
    switch (cls) {
    case ENTRY_SYNC_NONE:
        return "none";
    case ENTRY_SYNC_HITLESS:
        return "hitless";
    case ENTRY_SYNC_BREAKING:
        return "breaking";
    }
    return "?";
}

const char *entry_sync_strategy_name(enum entry_sync_strategy s)
{
    return s == ENTRY_SYNC_STRATEGY_CLEAR ? "clear" : "entry_sync";
}

/* ---- tracing ----------------------------------------------------------- */

static void trace(const struct sync_run *run, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void trace(const struct sync_run *run, const char *fmt, ...)
{
    char line[256];
    va_list ap;

    va_start(ap, fmt);
    kvsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (run->ops->trace)
        run->ops->trace(run->ops->ctx, line);
    else
        kprintf("%s\n", line);
}

/* Format qwords as "q0:q1 q2:q3 ..." (one group per chunk, low qword first). */
static void format_qwords(const struct entry_format *fmt, const uint64_t *q, char *buf, size_t size)
{
    size_t at = 0;

    buf[0] = '\0';
    for (unsigned i = 0; i < entry_qwords(fmt) && at < size; i++) {
        const char *sep = i == 0 ? "" : (i % fmt->chunk_qwords ? ":" : " ");
        at += (size_t)ksnprintf(buf + at, size - at, "%s%016llx", sep, (unsigned long long)q[i]);
    }
}

static void trace_entry(const struct sync_run *run, const char *what, const uint64_t *q)
{
    char buf[ENTRY_SYNC_MAX_QWORDS * 18 + 1];

    if (!run->ops->tracing)
        return;
    format_qwords(run->fmt, q, buf, sizeof(buf));
    trace(run, "# entry_sync %s %s: %s", run->fmt->name, what, buf);
}

/* ---- stores and syncs --------------------------------------------------- */

static unsigned all_chunks(const struct entry_format *fmt)
{
    return (1u << fmt->nr_chunks) - 1;
}

static uint64_t *chunk_of(const struct entry_format *fmt, uint64_t *q, unsigned chunk)
{
    return q + (size_t)chunk * fmt->chunk_qwords;
}

static bool chunk_differs(const struct sync_run *run, unsigned chunk, const uint64_t *value)
{
    const uint64_t *now = run->mem + (size_t)chunk * run->fmt->chunk_qwords;

    return memcmp(now, value, run->fmt->chunk_qwords * sizeof(uint64_t)) != 0;
}

/* Store one chunk if it changes anything; returns whether it stored. */
static bool store_chunk(struct sync_run *run, unsigned chunk, const uint64_t *value)
{
    const struct entry_format *fmt = run->fmt;

    if (!chunk_differs(run, chunk, value))
        return false;
    if (run->ops->tracing)
        trace(run, "# entry_sync %s store chunk %u: %016llx%s%016llx", fmt->name, chunk,
              (unsigned long long)value[0], fmt->chunk_qwords == 2 ? ":" : "",
              fmt->chunk_qwords == 2 ? (unsigned long long)value[1] : 0ULL);
    memcpy(chunk_of(fmt, run->mem, chunk), value, fmt->chunk_qwords * sizeof(uint64_t));
    run->ops->write_chunk(run->ops->ctx, run->entry, chunk, value);
    run->res.chunks_written++;
    return true;
}

static void sync_now(struct sync_run *run)
{
    const struct entry_format *fmt = run->fmt;
    struct entry_sync_point p = {
        .cached = run->at_sync,
        .now = run->mem,
        .cached_present = entry_sync_is_present(fmt, run->at_sync),
        .now_present = entry_sync_is_present(fmt, run->mem),
        .sync_index = (uint8_t)(run->res.syncs + 1),
        .cls = run->res.cls,
    };

    if (run->ops->tracing)
        trace(run, "# entry_sync %s sync %u (%s -> %s)", fmt->name, p.sync_index,
              p.cached_present ? "present" : "non-present",
              p.now_present ? "present" : "non-present");
    run->ops->sync(run->ops->ctx, &p);
    run->res.syncs++;
    memcpy(run->at_sync, run->mem, entry_qwords(fmt) * sizeof(uint64_t));
}

/* Store values' chunk i for each chunk i in `which`; returns whether any
 * store happened. */
static bool store_chunks(struct sync_run *run, const uint64_t *values, unsigned which)
{
    bool stored = false;

    for (unsigned i = 0; i < run->fmt->nr_chunks; i++) {
        if (which & (1u << i))
            stored |= store_chunk(run, i, values + (size_t)i * run->fmt->chunk_qwords);
    }
    return stored;
}

/* One step of an update: the stores, then a sync, unless nothing changed,
 * in which case the whole step (and its sync) is skipped. */
static void step(struct sync_run *run, const uint64_t *values, unsigned which)
{
    if (!store_chunks(run, values, which))
        return;
    sync_now(run);
}

/* ---- classification ----------------------------------------------------- */

/* Per qword: the value the entry reaches by writing early every bit that the
 * current entry ignores (or that update_safe() allows), leaving every bit it
 * uses alone. */
static void unused_update(const struct entry_format *fmt, const uint64_t *cur, const uint64_t *tgt,
                          const uint64_t *cur_used, uint64_t *out)
{
    uint64_t safe[ENTRY_SYNC_MAX_QWORDS] = {0};

    if (fmt->update_safe)
        fmt->update_safe(cur, tgt, safe);
    for (unsigned q = 0; q < entry_qwords(fmt); q++) {
        uint64_t keep = cur_used[q] & ~safe[q];
        out[q] = (cur[q] & keep) | (tgt[q] & ~keep);
    }
}

/* Chunks (among `which`) where a and b differ in bits selected by mask. */
static unsigned chunks_differing(const struct entry_format *fmt, const uint64_t *a,
                                 const uint64_t *b, const uint64_t *mask, unsigned which)
{
    unsigned out = 0;

    for (unsigned q = 0; q < entry_qwords(fmt); q++) {
        unsigned chunk = q / fmt->chunk_qwords;
        if ((which & (1u << chunk)) && ((a[q] ^ b[q]) & mask[q]))
            out |= 1u << chunk;
    }
    return out;
}

/* A chunk is critical when, after the early writes, it still differs from
 * the target in a bit the target uses: it can only be fixed by a store that
 * changes a bit both entries use.  (The design note writes this as
 * (early & tgt_used) != tgt; masking both sides keeps stray unused target
 * bits from making a chunk critical.) */
static unsigned critical_chunks(const struct entry_format *fmt, const uint64_t *early,
                                const uint64_t *tgt, const uint64_t *tgt_used)
{
    return chunks_differing(fmt, early, tgt, tgt_used, all_chunks(fmt));
}

static unsigned popcount(unsigned v)
{
    unsigned n = 0;

    for (; v; v &= v - 1)
        n++;
    return n;
}

static enum entry_sync_class class_of(unsigned nr_critical)
{
    if (nr_critical == 0)
        return ENTRY_SYNC_NONE;
    return nr_critical == 1 ? ENTRY_SYNC_HITLESS : ENTRY_SYNC_BREAKING;
}

struct plan {
    uint64_t cur_used[ENTRY_SYNC_MAX_QWORDS];
    uint64_t tgt_used[ENTRY_SYNC_MAX_QWORDS];
    uint64_t early[ENTRY_SYNC_MAX_QWORDS];
    unsigned critical_mask;
};

static struct entry_sync_result make_plan(const struct entry_format *fmt, const uint64_t *cur,
                                          const uint64_t *tgt, struct plan *plan)
{
    struct entry_sync_result res = {0};

    memset(plan, 0, sizeof(*plan));
    fmt->used(cur, plan->cur_used);
    fmt->used(tgt, plan->tgt_used);
    unused_update(fmt, cur, tgt, plan->cur_used, plan->early);
    plan->critical_mask = critical_chunks(fmt, plan->early, tgt, plan->tgt_used);
    res.critical_mask = (uint8_t)plan->critical_mask;
    res.critical = (uint8_t)popcount(plan->critical_mask);
    res.cls = class_of(res.critical);
    return res;
}

struct entry_sync_result entry_sync_classify(const struct entry_format *fmt, const uint64_t *cur,
                                             const uint64_t *tgt)
{
    struct plan plan;

    return make_plan(fmt, cur, tgt, &plan);
}

/* ---- the update paths --------------------------------------------------- */

/* The non-present entry between the current entry and tgt: the format's
 * choice (fmt->window), all zeros without one.  Present is cleared here
 * whatever the format says, so the window is never a live entry. */
static void window_entry(const struct sync_run *run, const uint64_t *tgt, uint64_t *out)
{
    const struct entry_format *fmt = run->fmt;

    memset(out, 0, ENTRY_SYNC_MAX_QWORDS * sizeof(uint64_t));
    if (fmt->window)
        fmt->window(run->mem, tgt, out);
    out[fmt->present_qword] &= ~fmt->present_mask;
    if (run->ops->reader_rereads) {
        /* A reader that rereads the entry may take Present from the old
         * entry and a table pointer from the window: the window keeps the
         * old entry in every bit it does not use itself (Present, FPD). */
        uint64_t used[ENTRY_SYNC_MAX_QWORDS] = {0};
        fmt->used(out, used);
        for (unsigned q = 0; q < entry_qwords(fmt); q++)
            out[q] = (run->mem[q] & ~used[q]) | (out[q] & used[q]);
    }
}

/* Through a non-present entry: hardware sees the old entry, then the
 * window, then the new entry; never a mix. */
static void update_breaking(struct sync_run *run, const uint64_t *tgt)
{
    const struct entry_format *fmt = run->fmt;
    unsigned p = present_chunk(fmt);
    unsigned others = all_chunks(fmt) & ~(1u << p);
    uint64_t window[ENTRY_SYNC_MAX_QWORDS];

    window_entry(run, tgt, window);
    step(run, window, 1u << p);
    step(run, tgt, others);
    step(run, tgt, 1u << p);
}

/* The traditional baseline: the same three steps as a breaking update, each
 * followed by its sync whether or not it changed anything, for every
 * update.  It is what entry_sync is measured against. */
static void update_clear(struct sync_run *run, const uint64_t *tgt)
{
    const struct entry_format *fmt = run->fmt;
    unsigned p = present_chunk(fmt);
    uint64_t window[ENTRY_SYNC_MAX_QWORDS];

    window_entry(run, tgt, window);
    store_chunks(run, window, 1u << p);
    sync_now(run);
    store_chunks(run, tgt, all_chunks(fmt) & ~(1u << p));
    sync_now(run);
    store_chunks(run, tgt, 1u << p);
    sync_now(run);
}

/* The flip for a reader that rereads the entry (see
 * entry_sync_ops.reader_rereads): the critical chunk takes the target in
 * every bit the target uses and keeps its current value in every other
 * bit, so a field only the old entry uses still holds its old value when
 * that reader pairs it with the old translation type; other chunks take
 * the target. */
static void flip_keeping_old(const struct sync_run *run, const uint64_t *tgt,
                             const struct plan *plan, uint64_t *out)
{
    const struct entry_format *fmt = run->fmt;

    for (unsigned q = 0; q < entry_qwords(fmt); q++) {
        bool critical = plan->critical_mask & (1u << (q / fmt->chunk_qwords));
        out[q] = critical ? (tgt[q] & plan->tgt_used[q]) | (run->mem[q] & ~plan->tgt_used[q])
                          : tgt[q];
    }
}

/* One critical chunk:
 * 1. give the other chunks the target's bits the current entry ignores,
 *    but only where the target will use them (other differences can wait);
 * 2. flip the critical chunk in one store; chunks whose remaining changes
 *    touch no bit the current entry uses ride along, as no reader cares;
 * 3. clear what only the old entry used.
 * Every step that stores nothing is skipped with its sync, so the update
 * costs exactly the syncs it needs. */
static void update_hitless(struct sync_run *run, const uint64_t *tgt, const struct plan *plan)
{
    const struct entry_format *fmt = run->fmt;
    unsigned others = all_chunks(fmt) & ~plan->critical_mask;
    unsigned need_early = chunks_differing(fmt, plan->early, run->mem, plan->tgt_used, others);
    unsigned ride_along;

    step(run, plan->early, need_early);
    ride_along = others & ~chunks_differing(fmt, run->mem, tgt, plan->cur_used, others);
    if (run->ops->reader_rereads) {
        uint64_t flip[ENTRY_SYNC_MAX_QWORDS];
        flip_keeping_old(run, tgt, plan, flip);
        step(run, flip, plan->critical_mask | ride_along);
        step(run, tgt, all_chunks(fmt)); /* what only the old entry used, too */
        return;
    }
    step(run, tgt, plan->critical_mask | ride_along);
    step(run, tgt, others);
}

struct entry_sync_result entry_sync_write(const struct entry_format *fmt,
                                          const struct entry_sync_ops *ops,
                                          volatile uint64_t *entry, const uint64_t *target,
                                          enum entry_sync_strategy strategy)
{
    struct sync_run run = {.fmt = fmt, .ops = ops, .entry = entry};
    struct plan plan;

    for (unsigned q = 0; q < entry_qwords(fmt); q++)
        run.mem[q] = entry[q];
    memcpy(run.at_sync, run.mem, sizeof(run.mem));
    run.res = make_plan(fmt, run.mem, target, &plan);
    if (strategy == ENTRY_SYNC_STRATEGY_CLEAR)
        run.res.cls = ENTRY_SYNC_BREAKING;

    if (ops->tracing) {
        trace(&run, "# entry_sync %s %s: %s, %u critical chunk(s) (mask %#x)", fmt->name,
              entry_sync_strategy_name(strategy), entry_sync_class_name(run.res.cls),
              run.res.critical, run.res.critical_mask);
        trace_entry(&run, "before", run.mem);
        trace_entry(&run, "used  ", plan.cur_used);
    }

    if (strategy == ENTRY_SYNC_STRATEGY_CLEAR)
        update_clear(&run, target);
    else if (run.res.cls == ENTRY_SYNC_BREAKING)
        update_breaking(&run, target);
    else if (run.res.cls == ENTRY_SYNC_HITLESS)
        update_hitless(&run, target, &plan);
    else
        step(&run, target, all_chunks(fmt));

    trace_entry(&run, "after ", run.mem);
    return run.res;
}
