/* Asking an IPMI BMC about its watchdog over the KCS interface (IPMI 2.0,
 * chapter 9: KCS; 27.7: Get Watchdog Timer).  One request, every wait on
 * the interface bounded, nothing changed on the BMC. */
#ifndef DRIVERS_IPMI_KCS_H
#define DRIVERS_IPMI_KCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/why.h"

/* Port access, so the host tests can play the BMC. */
struct kcs_io {
    uint8_t (*in)(void *ctx, uint16_t port);
    void (*out)(void *ctx, uint16_t port, uint8_t v);
    void *ctx;
};

struct kcs_port {
    const struct kcs_io *io;
    uint16_t data, status; /* status/command register */
    uint64_t timeout_us;   /* per wait for IBF or OBF */
};

/* The KCS status register (IPMI 2.0, table 9-1). */
#define KCS_OBF 0x01
#define KCS_IBF 0x02
#define KCS_STATE(s) ((s) >> 6)
enum { KCS_IDLE, KCS_READ_STATE, KCS_WRITE_STATE, KCS_ERROR_STATE };
/* Control codes (table 9-3). */
#define KCS_WRITE_START 0x61
#define KCS_WRITE_END 0x62
#define KCS_READ 0x68

/* One request (netfn/LUN, command, data) and its response; the response
 * length, or -1 with why set. */
int kcs_transact(const struct kcs_port *p, const uint8_t *req, size_t n, uint8_t *rsp,
                 size_t max, struct why *why);

struct ipmi_watchdog {
    bool running;
    uint8_t use, action;        /* timer use (bits 2:0), timeout action (bits 2:0) */
    uint16_t initial, present;  /* countdown, 100 ms units */
};

/* Get Watchdog Timer (netfn App, command 0x25).  False with why when the
 * BMC did not answer it. */
bool ipmi_get_watchdog(const struct kcs_port *p, struct ipmi_watchdog *w, struct why *why);

/* The KCS interface of an SMBIOS type 38 record in I/O space: data port,
 * status port (register spacing from the modifier).  false when the record
 * is not a KCS in I/O space. */
bool kcs_ports_from_smbios(uint8_t interface, uint64_t base, uint8_t modifier, uint16_t *data,
                           uint16_t *status);

#endif
