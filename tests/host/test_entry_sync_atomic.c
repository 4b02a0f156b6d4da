// HOST-DEPS:
/* The real 16-byte store of arch/x86/atomic128.h under a concurrent reader:
 * a writer flips one 16-byte slot between two values whose halves differ,
 * a reader loads it atomically and must never see half of each. */
#include "arch/x86/atomic128.h"
#include "tests/host/check.h"

#include <pthread.h>
#include <stdatomic.h>

CHECK_STATE_DEFINE;

#define FLIPS 2000000u /* per round */
#define MAX_ROUNDS 8   /* more rounds only while the threads fail to overlap */
#define ENOUGH_CHANGES 1000

static const struct atomic128 value_a = {0xaaaaaaaaaaaaaaaaULL, 0x5555555555555555ULL};
static const struct atomic128 value_b = {0x5555555555555555ULL, 0xaaaaaaaaaaaaaaaaULL};

struct race {
    struct atomic128 slot;
    pthread_barrier_t start;
    atomic_bool done;
    bool plain_stores; /* the negative control: two 64-bit stores */
    unsigned long reads, torn, changes;
};

static bool same(struct atomic128 x, struct atomic128 y)
{
    return x.lo == y.lo && x.hi == y.hi;
}

static void *writer(void *arg)
{
    struct race *r = arg;

    pthread_barrier_wait(&r->start);
    for (unsigned i = 0; i < FLIPS; i++) {
        struct atomic128 v = (i & 1) ? value_b : value_a;
        if (r->plain_stores) {
            ((volatile uint64_t *)&r->slot)[0] = v.lo;
            __asm__ volatile("pause"); /* widen the window a little */
            ((volatile uint64_t *)&r->slot)[1] = v.hi;
        } else {
            atomic128_store(&r->slot, v);
        }
    }
    atomic_store(&r->done, true);
    return NULL;
}

static void *reader(void *arg)
{
    struct race *r = arg;
    struct atomic128 last = value_a;

    pthread_barrier_wait(&r->start);
    while (!atomic_load(&r->done)) {
        struct atomic128 v = atomic128_load(&r->slot);
        r->reads++;
        if (!same(v, value_a) && !same(v, value_b))
            r->torn++;
        else if (!same(v, last))
            r->changes++;
        last = v;
    }
    return NULL;
}

static void race_round(struct race *r)
{
    pthread_t w, rd;

    r->slot = value_a;
    atomic_store(&r->done, false);
    pthread_barrier_init(&r->start, NULL, 2);
    pthread_create(&rd, NULL, reader, r);
    pthread_create(&w, NULL, writer, r);
    pthread_join(w, NULL);
    pthread_join(rd, NULL);
    pthread_barrier_destroy(&r->start);
}

/* Bounded: rounds repeat only while the reader has hardly ever seen the
 * value change (a busy host may not run both threads at once). */
static unsigned race(struct race *r)
{
    unsigned rounds = 0;

    while (rounds < MAX_ROUNDS && r->changes < ENOUGH_CHANGES) {
        race_round(r);
        rounds++;
    }
    return rounds;
}

TEST(cmpxchg16b_semantics)
{
    struct atomic128 slot = value_a, expected = value_b;

    if (!atomic128_supported()) {
        SKIP("CPU lacks CMPXCHG16B");
        return;
    }
    CHECK(atomic128_is_aligned(&slot), "struct atomic128 is 16-byte aligned");
    CHECK(!atomic128_cmpxchg(&slot, &expected, value_b), "mismatch must fail");
    CHECK(same(expected, value_a), "a failed compare returns the current value");
    CHECK(atomic128_cmpxchg(&slot, &expected, value_b), "match must swap");
    CHECK(same(slot, value_b), "swapped");
    atomic128_store(&slot, value_a);
    CHECK(same(atomic128_load(&slot), value_a), "store then load");
}

TEST(no_torn_reads_with_cmpxchg16b)
{
    struct race r = {0};

    if (!atomic128_supported()) {
        SKIP("CPU lacks CMPXCHG16B");
        return;
    }
    unsigned rounds = race(&r);

    printf("# CMPXCHG16B writer, %u x %u flips: %lu reads, %lu value changes seen, %lu torn\n",
           rounds, FLIPS, r.reads, r.changes, r.torn);
    CHECK(r.torn == 0, "%lu torn reads", r.torn);
    if (!r.changes)
        SKIP("reader and writer never overlapped");
}

TEST(plain_stores_for_comparison)
{
    /* Not asserted (it depends on scheduling): shows that the reader above
     * would notice tearing if the writer used two 64-bit stores. */
    struct race r = {.plain_stores = true};

    if (!atomic128_supported()) {
        SKIP("CPU lacks CMPXCHG16B");
        return;
    }
    unsigned rounds = race(&r);

    printf("# two 64-bit stores, %u x %u flips: %lu reads, %lu changes, %lu torn "
           "(informational)\n",
           rounds, FLIPS, r.reads, r.changes, r.torn);
}

int main(void)
{
    RUN(cmpxchg16b_semantics);
    RUN(no_torn_reads_with_cmpxchg16b);
    RUN(plain_stores_for_comparison);
    return check_finish();
}
