/* Verified NVMe traffic: keep the I/O queue full and check every byte.
 *
 * Writable disks: the working window is pre-filled, then reads and writes
 * are mixed.  Every logical block written carries a header (magic, LBA,
 * generation, checksum) and a payload derived from them, and a table keeps
 * the generation last written per unit, so a read that returns stale,
 * misdirected or torn data is caught.  Read-only disks: each unit is read
 * once to record its checksum, later reads must return the same data.
 *
 * Use: traffic_start(), then traffic_poll() in a loop for as long as the
 * test wants traffic, then traffic_stop(), which also reads back every unit
 * whose last write no read has checked yet, so every write is verified.
 * Nothing waits unbounded. */
#ifndef DRIVERS_TRAFFIC_H
#define DRIVERS_TRAFFIC_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/nvme.h"
#include "lib/why.h"

#define TRAFFIC_MAX_DEPTH 256
#define TRAFFIC_MAX_UNITS 16384
#define TRAFFIC_HIST 32                 /* latency buckets: [2^i, 2^(i+1)) microseconds */
#define TRAFFIC_BLOCK_MAGIC 0x76746473u /* "vtds" */
#define TRAFFIC_POISON 0xa5           /* a read's buffer before the device fills it */
#define TRAFFIC_SUSPECTS 64           /* poisoned reads awaiting their user's verdict */

struct traffic_config {
    uint32_t queue_depth;  /* commands in flight (clamped to the I/O queue) */
    uint32_t io_bytes;     /* per command: a multiple of the LBA size */
    uint64_t window_bytes; /* working area (clamped to the namespace) */
    uint64_t start_lba;
    bool write;          /* mix in writes; needs nvme->writable */
    uint32_t timeout_us; /* per command; 0: NVME_CMD_TIMEOUT_US */
    uint32_t seed;
    /* Keep a read that left its buffer all poison apart (t->suspect) for
     * the user to judge, instead of counting it a mismatch. */
    bool poisoned_reads_apart;
};

struct traffic_stats {
    uint64_t submitted; /* commands handed to the device (doorbell rung) */
    uint64_t ops, reads, writes, bytes;
    uint64_t errors;     /* failed commands and timeouts */
    uint64_t mismatches; /* reads whose data did not verify */
    uint64_t unverified; /* reads of units whose content is unknown */
    uint64_t poisoned;   /* reads that completed with their buffer still all poison */
    uint64_t window_writes; /* writes in flight while a window was open, re-read */
    uint64_t read_back;  /* units read back at stop (last write not yet read) */
    uint64_t read_back_mismatches; /* of those, how many did not verify */
    uint64_t max_gap_us; /* longest time without a completion while busy */
    uint64_t max_latency_us;
    uint64_t hist[TRAFFIC_HIST];
    uint64_t elapsed_us; /* from the end of the pre-fill to stop */
    uint64_t prefill_us;
};

/* Suspects, judged by the traffic's user, who knows the windows (the
 * times a translation may be missing) and the faults:
 *  - a read that completed with success but left its buffer all poison:
 *    the device never wrote it.  Lost (its DMA faulted in a breaking
 *    window, the disk is intact) or wrong?
 *  - a write that was in flight while a window was open (window_gen):
 *    did its data reach the disk?
 * The traffic re-reads the unit once no window is open and says what the
 * re-read found; the unit stays out of the random mix until then, so the
 * re-read checks exactly what the suspect should have read or written. */
enum traffic_suspect_state { SUSPECT_PENDING, SUSPECT_REREAD_OK, SUSPECT_REREAD_BAD };
struct traffic_suspect {
    bool write; /* a write that overlapped a window (else a poisoned read) */
    uint32_t unit;
    uint64_t lba, iova, bytes; /* the block and the command's buffer */
    uint64_t done_us;          /* when the command completed */
    bool reread_sent;
    volatile uint32_t state; /* enum traffic_suspect_state, published last */
};

struct traffic_slot {
    bool busy, write;
    int reread; /* >= 0: re-read of suspect (index into t->suspect) */
    uint32_t window_gen; /* traffic.window_gen when submitted */
    uint32_t unit;
    uint32_t gen; /* written generation (writes) */
    uint64_t submit_us;
    uint8_t *buf;
    uint64_t buf_iova;
    uint64_t *prp_list;
    uint64_t prp_list_iova;
};

struct traffic {
    struct nvme_ctrl *nvme;
    struct traffic_config cfg;
    struct traffic_stats st;
    uint32_t units, blocks_per_unit, depth;
    uint32_t *gen; /* per unit: generation written last, 0 = unknown */
    uint64_t *sum; /* per unit (read-only mode): checksum first read */
    uint8_t *busy; /* per unit: a command is in flight on it */
    uint8_t *unread; /* per unit: written, and no read has checked it since */
    struct traffic_slot *slots; /* [TRAFFIC_MAX_DEPTH], allocated on the first start */
    uint32_t inflight;
    uint64_t rng;
    uint64_t start_us, last_done_us, last_timeout_check_us;
    bool running, failed;
    /* Poisoned reads, a ring written by the traffic's CPU: suspect_head
     * counts every one ever recorded (index % TRAFFIC_SUSPECTS). */
    struct traffic_suspect *suspect; /* [TRAFFIC_SUSPECTS], with slots */
    volatile uint32_t suspect_head;
    volatile uint32_t suspect_tail; /* advanced by the user once judged */
    uint32_t suspects_held; /* units held out of the mix for a re-read */
    /* Bumped by the user as a window opens (odd) and closes (even); with
     * poisoned_reads_apart, writes in flight across a change are
     * suspects, and re-reads wait while it is odd. */
    volatile uint32_t window_gen;
    unsigned reported; /* mismatch/error lines printed */
    struct why error;
    /* Buffers stay allocated (in the controller's pool) between runs. */
    uint8_t *data;
    uint64_t data_iova, data_bytes;
    uint8_t *lists;
    uint64_t lists_iova, lists_bytes;
    uint32_t list_stride;
};

/* Allocate, pre-fill (writable) or record checksums (read-only) and start
 * the queue.  Returns 0, or -1 with t->error set. */
int traffic_start(struct traffic *t, struct nvme_ctrl *nvme, const struct traffic_config *cfg);
/* Reap completions, verify them, resubmit.  False once traffic failed. */
bool traffic_poll(struct traffic *t);
/* Run traffic_poll for `us` microseconds (bounded). */
bool traffic_run_for(struct traffic *t, uint64_t us);
/* Stop submitting, drain (bounded), fill the elapsed time.  A command that
 * never completes disables the controller so it cannot DMA later. */
void traffic_stop(struct traffic *t);
/* Latency below which `permille` of the operations completed (bucket top). */
uint64_t traffic_percentile_us(const struct traffic_stats *s, unsigned permille);
/* One summary line: ops, IOPS, KB/s, errors, latency percentiles, max gap. */
int traffic_summary(const struct traffic *t, const char *label, char *buf, unsigned size);
/* Checks that the block verifier catches a misdirected, stale and corrupt
 * block; false, with what it missed, when it does not. */
bool traffic_self_test(struct why *why);

#endif
