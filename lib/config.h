/* Run options: `key=value` words from the load options and \vtdsync.cfg.
 *
 * Defaults first, then the file, then the load options (which win).  An
 * unknown key or a bad value gets a diagnostic naming where it came from,
 * and the default stays.  Portable: host tests compile it unchanged. */
#ifndef LIB_CONFIG_H
#define LIB_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

enum strategy { STRATEGY_ENTRY_SYNC, STRATEGY_CLEAR, STRATEGY_BOTH };
enum end_action { END_AUTO, END_EXIT, END_HALT, END_REBOOT, END_SHUTDOWN };
enum nvme_write_policy { NVME_WRITE_DENY, NVME_WRITE_ALLOW };

struct config {
    char suites[128]; /* comma-separated suite names, or "all" */
    uint32_t iterations;
    uint32_t stress;
    uint32_t strategy; /* enum strategy */
    uint32_t window_us;
    char device[32];    /* SEG:BB:DD.F of the traffic device, "" = auto */
    char nvme_write[16]; /* "deny", "allow" or a namespace id */
    char console[48];   /* auto | com1 | com2 | spcr | io:PORT[,BAUD] | mmio:ADDR[,BAUD[,W]] */
    uint32_t verbose;
    uint32_t trace;
    uint32_t end; /* enum end_action */
    uint32_t timeout_s;
    uint32_t test_timeout_s;
    char test[16];  /* self-test hooks: crash, hang */
    char quirk[64]; /* comma-separated workarounds: pt_ctx_flush, [no_]pasid_reread */
    char bench[16]; /* traffic */
    uint32_t help;
    uint32_t dump_acpi;
    uint32_t json;
    uint32_t high_mem; /* put DMA buffers above 4 GiB when possible */
    uint32_t queue_depth;
    uint32_t io_kib;
    uint32_t traffic_ms;
    char mode[16]; /* VT-d mode: auto | legacy | scalable */
    char screen[16]; /* auto | off | WIDTHxHEIGHT (the GOP mode, chosen before boot services end) */
    uint32_t dmar_table; /* which DMAR to use when the firmware lists several (1 = first) */
    uint32_t soak_s;        /* soak mode: loop transitions and stress this long (0: off) */
    uint32_t soak_report_s; /* soak progress line every this many seconds */
    uint32_t runs;          /* with end=reboot: boots of the campaign (1: no campaign) */
    uint32_t evidence;   /* overlapping DMA operations each transition pair must show */
    uint32_t evidence_ms; /* how long a pair may try to reach its evidence */
    int problems; /* diagnostics printed while parsing */
};

void config_defaults(struct config *c);
/* Apply one source: whitespace-separated words; '#' starts a comment to
 * the end of the line.  `source` names it in diagnostics. */
void config_apply(struct config *c, const char *text, const char *source);
/* One "# key=value" line per option (the effective configuration). */
void config_print(const struct config *c);
void config_print_help(void);
/* screen=WIDTHxHEIGHT: the size asked for (false for auto, off or bad). */
bool config_screen_size(const char *v, uint32_t *width, uint32_t *height);
/* Is `name` in the comma-separated list `list` ("all" matches all)? */
bool config_list_has(const char *list, const char *name);
/* A duration "N", "Ns", "Nm", "Nh" or "Nd" in seconds; false on junk or
 * above `max` seconds. */
bool config_parse_duration(const char *v, uint64_t max, uint32_t *seconds);

#endif
