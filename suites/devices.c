/* Suite `devices` (temporary, until the IOMMU suites drive these devices):
 * the PCI, edu and NVMe drivers with translation off, so every device
 * address is the physical address. */
#include "arch/x86/paging.h"
#include "arch/x86/tsc.h"
#include "drivers/edu.h"
#include "drivers/nvme.h"
#include "drivers/pci.h"
#include "drivers/traffic.h"
#include "lib/kstring.h"
#include "lib/ktap.h"
#include "lib/page.h"
#include "lib/parse.h"
#include "lib/why.h"
#include "app/platform.h"
#include "app/nvme_pick.h"
#include "app/run.h"
#include "app/suite.h"

static struct nvme_ctrl nvme;
static struct traffic traffic;
static bool nvme_ready;

/* ECAM windows from MCFG; none (legacy port access) when ACPI has none. */
static unsigned ecam_windows(struct pci_ecam_window *w, unsigned max)
{
    if (!platform.mcfg_present || !platform.mcfg.valid)
        return 0;
    unsigned n = 0;
    for (unsigned i = 0; i < platform.mcfg.count && n < max; i++, n++)
        w[n] = (struct pci_ecam_window){.base = platform.mcfg.windows[i].base,
                                        .segment = platform.mcfg.windows[i].segment,
                                        .start_bus = platform.mcfg.windows[i].start_bus,
                                        .end_bus = platform.mcfg.windows[i].end_bus};
    return n;
}

static void case_enumerate(void)
{
    struct pci_ecam_window w[PCI_MAX_WINDOWS];
    unsigned nw = ecam_windows(w, PCI_MAX_WINDOWS);
    for (unsigned i = 0; i < nw; i++)
        ktap_diag("ECAM segment %u buses %02x-%02x at %#llx", w[i].segment, w[i].start_bus,
                  w[i].end_bus, (unsigned long long)w[i].base);
    uint64_t t0 = uptime_us();
    unsigned n = pci_init(w, nw);
    ktap_diag("%u functions via %s config access in %llu us, %u problems", n, pci_access_mode(),
              (unsigned long long)(uptime_us() - t0), pci_problems());
    for (unsigned i = 0; i < n; i++) {
        char line[200];
        pci_describe(pci_get(i), line, sizeof(line));
        ktap_diag("%s", line);
    }
    const struct pci_dev *host = pci_find_bdf(0, 0, 0, 0);
    if (!n || !host)
        ktap_case(KTAP_FAIL, "pci_enumerate", "%u functions, no 00:00.0", n);
    else if (pci_problems())
        ktap_case(KTAP_FAIL, "pci_enumerate", "%u problems reported", pci_problems());
    else
        ktap_case(KTAP_PASS, "pci_enumerate", NULL);
}

/* ECAM and the legacy ports must agree on the identity of segment 0's
 * functions (and the legacy path must work at all, for MCFG-less boots). */
static void case_legacy_agrees(void)
{
    if (strcmp(pci_access_mode(), "ecam")) {
        ktap_case(KTAP_SKIP, "pci_legacy_agrees", "no MCFG: legacy access is the only path");
        return;
    }
    unsigned checked = 0, bad = 0;
    for (unsigned i = 0; i < pci_count(); i++) {
        const struct pci_dev *d = pci_get(i);
        if (d->seg)
            continue;
        for (uint8_t off = 0; off < 0x10; off += 4) {
            uint32_t a = pci_read32(d, off), b = pci_legacy_read32(d->bus, d->dev, d->fn, off);
            /* Offset 4 holds the status register, whose bits may change. */
            if (off == 4 ? (a & 0xffff) != (b & 0xffff) : a != b) {
                ktap_diag("%02x:%02x.%x offset %#x: ecam %#x legacy %#x", d->bus, d->dev, d->fn,
                          off, a, b);
                bad++;
            }
        }
        checked++;
    }
    ktap_case(checked && !bad ? KTAP_PASS : KTAP_FAIL, "pci_legacy_agrees",
              "%u functions, %u mismatches", checked, bad);
}

/* BAR sizing must leave BARs and command registers exactly as found. */
static void case_bar_restore(void)
{
    unsigned changed = 0;
    for (unsigned i = 0; i < pci_count(); i++) {
        struct pci_dev *d = pci_get(i);
        uint32_t before[7], after[7];
        for (unsigned b = 0; b < 6; b++)
            before[b] = pci_read32(d, PCI_BAR0 + 4 * b);
        before[6] = pci_read16(d, PCI_COMMAND);
        struct pci_bar saved[6];
        memcpy(saved, d->bars, sizeof(saved));
        pci_read_bars(d);
        for (unsigned b = 0; b < 6; b++)
            after[b] = pci_read32(d, PCI_BAR0 + 4 * b);
        after[6] = pci_read16(d, PCI_COMMAND);
        if (memcmp(before, after, sizeof(before)) || memcmp(saved, d->bars, sizeof(saved))) {
            ktap_diag("%02x:%02x.%x changed by a second sizing", d->bus, d->dev, d->fn);
            changed++;
        }
    }
    ktap_case(changed ? KTAP_FAIL : KTAP_PASS, "pci_bar_sizing_restores", "%u changed", changed);
}

/* --- edu -------------------------------------------------------------------- */

#define CANARY 0xc3

static bool canaries_intact(const uint8_t *p, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (p[i] != CANARY)
            return false;
    return true;
}

static void case_edu(void)
{
    struct pci_dev *d = pci_find_id(EDU_VENDOR, EDU_DEVICE, 0);
    if (!d) {
        ktap_case(KTAP_SKIP, "edu_identify", "no edu device (1234:11e8) found");
        ktap_case(KTAP_SKIP, "edu_dma_roundtrip", "no edu device (1234:11e8) found");
        return;
    }
    struct edu e;
    enum edu_status s = edu_init(&e, d);
    ktap_diag("edu at %02x:%02x.%x BAR0 %#llx ident %#x", d->bus, d->dev, d->fn,
              (unsigned long long)e.mmio, e.ident);
    ktap_case(s == EDU_OK ? KTAP_PASS : KTAP_FAIL, "edu_identify", "%s", edu_status_name(s));
    if (s != EDU_OK) {
        ktap_case(KTAP_SKIP, "edu_dma_roundtrip", "edu did not initialise");
        return;
    }
    /* Page 0: source, page 1: destination; the transfer covers [1024, 3072)
     * of each and the bytes around it are canaries. */
    uint8_t *buf = page_alloc_constrained(2, PAGE_SIZE, EDU_DMA_LIMIT);
    if (!buf) {
        ktap_case(KTAP_FAIL, "edu_dma_roundtrip", "no memory below 256 MiB");
        return;
    }
    const uint32_t off = 1024, len = 2048, dev_off = 512;
    memset(buf, CANARY, 2 * PAGE_SIZE);
    for (uint32_t i = 0; i < len; i++)
        buf[off + i] = (uint8_t)(i * 7 + 3);
    uint64_t t0 = uptime_us();
    uint64_t pa = virt_to_phys(buf);
    s = edu_dma_to_device(&e, pa + off, dev_off, len);
    uint64_t t1 = uptime_us();
    if (s == EDU_OK)
        s = edu_dma_from_device(&e, pa + PAGE_SIZE + off, dev_off, len);
    uint64_t t2 = uptime_us();
    ktap_diag("edu transfers took %llu us and %llu us", (unsigned long long)(t1 - t0),
              (unsigned long long)(t2 - t1));
    bool same = s == EDU_OK && !memcmp(buf + off, buf + PAGE_SIZE + off, len);
    bool canaries = canaries_intact(buf, 0, off) &&
                    canaries_intact(buf, off + len, PAGE_SIZE + off) &&
                    canaries_intact(buf, PAGE_SIZE + off + len, 2 * PAGE_SIZE);
    enum edu_status bad = edu_dma_to_device(&e, EDU_DMA_LIMIT - 16, 0, 64);
    if (s != EDU_OK)
        ktap_case(KTAP_FAIL, "edu_dma_roundtrip", "%s", edu_status_name(s));
    else if (!same || !canaries)
        ktap_case(KTAP_FAIL, "edu_dma_roundtrip", "%s", !same ? "data differs" : "canary hit");
    else if (bad != EDU_BAD_ARGS)
        ktap_case(KTAP_FAIL, "edu_dma_roundtrip", "an IOVA beyond 28 bits was accepted");
    else
        ktap_case(KTAP_PASS, "edu_dma_roundtrip", NULL);
    page_free(buf, 2);
}

/* --- NVMe ------------------------------------------------------------------- */

static void case_nvme_identify(void)
{
    struct why why;
    struct pci_dev *d = nvme_pick(" (class 010802) found", &why);
    if (!d) {
        ktap_case(KTAP_SKIP, "nvme_identify", "%s", why.text);
        return;
    }
    uint64_t t0 = uptime_us();
    if (nvme_init(&nvme, d, 0, 0) || nvme_create_io_queues(&nvme, cfg.queue_depth + 1)) {
        ktap_case(KTAP_FAIL, "nvme_identify", "%02x:%02x.%x: %s", d->bus, d->dev, d->fn,
                  nvme.error.text);
        return;
    }
    nvme_write_policy(&nvme, cfg.nvme_write);
    ktap_diag("nvme %02x:%02x.%x \"%s\" serial \"%s\" fw \"%s\" version %#x, ready in %llu us",
              d->bus, d->dev, d->fn, nvme.model, nvme.serial, nvme.firmware, nvme.vs,
              (unsigned long long)(uptime_us() - t0));
    ktap_diag("nvme CAP %#llx: MQES+1 %u, timeout %u ms, doorbell stride %u; max transfer %u KiB",
              (unsigned long long)nvme.cap, nvme.max_entries, nvme.ready_timeout_us / 1000,
              nvme.db_stride, nvme.max_xfer / 1024);
    ktap_diag("nvme namespace %u: %llu blocks of %u bytes (%llu MiB); I/O queue depth %u; %s",
              nvme.nsid, (unsigned long long)nvme.ns_blocks, nvme.lba_size,
              (unsigned long long)(nvme.ns_blocks * nvme.lba_size >> 20), nvme.io.depth,
              nvme.write_why);
    nvme_ready = true;
    ktap_case(KTAP_PASS, "nvme_identify", NULL);
}

/* One synchronous transfer of buf[0, len) at lba; on failure, why says so. */
static bool xfer(bool write, uint64_t lba, uint8_t *buf, uint32_t len, uint64_t *list,
                 struct why *why)
{
    struct nvme_prp prp;
    char name[48];
    nvme_build_prp(dma_pool_iova(&nvme.pool, buf), len, list, dma_pool_iova(&nvme.pool, list),
                   &prp);
    int s = nvme_rw_sync(&nvme, write, lba, len / nvme.lba_size, &prp);
    if (s)
        return why_set(why, "%s %u bytes at page offset %u: %s", write ? "WRITE" : "READ", len,
                       (unsigned)(virt_to_phys(buf) & 0xfff),
                       s < 0 ? nvme.error.text : nvme_status_name((uint16_t)s, name, sizeof(name)));
    return true;
}

/* Transfers that take each PRP form: PRP1 only, PRP1 + PRP2, an unaligned
 * start that spills into a second page, and PRP lists.  Read-only disks:
 * the first read is the reference for the second. */
static bool rw_one(uint8_t *wbuf, uint8_t *rbuf, uint64_t *list, uint64_t lba, uint32_t off,
                   uint32_t len, struct why *why)
{
    if (nvme.writable)
        for (uint32_t i = 0; i < len; i++)
            wbuf[off + i] = (uint8_t)(lba * 31 + i * 13 + (i >> 9));
    if (!xfer(nvme.writable, lba, wbuf + off, len, list, why))
        return false;
    memset(rbuf, 0xa5, off + len + 64);
    if (!xfer(false, lba, rbuf + off, len, list, why))
        return false;
    if (memcmp(wbuf + off, rbuf + off, len))
        return why_set(why, "%u bytes at +%u read back differently", len, off);
    for (uint32_t i = 0; i < 64; i++)
        if (rbuf[off + len + i] != 0xa5)
            return why_set(why, "READ of %u bytes wrote past its end", len);
    return true;
}

static void case_nvme_rw(void)
{
    if (!nvme_ready) {
        ktap_case(KTAP_SKIP, "nvme_rw_prp", "no usable NVMe controller");
        return;
    }
    const uint32_t max = 128 * 1024;
    uint64_t iova;
    uint8_t *wbuf = dma_pool_alloc(&nvme.pool, max / PAGE_SIZE + 2, &iova);
    uint8_t *rbuf = dma_pool_alloc(&nvme.pool, max / PAGE_SIZE + 2, &iova);
    uint64_t *list = dma_pool_alloc(&nvme.pool, 1, &iova);
    if (!wbuf || !rbuf || !list) {
        ktap_case(KTAP_FAIL, "nvme_rw_prp", "no DMA memory");
        return;
    }
    uint32_t bs = nvme.lba_size;
    const struct {
        uint32_t off, len;
    } cases[] = {
        {0, 4096}, {0, 8192}, {bs, 4096}, {0, 16384}, {bs, 3 * 4096}, {0, cfg.io_kib * 1024},
        {0, max},
    };
    struct why why = {""};
    bool ok = true;
    unsigned done = 0;
    uint64_t lba = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        uint32_t len = cases[i].len, off = cases[i].off;
        if (len % bs || len > nvme.max_xfer || off + len > (max / PAGE_SIZE + 2) * PAGE_SIZE)
            continue;
        ok = rw_one(wbuf, rbuf, list, lba, off, len, &why);
        if (!ok)
            break;
        lba += len / bs;
        done++;
    }
    ktap_diag("nvme %s: %u transfers of 4 KiB..%u KiB verified",
              nvme.writable ? "write+read" : "read+re-read", done, max / 1024);
    ktap_case(ok ? KTAP_PASS : KTAP_FAIL, "nvme_rw_prp", "%s", why.text);
}

static void case_nvme_traffic(void)
{
    struct why why;
    if (!traffic_self_test(&why)) {
        ktap_case(KTAP_FAIL, "nvme_traffic", "block verifier: %s", why.text);
        return;
    }
    if (!nvme_ready) {
        ktap_case(KTAP_SKIP, "nvme_traffic", "no usable NVMe controller");
        return;
    }
    struct traffic_config tc = {
        .queue_depth = cfg.queue_depth,
        .io_bytes = cfg.io_kib * 1024,
        /* Room for four times the data in flight, so units rarely collide. */
        .window_bytes = 4ull * cfg.queue_depth * cfg.io_kib * 1024 > (4u << 20)
                            ? 4ull * cfg.queue_depth * cfg.io_kib * 1024
                            : 4u << 20,
        .write = nvme.writable,
        .seed = 1,
    };
    if (traffic_start(&traffic, &nvme, &tc)) {
        ktap_case(KTAP_FAIL, "nvme_traffic", "start: %s", traffic.error.text);
        return;
    }
    ktap_diag("traffic: %u units of %u bytes, %s in %llu ms", traffic.units, tc.io_bytes,
              tc.write ? "pre-filled" : "checksummed",
              (unsigned long long)traffic.st.prefill_us / 1000);
    traffic_run_for(&traffic, (uint64_t)cfg.traffic_ms * 1000);
    traffic_stop(&traffic);
    char line[256];
    traffic_summary(&traffic, tc.write ? "read/write" : "read-only", line, sizeof(line));
    ktap_diag("%s", line);
    const struct traffic_stats *st = &traffic.st;
    if (traffic.failed)
        ktap_case(KTAP_FAIL, "nvme_traffic", "%s", traffic.error.text);
    else if (st->errors || st->mismatches || !st->ops)
        ktap_case(KTAP_FAIL, "nvme_traffic", "%llu ops, %llu errors, %llu mismatches",
                  (unsigned long long)st->ops, (unsigned long long)st->errors,
                  (unsigned long long)st->mismatches);
    else
        ktap_case(KTAP_PASS, "nvme_traffic", NULL);
}

/* Leave the controller disabled: no DMA from it while other suites run. */
static void case_nvme_disable(void)
{
    if (!nvme_ready) {
        ktap_case(KTAP_SKIP, "nvme_disable", "no usable NVMe controller");
        return;
    }
    nvme_disable(&nvme);
    uint32_t csts = mmio_read32(nvme.regs + NVME_REG_CSTS);
    nvme_ready = false;
    ktap_case(csts & NVME_CSTS_RDY ? KTAP_FAIL : KTAP_PASS, "nvme_disable", "CSTS %#x", csts);
    dma_pool_release(&nvme.pool);
}

void suite_devices(void)
{
    ktap_suite_begin("devices", -1);
    case_enumerate();
    case_legacy_agrees();
    case_bar_restore();
    case_edu();
    case_nvme_identify();
    case_nvme_rw();
    case_nvme_traffic();
    case_nvme_disable();
    ktap_suite_end();
}

SUITE("devices", 45, suite_devices);
