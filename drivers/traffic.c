/* Verified NVMe traffic generator. */
#include "drivers/traffic.h"

#include "arch/x86/tsc.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/page.h"
#include "lib/printf.h"

#define MAX_REPORTS 8

struct block_header {
    uint32_t magic;
    uint32_t gen;
    uint64_t lba;
    uint64_t sum; /* of the rest of the block, with this field zero */
    uint64_t pad;
};

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* A 64-bit mix of every word of the buffer (FNV-style, multiply only). */
static uint64_t checksum(const uint64_t *w, uint32_t words)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint32_t i = 0; i < words; i++)
        h = (h ^ w[i]) * 0x100000001b3ull;
    return h;
}

static void fill_block(uint8_t *b, uint32_t size, uint64_t lba, uint32_t gen)
{
    struct block_header *h = (struct block_header *)b;
    uint64_t *w = (uint64_t *)b;
    uint64_t x = lba * 0x9e3779b97f4a7c15ull ^ ((uint64_t)gen << 32 | gen) ^ 0x5555;
    for (uint32_t i = sizeof(*h) / 8; i < size / 8; i++)
        w[i] = xorshift(&x);
    h->magic = TRAFFIC_BLOCK_MAGIC;
    h->gen = gen;
    h->lba = lba;
    h->pad = 0;
    h->sum = 0;
    h->sum = checksum(w, size / 8);
}

/* True when the block is what generation `gen` of `lba` wrote. */
static bool check_block(uint8_t *b, uint32_t size, uint64_t lba, uint32_t gen, struct why *why)
{
    struct block_header *h = (struct block_header *)b;
    if (h->magic != TRAFFIC_BLOCK_MAGIC)
        return why_set(why, "no block header (magic %#x)", h->magic);
    if (h->lba != lba)
        return why_set(why, "block of LBA %llu read at LBA %llu (misdirected)",
                       (unsigned long long)h->lba, (unsigned long long)lba);
    uint64_t sum = h->sum;
    h->sum = 0;
    uint64_t want = checksum((uint64_t *)b, size / 8);
    h->sum = sum;
    if (sum != want)
        return why_set(why, "checksum %#llx, content gives %#llx (torn or corrupt)",
                       (unsigned long long)sum, (unsigned long long)want);
    if (h->gen != gen)
        return why_set(why, "generation %u, expected %u (%s)", h->gen, gen,
                       h->gen < gen ? "stale" : "from the future");
    return true;
}

static void note(struct traffic *t, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void note(struct traffic *t, const char *fmt, ...)
{
    if (t->reported++ >= MAX_REPORTS)
        return;
    char line[200];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    ktap_diag("traffic: %s", line);
}

static void recheck_suspects(struct traffic *t);

static void set_failed(struct traffic *t, const char *what)
{
    if (!t->failed)
        why_set(&t->error, "%s", what);
    t->failed = true;
}

/* --- set-up ------------------------------------------------------------------- */

static int alloc_buffers(struct traffic *t)
{
    uint64_t need = (uint64_t)t->depth * t->cfg.io_bytes;
    uint32_t entries = t->cfg.io_bytes / NVME_PAGE + 1;
    uint32_t stride = 64;
    while (stride < entries * 8)
        stride *= 2; /* a power of two never crosses a page boundary */
    uint64_t lists = (uint64_t)t->depth * stride;
    struct dma_pool *pool = &t->nvme->pool;
    /* Reuse the buffers of an earlier run only while they are still in this
     * controller's pool (it may have been released or be another one). */
    if (t->data && t->data_bytes >= need && t->lists_bytes >= lists &&
        dma_pool_iova(pool, t->data) == t->data_iova &&
        dma_pool_iova(pool, t->lists) == t->lists_iova) {
        t->list_stride = stride;
        return 0;
    }
    /* Buffers of an earlier, smaller run stay in the pool (it is freed as a
     * whole with the controller). */
    need = (need + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    lists = (lists + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    t->data = dma_pool_alloc(pool, need / PAGE_SIZE, &t->data_iova);
    t->lists = dma_pool_alloc(pool, lists / PAGE_SIZE, &t->lists_iova);
    if (!t->data || !t->lists) {
        t->data = 0;
        return -1;
    }
    t->data_bytes = need;
    t->lists_bytes = lists;
    t->list_stride = stride;
    return 0;
}

static int setup(struct traffic *t, struct nvme_ctrl *nvme, const struct traffic_config *cfg)
{
    t->nvme = nvme;
    t->cfg = *cfg;
    memset(&t->st, 0, sizeof(t->st));
    t->failed = false;
    t->running = false;
    t->inflight = 0;
    t->reported = 0;
    why_clear(&t->error);
    /* The command slots and the suspect ring live as long as the struct
     * (like the unit tables), out of the image; first, so that no depth is
     * ever set without them. */
    if (!t->slots) {
        struct traffic_slot *slots = page_alloc_bytes(sizeof(*slots) * TRAFFIC_MAX_DEPTH);
        struct traffic_suspect *ring = page_alloc_bytes(sizeof(*ring) * TRAFFIC_SUSPECTS);
        if (!slots || !ring) {
            page_free(slots, (sizeof(*slots) * TRAFFIC_MAX_DEPTH + PAGE_SIZE - 1) / PAGE_SIZE);
            page_free(ring, (sizeof(*ring) * TRAFFIC_SUSPECTS + PAGE_SIZE - 1) / PAGE_SIZE);
            why_set(&t->error, "no memory for the command slots");
            return -1;
        }
        t->slots = slots;
        t->suspect = ring;
    }
    if (nvme->dead || !nvme->io.qid) {
        why_set(&t->error, "controller not ready: %s", nvme->error.text);
        return -1;
    }
    if (t->cfg.write && !nvme->writable) {
        why_set(&t->error, "writes refused: %s", nvme->write_why);
        return -1;
    }
    uint32_t lba = nvme->lba_size;
    if (!t->cfg.io_bytes || t->cfg.io_bytes % lba || t->cfg.io_bytes > nvme->max_xfer ||
        lba < sizeof(struct block_header) || t->cfg.io_bytes > NVME_MAX_XFER) {
        why_set(&t->error, "transfer of %u bytes does not fit LBA size %u / limit %u",
                t->cfg.io_bytes, lba, nvme->max_xfer);
        return -1;
    }
    if (!t->cfg.timeout_us)
        t->cfg.timeout_us = NVME_CMD_TIMEOUT_US;
    t->blocks_per_unit = t->cfg.io_bytes / lba;
    uint64_t avail = nvme->ns_blocks > t->cfg.start_lba ? nvme->ns_blocks - t->cfg.start_lba : 0;
    uint64_t units = t->cfg.window_bytes / t->cfg.io_bytes;
    if (units > avail / t->blocks_per_unit)
        units = avail / t->blocks_per_unit;
    if (units > TRAFFIC_MAX_UNITS)
        units = TRAFFIC_MAX_UNITS;
    t->depth = t->cfg.queue_depth;
    if (t->depth > TRAFFIC_MAX_DEPTH)
        t->depth = TRAFFIC_MAX_DEPTH;
    if (t->depth > nvme->io.depth - 1u)
        t->depth = nvme->io.depth - 1u; /* one entry always stays free */
    if (t->depth < 1 || units < 2ull * t->depth) {
        why_set(&t->error, "window of %llu units too small for depth %u", (unsigned long long)units,
                t->depth);
        return -1;
    }
    t->units = (uint32_t)units;
    if (!t->gen) {
        uint64_t pages = (TRAFFIC_MAX_UNITS * (4 + 8 + 1 + 1) + PAGE_SIZE - 1) / PAGE_SIZE;
        uint8_t *tables = page_alloc(pages);
        if (!tables) {
            why_set(&t->error, "no memory for the unit tables");
            return -1;
        }
        t->sum = (uint64_t *)tables;
        t->gen = (uint32_t *)(tables + TRAFFIC_MAX_UNITS * 8);
        t->busy = tables + TRAFFIC_MAX_UNITS * 12;
        t->unread = tables + TRAFFIC_MAX_UNITS * 13;
    }
    if (alloc_buffers(t)) {
        why_set(&t->error, "no DMA memory for %u x %u bytes", t->depth, t->cfg.io_bytes);
        return -1;
    }
    for (uint32_t i = 0; i < t->depth; i++) {
        struct traffic_slot *s = &t->slots[i];
        memset(s, 0, sizeof(*s));
        s->buf = t->data + (uint64_t)i * t->cfg.io_bytes;
        s->buf_iova = t->data_iova + (uint64_t)i * t->cfg.io_bytes;
        s->prp_list = (uint64_t *)(t->lists + (uint64_t)i * t->list_stride);
        s->prp_list_iova = t->lists_iova + (uint64_t)i * t->list_stride;
    }
    recheck_suspects(t);
    memset(t->gen, 0, TRAFFIC_MAX_UNITS * 4);
    memset(t->sum, 0, TRAFFIC_MAX_UNITS * 8);
    memset(t->busy, 0, TRAFFIC_MAX_UNITS);
    memset(t->unread, 0, TRAFFIC_MAX_UNITS);
    t->rng = 0x2545f4914f6cdd1dull ^ ((uint64_t)t->cfg.seed << 17 | 1);
    return 0;
}

/* --- submission and completion ------------------------------------------------- */

static uint64_t unit_lba(const struct traffic *t, uint32_t unit)
{
    return t->cfg.start_lba + (uint64_t)unit * t->blocks_per_unit;
}

static bool submit(struct traffic *t, uint16_t slot, uint32_t unit, bool write)
{
    struct traffic_slot *s = &t->slots[slot];
    uint64_t lba = unit_lba(t, unit);
    uint32_t bs = t->nvme->lba_size;
    if (write) {
        s->gen = t->gen[unit] + 1;
        if (!s->gen)
            s->gen = 1;
        for (uint32_t b = 0; b < t->blocks_per_unit; b++)
            fill_block(s->buf + (uint64_t)b * bs, bs, lba + b, s->gen);
    } else {
        /* Poison, so a read the device never performed cannot verify. */
        memset(s->buf, 0xa5, t->cfg.io_bytes);
    }
    struct nvme_prp prp;
    if (nvme_build_prp(s->buf_iova, t->cfg.io_bytes, s->prp_list, s->prp_list_iova, &prp)) {
        set_failed(t, "PRP list does not fit");
        return false;
    }
    s->write = write;
    s->unit = unit;
    s->reread = -1;
    s->window_gen = __atomic_load_n(&t->window_gen, __ATOMIC_ACQUIRE);
    s->submit_us = uptime_us();
    if (nvme_submit_rw(t->nvme, write, lba, t->blocks_per_unit, &prp, slot)) {
        set_failed(t, t->nvme->dead ? t->nvme->error.text : "I/O queue unexpectedly full");
        return false;
    }
    /* Read by the CPU that changes translations: what was in flight. */
    __atomic_store_n(&t->st.submitted, t->st.submitted + 1, __ATOMIC_RELEASE);
    s->busy = true;
    t->busy[unit] = 1;
    t->inflight++;
    return true;
}

static bool all_poison(const uint8_t *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (b[i] != TRAFFIC_POISON)
            return false;
    return true;
}

/* Can a read of the unit be verified: a generation written, or (read-only
 * disk) a checksum recorded? */
static bool content_known(const struct traffic *t, uint32_t unit)
{
    return t->cfg.write ? t->gen[unit] != 0 : t->sum[unit] != 0;
}

/* Check a read's data against what the unit holds: true when it matches
 * (or the content is unknown: counted as unverified). */
static bool check_read(struct traffic *t, uint8_t *buf, uint32_t unit, struct why *why)
{
    uint64_t lba = unit_lba(t, unit);
    if (t->cfg.write) {
        uint32_t gen = t->gen[unit];
        if (!gen) {
            t->st.unverified++;
            return true;
        }
        uint32_t bs = t->nvme->lba_size;
        for (uint32_t b = 0; b < t->blocks_per_unit; b++)
            if (!check_block(buf + (uint64_t)b * bs, bs, lba + b, gen, why))
                return why_set(why, "READ LBA %llu: %s", (unsigned long long)(lba + b),
                               why->text);
        return true;
    }
    /* Read-only disk: the data must be what the first read returned. */
    uint64_t sum = checksum((const uint64_t *)buf, t->cfg.io_bytes / 8) | 1;
    if (!t->sum[unit])
        t->sum[unit] = sum;
    else if (t->sum[unit] != sum)
        return why_set(why, "READ LBA %llu: data changed between reads (%#llx then %#llx)",
                       (unsigned long long)lba, (unsigned long long)t->sum[unit],
                       (unsigned long long)sum);
    return true;
}

/* A read that left its whole buffer poisoned, or a write in flight while
 * a window was open, kept apart for the user to judge
 * (cfg.poisoned_reads_apart), its unit held out of the mix until it is
 * re-read.  False when it cannot be kept (not asked for, content unknown,
 * too many waiting): then it is judged like any command. */
static bool hold_suspect(struct traffic *t, const struct traffic_slot *s, uint64_t now)
{
    uint32_t head = t->suspect_head;
    if (!t->cfg.poisoned_reads_apart || !content_known(t, s->unit) ||
        head - __atomic_load_n(&t->suspect_tail, __ATOMIC_ACQUIRE) >= TRAFFIC_SUSPECTS ||
        t->suspects_held + t->depth >= t->units)
        return false;
    struct traffic_suspect *x = &t->suspect[head % TRAFFIC_SUSPECTS];
    x->write = s->write;
    x->unit = s->unit;
    x->lba = unit_lba(t, s->unit);
    x->iova = s->buf_iova;
    x->bytes = t->cfg.io_bytes;
    x->done_us = now;
    x->reread_sent = false;
    x->state = SUSPECT_PENDING;
    t->suspects_held++;
    if (s->write)
        t->st.window_writes++;
    else
        t->st.poisoned++;
    __atomic_store_n(&t->suspect_head, head + 1, __ATOMIC_RELEASE);
    return true;
}

/* Was a window open at some time while the command was in flight? */
static bool in_window(const struct traffic *t, const struct traffic_slot *s)
{
    uint32_t g = __atomic_load_n(&t->window_gen, __ATOMIC_ACQUIRE);
    return g != s->window_gen || (g & 1);
}

/* Returns true when the read was kept apart as a suspect. */
static bool verify_read(struct traffic *t, struct traffic_slot *s, uint64_t now)
{
    if (all_poison(s->buf, t->cfg.io_bytes) && hold_suspect(t, s, now))
        return true;
    struct why why;
    if (!check_read(t, s->buf, s->unit, &why)) {
        t->st.mismatches++;
        note(t, "mismatch: %s", why.text);
    }
    return false;
}

/* The re-read of a suspect's unit (data in buf unless status failed):
 * publish what it found. */
static void suspect_verdict(struct traffic *t, struct traffic_suspect *x, uint8_t *buf, int status)
{
    struct why why;
    bool good = status ? why_set(&why, "failed (status %#x)", (unsigned)status)
                       : check_read(t, buf, x->unit, &why);
    if (!good)
        note(t, "%s of LBA %llu %s, its re-read: %s", x->write ? "write" : "read",
             (unsigned long long)x->lba,
             x->write ? "was in flight in a window" : "left its buffer poisoned", why.text);
    if (!good && x->write)
        t->gen[x->unit] = 0; /* what the disk holds there is unknown now */
    if (t->suspects_held)
        t->suspects_held--;
    __atomic_store_n(&x->state, good ? SUSPECT_REREAD_OK : SUSPECT_REREAD_BAD, __ATOMIC_RELEASE);
}

/* After a controller reset the suspects still waiting are re-read now,
 * one at a time on the idle queue, against the tables of the run that
 * recorded them (the disk kept its content), before those are renewed. */
static void recheck_suspects(struct traffic *t)
{
    struct traffic_slot *s = &t->slots[0];
    for (uint32_t i = t->suspect_tail; i != t->suspect_head; i++) {
        struct traffic_suspect *x = &t->suspect[i % TRAFFIC_SUSPECTS];
        if (x->state != SUSPECT_PENDING)
            continue;
        struct nvme_prp prp;
        int status = -1;
        memset(s->buf, TRAFFIC_POISON, t->cfg.io_bytes);
        if (x->unit < t->units &&
            !nvme_build_prp(s->buf_iova, t->cfg.io_bytes, s->prp_list, s->prp_list_iova, &prp))
            status = nvme_rw_sync(t->nvme, false, x->lba, t->blocks_per_unit, &prp);
        suspect_verdict(t, x, s->buf, status);
    }
    t->suspects_held = 0;
}

static void complete(struct traffic *t, const struct nvme_done *d, uint64_t now)
{
    if (d->cid >= t->depth || !t->slots[d->cid].busy) {
        t->st.errors++;
        note(t, "completion for unknown command id %u (status %#x)", d->cid, d->status);
        return;
    }
    struct traffic_slot *s = &t->slots[d->cid];
    uint64_t lat = now - s->submit_us;
    unsigned bucket = 0;
    while (bucket + 1 < TRAFFIC_HIST && (lat >> (bucket + 1)))
        bucket++;
    t->st.hist[bucket]++;
    if (lat > t->st.max_latency_us)
        t->st.max_latency_us = lat;
    bool held = false;
    if (s->reread >= 0)
        suspect_verdict(t, &t->suspect[s->reread], s->buf, d->status);
    if (d->status) {
        char buf[48];
        t->st.errors++;
        note(t, "%s LBA %llu failed: %s", s->write ? "WRITE" : "READ",
             (unsigned long long)unit_lba(t, s->unit),
             nvme_status_name(d->status, buf, sizeof(buf)));
        if (s->write) {
            t->gen[s->unit] = 0; /* content unknown now */
            t->unread[s->unit] = 0;
        }
    } else if (s->write) {
        t->gen[s->unit] = s->gen;
        t->unread[s->unit] = 1;
        t->st.writes++;
        held = in_window(t, s) && hold_suspect(t, s, now);
    } else {
        held = s->reread < 0 && verify_read(t, s, now);
        t->unread[s->unit] = 0;
        t->st.reads++;
    }
    t->st.ops++;
    t->st.bytes += t->cfg.io_bytes;
    s->busy = false;
    t->busy[s->unit] = held; /* a suspect's unit waits for its re-read */
    t->inflight--;
}

/* Reap what is there; returns how many completed. */
static unsigned reap(struct traffic *t)
{
    struct nvme_done done[32];
    unsigned n = nvme_reap(t->nvme, &t->nvme->io, done, 32);
    if (!n)
        return 0;
    uint64_t now = uptime_us();
    uint64_t gap = now - t->last_done_us;
    if (gap > t->st.max_gap_us)
        t->st.max_gap_us = gap;
    t->last_done_us = now;
    for (unsigned i = 0; i < n; i++)
        complete(t, &done[i], now);
    return n;
}

static void check_timeouts(struct traffic *t, uint64_t now)
{
    if (now - t->last_timeout_check_us < 1000)
        return;
    t->last_timeout_check_us = now;
    if (t->nvme->dead || nvme_check_fatal(t->nvme)) {
        set_failed(t, t->nvme->error.text);
        return;
    }
    for (uint32_t i = 0; i < t->depth; i++) {
        const struct traffic_slot *s = &t->slots[i];
        if (s->busy && now - s->submit_us > t->cfg.timeout_us) {
            char msg[120];
            ksnprintf(msg, sizeof(msg), "%s LBA %llu (cid %u) not completed after %llu us",
                      s->write ? "WRITE" : "READ", (unsigned long long)unit_lba(t, s->unit), i,
                      (unsigned long long)(now - s->submit_us));
            t->st.errors++;
            set_failed(t, msg);
            return;
        }
    }
}

static int free_slot(const struct traffic *t)
{
    for (uint32_t i = 0; i < t->depth; i++)
        if (!t->slots[i].busy)
            return (int)i;
    return -1;
}

/* A unit no command is using, near a random one. */
static uint32_t pick_unit(struct traffic *t)
{
    uint32_t u = (uint32_t)(xorshift(&t->rng) % t->units);
    while (t->busy[u])
        u = u + 1 == t->units ? 0 : u + 1;
    return u;
}

/* The re-read of a suspect's unit, once no window is open. */
static bool submit_reread(struct traffic *t, uint16_t slot)
{
    if (!t->suspects_held || (__atomic_load_n(&t->window_gen, __ATOMIC_ACQUIRE) & 1))
        return false;
    for (uint32_t i = t->suspect_tail; i != t->suspect_head; i++) {
        struct traffic_suspect *x = &t->suspect[i % TRAFFIC_SUSPECTS];
        if (x->state != SUSPECT_PENDING || x->reread_sent)
            continue;
        x->reread_sent = true;
        if (submit(t, slot, x->unit, false))
            t->slots[slot].reread = (int)(i % TRAFFIC_SUSPECTS);
        return true;
    }
    return false;
}

static void fill_queue(struct traffic *t)
{
    int slot;
    while (!t->failed && t->inflight < t->depth && (slot = free_slot(t)) >= 0) {
        if (submit_reread(t, (uint16_t)slot))
            continue;
        bool write = t->cfg.write && (xorshift(&t->rng) & 1);
        if (!submit(t, (uint16_t)slot, pick_unit(t), write))
            return;
    }
}

/* One command per unit, in unit order, as many in flight as the queue
 * holds, until all have completed: every unit, or only those whose last
 * write no read has checked (only_unread).  Returns how many were sent. */
static uint64_t sweep(struct traffic *t, bool write, bool only_unread)
{
    uint32_t next = 0;
    uint64_t sent = 0;
    t->last_done_us = uptime_us();
    while (!t->failed && (next < t->units || t->inflight)) {
        int slot;
        while (!t->failed && next < t->units && (slot = free_slot(t)) >= 0) {
            uint32_t u = next++;
            if ((!only_unread || t->unread[u]) && submit(t, (uint16_t)slot, u, write))
                sent++;
        }
        if (!reap(t)) {
            check_timeouts(t, uptime_us());
            cpu_relax();
        }
    }
    return sent;
}

/* Touch every unit once in order: write generation 1 (writable) or record
 * the checksum (read-only). */
static int prefill(struct traffic *t)
{
    uint64_t t0 = uptime_us();
    sweep(t, t->cfg.write, false);
    /* The statistics describe the steady state; pre-fill problems stay. */
    struct traffic_stats pre = t->st;
    memset(&t->st, 0, sizeof(t->st));
    t->st.prefill_us = uptime_us() - t0;
    t->st.errors = pre.errors;
    t->st.mismatches = pre.mismatches;
    return t->failed ? -1 : 0;
}

int traffic_start(struct traffic *t, struct nvme_ctrl *nvme, const struct traffic_config *cfg)
{
    if (setup(t, nvme, cfg) || prefill(t))
        return -1;
    t->running = true;
    t->start_us = t->last_done_us = t->last_timeout_check_us = uptime_us();
    fill_queue(t);
    return t->failed ? -1 : 0;
}

bool traffic_poll(struct traffic *t)
{
    if (!t->running)
        return false;
    reap(t);
    check_timeouts(t, uptime_us());
    fill_queue(t);
    return !t->failed;
}

bool traffic_run_for(struct traffic *t, uint64_t us)
{
    uint64_t dl = deadline_after_us(us);
    while (!deadline_passed(dl))
        if (!traffic_poll(t))
            return false;
    return true;
}

/* Read back every unit whose last write no read has checked since.  A
 * write whose data the device fetched through a wrong or stale translation
 * completes with success (QEMU's NVMe does not report the DMA error), and
 * the random mix may never read that unit again before the run ends: this
 * pass makes sure every write is verified.  It is not part of the figures
 * of the run; its errors and mismatches are. */
static void read_back_unread(struct traffic *t)
{
    struct traffic_stats keep = t->st;
    keep.read_back = sweep(t, false, true);
    keep.read_back_mismatches = t->st.mismatches - keep.mismatches;
    keep.errors = t->st.errors;
    keep.mismatches = t->st.mismatches;
    keep.unverified = t->st.unverified;
    t->st = keep;
}

void traffic_stop(struct traffic *t)
{
    if (!t->running)
        return;
    t->running = false;
    uint64_t end = uptime_us();
    uint64_t dl = deadline_after_us(t->cfg.timeout_us);
    while (t->inflight && !deadline_passed(dl) && !t->nvme->dead) {
        if (!reap(t))
            cpu_relax();
    }
    t->st.elapsed_us = end - t->start_us;
    if (!t->inflight && !t->failed && !t->nvme->dead)
        read_back_unread(t);
    if (t->inflight) {
        char msg[120];
        ksnprintf(msg, sizeof(msg), "%u commands still outstanding at stop; controller disabled",
                  t->inflight);
        t->st.errors += t->inflight;
        set_failed(t, msg);
        nvme_disable(t->nvme); /* no DMA may land in buffers we hand back */
        t->nvme->dead = true;
    }
}

uint64_t traffic_percentile_us(const struct traffic_stats *s, unsigned permille)
{
    uint64_t total = 0, seen = 0;
    for (unsigned i = 0; i < TRAFFIC_HIST; i++)
        total += s->hist[i];
    if (!total)
        return 0;
    uint64_t want = (total * permille + 999) / 1000;
    for (unsigned i = 0; i < TRAFFIC_HIST; i++) {
        seen += s->hist[i];
        if (seen >= want)
            return 2ull << i;
    }
    return s->max_latency_us;
}

int traffic_summary(const struct traffic *t, const char *label, char *buf, unsigned size)
{
    const struct traffic_stats *s = &t->st;
    uint64_t ms = s->elapsed_us / 1000 ? s->elapsed_us / 1000 : 1;
    return ksnprintf(buf, size,
                     "traffic %s: %llu ops (%llu reads, %llu writes) in %llu ms: %llu IOPS, "
                     "%llu KB/s; qd %u io %u B; errors %llu mismatches %llu; latency p50 <%llu us "
                     "p99 <%llu us max %llu us; max gap %llu us",
                     label, (unsigned long long)s->ops, (unsigned long long)s->reads,
                     (unsigned long long)s->writes, (unsigned long long)ms,
                     (unsigned long long)(s->ops * 1000 / ms), (unsigned long long)(s->bytes / ms),
                     t->depth, t->cfg.io_bytes, (unsigned long long)s->errors,
                     (unsigned long long)s->mismatches,
                     (unsigned long long)traffic_percentile_us(s, 500),
                     (unsigned long long)traffic_percentile_us(s, 990),
                     (unsigned long long)s->max_latency_us, (unsigned long long)s->max_gap_us);
}

bool traffic_self_test(struct why *why)
{
    static uint64_t words[512 / 8];
    uint8_t *b = (uint8_t *)words;
    fill_block(b, sizeof(words), 77, 5);
    if (!check_block(b, sizeof(words), 77, 5, why))
        return why_set(why, "a good block does not verify");
    if (check_block(b, sizeof(words), 78, 5, why))
        return why_set(why, "a misdirected block verifies");
    if (check_block(b, sizeof(words), 77, 6, why))
        return why_set(why, "a stale block verifies");
    b[300] ^= 1;
    if (check_block(b, sizeof(words), 77, 5, why))
        return why_set(why, "a corrupted block verifies");
    why_clear(why);
    return true;
}
