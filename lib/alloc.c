/* Range-list page allocator.
 *
 * Free memory is kept as sorted, non-overlapping, non-adjacent ranges.
 * Allocation carves from the first (or, with prefer_high, the last) range
 * that can hold an aligned block under the limit; freeing merges with the
 * neighbours.  The table of ranges starts static and grows into memory
 * taken from itself (alloc_grow_into), so a map of any size fits.
 *
 * Every CPU may allocate (an AP's first write to a PASID entry allocates
 * its table), so each public operation holds one spinlock: without it two
 * CPUs carved the same page, and transitions-smp4's stress mode got an
 * edu PASID table inside an NVMe data buffer (foreign data on the disk). */
#include "lib/alloc.h"

#include "lib/kstring.h"

struct range {
    uint64_t base, end; /* [base, end) */
};

static struct range static_ranges[ALLOC_STATIC_RANGES];
static struct range *ranges = static_ranges;
static uint32_t nranges, capacity = ALLOC_STATIC_RANGES;
static uint64_t table_pa, table_pages; /* the grown table, when there is one */
static void *(*table_ptr)(uint64_t pa);
static uint64_t total_pages, used_pages, peak_used;
static bool prefer_high;

static void make_room(void);

/* Portable (no arch header): a test-and-set lock on the compiler's atomics.
 * No interrupt handler allocates, so a CPU never waits on itself. */
static volatile uint32_t lock_word;

static void lock(void)
{
    while (__atomic_exchange_n(&lock_word, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&lock_word, __ATOMIC_RELAXED))
            ;
}

static void unlock(void)
{
    __atomic_store_n(&lock_word, 0, __ATOMIC_RELEASE);
}

static void alloc_reset_unlocked(void)
{
    ranges = static_ranges;
    capacity = ALLOC_STATIC_RANGES;
    table_pa = table_pages = 0;
    nranges = 0;
    total_pages = used_pages = peak_used = 0;
    prefer_high = false;
}

static void alloc_grow_into_unlocked(void *(*phys_to_ptr)(uint64_t pa))
{
    table_ptr = phys_to_ptr;
}

static void alloc_prefer_high_unlocked(bool on)
{
    prefer_high = on;
}

static bool insert_at(uint32_t i, uint64_t base, uint64_t end)
{
    if (nranges == capacity)
        return false;
    memmove(&ranges[i + 1], &ranges[i], (nranges - i) * sizeof(ranges[0]));
    ranges[i].base = base;
    ranges[i].end = end;
    nranges++;
    return true;
}

static void remove_at(uint32_t i)
{
    memmove(&ranges[i], &ranges[i + 1], (nranges - i - 1) * sizeof(ranges[0]));
    nranges--;
}

/* Insert a free range, merging with neighbours; false on overlap/full. */
static bool put_free(uint64_t base, uint64_t end)
{
    uint32_t i = 0;
    while (i < nranges && ranges[i].base < base)
        i++;
    if ((i > 0 && ranges[i - 1].end > base) || (i < nranges && ranges[i].base < end))
        return false; /* overlaps: a double free or a bad map */
    bool join_prev = i > 0 && ranges[i - 1].end == base;
    bool join_next = i < nranges && ranges[i].base == end;
    if (join_prev && join_next) {
        ranges[i - 1].end = ranges[i].end;
        remove_at(i);
    } else if (join_prev) {
        ranges[i - 1].end = end;
    } else if (join_next) {
        ranges[i].base = base;
    } else {
        return insert_at(i, base, end);
    }
    return true;
}

static bool alloc_add_free_unlocked(uint64_t base, uint64_t size)
{
    make_room();
    uint64_t b = (base + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    if (size > UINT64_MAX - base)
        return false;
    uint64_t e = (base + size) & ~(PAGE_SIZE - 1);
    if (e <= b)
        return true;
    if (!put_free(b, e))
        return false;
    total_pages += (e - b) / PAGE_SIZE;
    return true;
}

/* Remove [b, e) from range i, which contains it. */
static bool carve(uint32_t i, uint64_t b, uint64_t e)
{
    struct range r = ranges[i];
    if (r.base == b && r.end == e) {
        remove_at(i);
    } else if (r.base == b) {
        ranges[i].base = e;
    } else if (r.end == e) {
        ranges[i].end = b;
    } else {
        if (!insert_at(i + 1, e, r.end))
            return false;
        ranges[i].end = b;
    }
    return true;
}

static void count_used(uint64_t n)
{
    used_pages += n;
    if (used_pages > peak_used)
        peak_used = used_pages;
}

/* Double the table into the lowest free block at or above the floor.
 * Called with at least one slot spare (the carve may split a range). */
static void grow(void)
{
    uint64_t bytes = (uint64_t)capacity * 2 * sizeof(struct range);
    uint64_t pages = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
    bytes = pages * PAGE_SIZE;
    uint64_t at = 0;
    for (uint32_t i = 0; i < nranges && !at; i++) {
        uint64_t b = ranges[i].base > ALLOC_TABLE_FLOOR ? ranges[i].base : ALLOC_TABLE_FLOOR;
        if (b < ranges[i].end && ranges[i].end - b >= bytes) {
            at = b;
            if (!carve(i, at, at + bytes))
                return;
        }
    }
    if (!at)
        return; /* no room: the current table stays, and says "full" when it is */
    struct range *t = table_ptr(at);
    if (!t) {
        put_free(at, at + bytes);
        return;
    }
    memcpy(t, ranges, nranges * sizeof(ranges[0]));
    uint64_t old_pa = table_pa, old_pages = table_pages;
    ranges = t;
    capacity = (uint32_t)(bytes / sizeof(struct range));
    table_pa = at;
    table_pages = pages;
    count_used(pages);
    if (old_pages && put_free(old_pa, old_pa + old_pages * PAGE_SIZE))
        used_pages -= old_pages;
}

/* Every public operation inserts at most one range; growing first, while
 * two slots are still spare, keeps indices stable inside the operation. */
static void make_room(void)
{
    if (table_ptr && capacity - nranges < 2 && capacity < UINT32_MAX / 2)
        grow();
}

static void alloc_reserve_unlocked(uint64_t base, uint64_t size)
{
    uint64_t b = base & ~(PAGE_SIZE - 1);
    uint64_t e = size > UINT64_MAX - base ? UINT64_MAX & ~(PAGE_SIZE - 1)
                                          : (base + size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    make_room();
    for (uint32_t i = 0; i < nranges;) {
        uint64_t cb = ranges[i].base > b ? ranges[i].base : b;
        uint64_t ce = ranges[i].end < e ? ranges[i].end : e;
        if (cb < ce) {
            uint32_t before = nranges;
            if (!carve(i, cb, ce))
                return;
            total_pages -= (ce - cb) / PAGE_SIZE;
            if (nranges < before)
                continue; /* range i was removed; do not skip the next */
        }
        i++;
    }
}

static bool alloc_is_free_unlocked(uint64_t base, uint64_t size)
{
    if (!size || size > UINT64_MAX - base)
        return false;
    uint64_t b = base & ~(PAGE_SIZE - 1);
    uint64_t e = (base + size - 1) | (PAGE_SIZE - 1); /* last byte */
    /* Free ranges never touch (alloc_check): one must hold it all. */
    for (uint32_t i = 0; i < nranges; i++)
        if (ranges[i].base <= b && e < ranges[i].end)
            return true;
    return false;
}

static bool fit(const struct range *r, uint64_t bytes, uint64_t align, uint64_t limit,
                uint64_t *out)
{
    uint64_t end = r->end;
    if (limit && end > limit)
        end = limit;
    if (end < r->base || end - r->base < bytes)
        return false;
    uint64_t at;
    if (prefer_high) {
        at = (end - bytes) & ~(align - 1);
        if (at < r->base)
            return false;
    } else {
        at = (r->base + align - 1) & ~(align - 1);
        if (at < r->base || at > end || end - at < bytes)
            return false;
    }
    *out = at;
    return true;
}

static uint64_t alloc_pages_unlocked(uint64_t n, uint64_t align, uint64_t limit)
{
    if (n == 0 || n > (UINT64_MAX / PAGE_SIZE))
        return 0;
    if (align < PAGE_SIZE)
        align = PAGE_SIZE;
    if (align & (align - 1))
        return 0;
    uint64_t bytes = n * PAGE_SIZE;
    make_room();
    for (uint32_t k = 0; k < nranges; k++) {
        uint32_t i = prefer_high ? nranges - 1 - k : k;
        uint64_t at;
        if (!fit(&ranges[i], bytes, align, limit, &at))
            continue;
        if (!carve(i, at, at + bytes))
            return 0;
        count_used(n);
        return at;
    }
    return 0;
}

static void alloc_free_unlocked(uint64_t base, uint64_t n)
{
    if (!n || (base & (PAGE_SIZE - 1)))
        return;
    make_room();
    if (put_free(base, base + n * PAGE_SIZE))
        used_pages -= n;
}

static void alloc_get_stats_unlocked(struct alloc_stats *s)
{
    uint64_t f = 0;
    for (uint32_t i = 0; i < nranges; i++)
        f += (ranges[i].end - ranges[i].base) / PAGE_SIZE;
    s->free_pages = f;
    s->total_pages = total_pages;
    s->used_pages = used_pages;
    s->peak_used_pages = peak_used;
    s->ranges = nranges;
    s->capacity = capacity;
    s->table_base = table_pa;
    s->table_pages = table_pages;
}

static bool alloc_check_unlocked(void)
{
    for (uint32_t i = 0; i < nranges; i++) {
        if (ranges[i].base >= ranges[i].end)
            return false;
        if ((ranges[i].base | ranges[i].end) & (PAGE_SIZE - 1))
            return false;
        if (i && ranges[i - 1].end >= ranges[i].base)
            return false;
    }
    return true;
}

/* ---- the public operations, each under the lock ---------------------------- */

void alloc_reset(void)
{
    lock();
    alloc_reset_unlocked();
    unlock();
}

void alloc_grow_into(void *(*phys_to_ptr)(uint64_t pa))
{
    lock();
    alloc_grow_into_unlocked(phys_to_ptr);
    unlock();
}

void alloc_prefer_high(bool on)
{
    lock();
    alloc_prefer_high_unlocked(on);
    unlock();
}

bool alloc_add_free(uint64_t base, uint64_t size)
{
    lock();
    bool r = alloc_add_free_unlocked(base, size);
    unlock();
    return r;
}

void alloc_reserve(uint64_t base, uint64_t size)
{
    lock();
    alloc_reserve_unlocked(base, size);
    unlock();
}

bool alloc_is_free(uint64_t base, uint64_t size)
{
    lock();
    bool r = alloc_is_free_unlocked(base, size);
    unlock();
    return r;
}

uint64_t alloc_pages(uint64_t n, uint64_t align, uint64_t limit)
{
    lock();
    uint64_t r = alloc_pages_unlocked(n, align, limit);
    unlock();
    return r;
}

void alloc_free(uint64_t base, uint64_t n)
{
    lock();
    alloc_free_unlocked(base, n);
    unlock();
}

void alloc_get_stats(struct alloc_stats *s)
{
    lock();
    alloc_get_stats_unlocked(s);
    unlock();
}

bool alloc_check(void)
{
    lock();
    bool r = alloc_check_unlocked();
    unlock();
    return r;
}
