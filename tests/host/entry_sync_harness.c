/* See entry_sync_harness.h. */
#include "tests/host/entry_sync_harness.h"

#include <stdio.h>
#include <string.h>

static unsigned nr_qwords(const struct entry_format *fmt)
{
    return (unsigned)fmt->nr_chunks * fmt->chunk_qwords;
}

static unsigned bits_set(unsigned v)
{
    return (unsigned)__builtin_popcount(v);
}

/* Syncs a hitless update needs around its critical chunk: one to publish
 * bits only the target uses before the flip, the flip, one to clear bits
 * only the old entry used after it. */
static unsigned hitless_syncs(const struct entry_format *fmt, const uint64_t *cu,
                              const uint64_t *tu, const uint64_t *cur, const uint64_t *tgt,
                              unsigned critical)
{
    bool before = false, after = false;

    for (unsigned q = 0; q < nr_qwords(fmt); q++) {
        uint64_t diff = cur[q] ^ tgt[q];
        if (critical & (1u << (q / fmt->chunk_qwords)))
            continue;
        before |= (diff & ~cu[q] & tu[q]) != 0;
        after |= (diff & cu[q]) != 0;
    }
    return 1 + before + after;
}

struct expectation expect_update(const struct entry_format *fmt, used_fn used, const uint64_t *cur,
                                 const uint64_t *tgt, enum entry_sync_strategy strategy)
{
    uint64_t cu[ENTRY_SYNC_MAX_QWORDS] = {0}, tu[ENTRY_SYNC_MAX_QWORDS] = {0};
    struct expectation e = {0};
    bool differs = false;

    used(cur, cu);
    used(tgt, tu);
    for (unsigned q = 0; q < nr_qwords(fmt); q++) {
        uint64_t diff = cur[q] ^ tgt[q];
        if (diff & cu[q] & tu[q])
            e.critical_mask |= 1u << (q / fmt->chunk_qwords);
        differs |= diff != 0;
    }
    switch (bits_set(e.critical_mask)) {
    case 0:
        e.cls = ENTRY_SYNC_NONE;
        e.syncs = differs ? 1 : 0;
        break;
    case 1:
        e.cls = ENTRY_SYNC_HITLESS;
        e.syncs = hitless_syncs(fmt, cu, tu, cur, tgt, e.critical_mask);
        break;
    default:
        e.cls = ENTRY_SYNC_BREAKING;
        e.syncs = 3;
        break;
    }
    if (strategy == ENTRY_SYNC_STRATEGY_CLEAR) {
        e.cls = ENTRY_SYNC_BREAKING;
        e.syncs = 3;
    }
    return e;
}

static void why(struct pair_run *r, unsigned failure, const char *text)
{
    size_t at = strlen(r->why);

    r->failures |= failure;
    snprintf(r->why + at, sizeof(r->why) - at, "%s%s", at ? "; " : "", text);
}

static void check_model(struct pair_run *r)
{
    const struct model_iommu *m = &r->model;

    if (m->violations)
        why(r, FAIL_READER, m->first_problem);
    if (m->final_mismatch || m->unsynced_at_end)
        why(r, FAIL_FINAL, m->first_problem);
    if (m->bad_sync_points || m->wrong_address)
        why(r, FAIL_CONTRACT, m->first_problem);
}

static void check_counts(struct pair_run *r)
{
    char text[160];

    if (r->model.syncs != r->exp.syncs) {
        snprintf(text, sizeof(text), "%u syncs done, minimum is %u", r->model.syncs, r->exp.syncs);
        why(r, FAIL_SYNCS, text);
    }
    if (r->res.cls != r->exp.cls || r->res.critical_mask != r->exp.critical_mask ||
        r->res.critical != bits_set(r->exp.critical_mask)) {
        snprintf(text, sizeof(text), "class %s critical %#x, expected %s critical %#x",
                 entry_sync_class_name(r->res.cls), r->res.critical_mask,
                 entry_sync_class_name(r->exp.cls), r->exp.critical_mask);
        why(r, FAIL_CLASS, text);
    }
    if (r->res.syncs != r->model.sync_calls || r->res.chunks_written != r->model.stores)
        why(r, FAIL_CONTRACT, "result counters disagree with the model's record");
}

void run_pair_wrapped(const struct entry_format *fmt, const struct model_rules *judge,
                      const uint64_t *start, const uint64_t *target,
                      enum entry_sync_strategy strategy, struct model_opts opts, ops_wrapper wrap,
                      struct pair_run *r)
{
    struct entry_sync_ops ops;

    memset(r, 0, sizeof(*r));
    r->exp = expect_update(fmt, judge->used, start, target, strategy);
    model_init(&r->model, fmt, judge, start, target, r->exp.cls == ENTRY_SYNC_BREAKING, opts);
    ops = model_ops(&r->model);
    if (wrap)
        ops = wrap(ops, &r->model);
    r->res = entry_sync_write(fmt, &ops, r->model.mem, target, strategy);
    model_finish(&r->model);
    check_model(r);
    check_counts(r);
}

void run_pair(const struct entry_format *fmt, const struct model_rules *judge,
              const uint64_t *start, const uint64_t *target, enum entry_sync_strategy strategy,
              struct model_opts opts, struct pair_run *r)
{
    run_pair_wrapped(fmt, judge, start, target, strategy, opts, NULL, r);
}
