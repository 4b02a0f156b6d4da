// HOST-DEPS: drivers/nvme.c drivers/nvme_io.c lib/printf.c lib/ktap.c lib/parse.c lib/why.c
/* The NVMe driver against a controller that answers badly.
 *
 * The driver reaches its registers with plain MMIO loads and stores
 * (mmio_read32/mmio_write32 from arch/x86/cpu.h, volatile accesses), so on
 * an x86-64 host a fake register block is just memory: BAR0 "maps" to a
 * buffer whose CSTS nobody updates.  No change to drivers/nvme.c is
 * needed.  The TSC runs at its real rate; tsc_hz is set low so the
 * controller's CAP.TO budget (500 ms) passes in well under a millisecond.
 *   - CSTS.RDY never sets after CC.EN: bounded, "CSTS.RDY did not become 1";
 *   - registers all ones (controller gone): refused at once;
 *   - CSTS.CFS (fatal) while enabling: refused with the status;
 *   - RDY never clears on disable (controller stuck on): bounded, said;
 *   - nvme_stop_regs (the end of a run): stops a running controller (a
 *     thread plays it, dropping RDY after EN clears), is bounded by the
 *     caller's cap even with CAP.TO = 127.5 s, waits for a rising RDY
 *     before clearing EN, and refuses a controller that reads all ones. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>

#include "drivers/dma.h"
#include "drivers/nvme.h"
#include "drivers/pci.h"
#include "lib/printf.h"
#include "tests/host/check.h"

CHECK_STATE_DEFINE;

/* ---- what arch/x86/tsc.c provides on target -------------------------------- */

uint64_t tsc_hz = 100000000; /* 100 MHz "TSC": 500 ms of budget = 50 M ticks */
uint64_t tsc_boot;
const char *volatile wait_last_what = "nothing yet";
static unsigned timeouts;
static char last_timeout[96];

void wait_timed_out(const char *what, uint64_t us)
{
    timeouts++;
    snprintf(last_timeout, sizeof(last_timeout), "%s after %llu us", what, (unsigned long long)us);
}

/* ---- the fake register block and the PCI / DMA fakes ------------------------ */

static _Alignas(4096) uint8_t regs[0x2000];
static _Alignas(4096) uint8_t dma_mem[64][4096];
static unsigned dma_used;

static uint32_t reg32(unsigned off)
{
    uint32_t v;
    memcpy(&v, regs + off, 4);
    return v;
}

static void set_reg32(unsigned off, uint32_t v)
{
    memcpy(regs + off, &v, 4);
}

static void set_reg64(unsigned off, uint64_t v)
{
    memcpy(regs + off, &v, 8);
}

uint64_t pci_map_bar(const struct pci_dev *d, unsigned bar, uint64_t min_size)
{
    (void)d, (void)bar, (void)min_size;
    return (uint64_t)(uintptr_t)regs;
}
void pci_enable_mem(const struct pci_dev *d)
{
    (void)d;
}
void pci_set_master(const struct pci_dev *d, bool on)
{
    (void)d, (void)on;
}
uint16_t pci_read16(const struct pci_dev *d, uint16_t off)
{
    (void)d, (void)off;
    return 0;
}
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v)
{
    (void)d, (void)off, (void)v;
}
void dma_pool_init(struct dma_pool *p, const struct dma_space *space, uint64_t limit)
{
    memset(p, 0, sizeof(*p));
    p->space = *space;
    p->limit = limit;
}
void *dma_pool_alloc(struct dma_pool *p, uint64_t pages, uint64_t *iova)
{
    (void)p;
    if (dma_used + pages > 64)
        return NULL;
    void *v = dma_mem[dma_used];
    memset(v, 0, pages * 4096);
    dma_used += (unsigned)pages;
    *iova = (uint64_t)(uintptr_t)v;
    return v;
}

static struct pci_dev dev;
static struct nvme_ctrl ctrl;
static const struct dma_space identity;

/* CAP: MQES 63, TO 1 (500 ms), DSTRD 0, CSS NVM, MPSMIN 0. */
#define GOOD_CAP (63ULL | 1ULL << 24 | 1ULL << 37)

static void reset_fake(void)
{
    memset(regs, 0, sizeof(regs));
    set_reg64(NVME_REG_CAP, GOOD_CAP);
    set_reg32(NVME_REG_VS, 0x10400);
    dma_used = 0;
    timeouts = 0;
    last_timeout[0] = 0;
    memset(&dev, 0, sizeof(dev));
    dev.bars[0].size = sizeof(regs);
}

static uint64_t host_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

TEST(never_ready)
{
    reset_fake();
    uint64_t t0 = host_ms();
    CHECK(nvme_init(&ctrl, &dev, &identity, 0) != 0, "must fail");
    CHECK(reg32(NVME_REG_CC) & NVME_CC_EN, "the driver did enable it");
    CHECK(strstr(ctrl.error.text, "CSTS.RDY did not become 1 within 500 ms"), "error: %s",
          ctrl.error.text);
    CHECK(timeouts == 1 && strstr(last_timeout, "NVMe CSTS.RDY=1"), "timeout: %s", last_timeout);
    CHECK(!strcmp((const char *)wait_last_what, "NVMe CSTS.RDY=1"), "last wait named: %s",
          wait_last_what);
    CHECK(host_ms() - t0 < 5000, "bounded (%llu ms)", (unsigned long long)(host_ms() - t0));
}

TEST(all_ones_refused)
{
    reset_fake();
    memset(regs, 0xff, sizeof(regs));
    CHECK(nvme_init(&ctrl, &dev, &identity, 0) != 0, "must fail");
    CHECK(strstr(ctrl.error.text, "registers read all ones"), "error: %s", ctrl.error.text);
    CHECK(timeouts == 0, "no wait on a controller that is not there");
}

TEST(fatal_status_while_enabling)
{
    reset_fake();
    set_reg32(NVME_REG_CSTS, NVME_CSTS_CFS);
    CHECK(nvme_init(&ctrl, &dev, &identity, 0) != 0, "must fail");
    CHECK(strstr(ctrl.error.text, "controller fatal status (CSTS 0x2)"), "error: %s",
          ctrl.error.text);
    CHECK(ctrl.dead, "marked dead");
}

TEST(never_disables)
{
    reset_fake();
    /* Left enabled and ready by firmware, and RDY never drops. */
    set_reg32(NVME_REG_CC, NVME_CC_EN);
    set_reg32(NVME_REG_CSTS, NVME_CSTS_RDY);
    CHECK(nvme_init(&ctrl, &dev, &identity, 0) != 0, "must fail");
    CHECK(strstr(ctrl.error.text, "CSTS.RDY did not become 0"), "error: %s", ctrl.error.text);
    CHECK(strstr(last_timeout, "NVMe CSTS.RDY=0"), "timeout: %s", last_timeout);
}

/* ---- nvme_stop_regs: the end of a run stops a controller by its registers ---- */

/* A controller that drops RDY a little after EN is cleared. */
static volatile bool emulate;
static void *controller(void *arg)
{
    (void)arg;
    while (emulate) {
        if (!(__atomic_load_n((uint32_t *)(regs + NVME_REG_CC), __ATOMIC_ACQUIRE) & NVME_CC_EN)) {
            usleep(200);
            __atomic_store_n((uint32_t *)(regs + NVME_REG_CSTS), 0, __ATOMIC_RELEASE);
        }
        usleep(50);
    }
    return NULL;
}

TEST(stop_running_controller)
{
    reset_fake();
    /* The thread that plays the controller may be scheduled late on a busy
     * host (make test beside other jobs): give the stop CAP.TO = 127.5 s
     * and a 100 s cap, about 4 s of real time at the fake 100 MHz rate.  A
     * working stop returns as soon as RDY drops. */
    set_reg64(NVME_REG_CAP, GOOD_CAP | 255ULL << 24);
    set_reg32(NVME_REG_CC, NVME_CC_EN | NVME_CC_IOSQES_64);
    set_reg32(NVME_REG_CSTS, NVME_CSTS_RDY);
    pthread_t th;
    emulate = true;
    pthread_create(&th, NULL, controller, NULL);
    uint32_t csts = 0xdead;
    uint64_t us = 0;
    int rc = nvme_stop_regs((uint64_t)(uintptr_t)regs, 100000000, &csts, &us);
    emulate = false;
    pthread_join(th, NULL);
    CHECK(rc == 0, "stop failed: CSTS %#x", csts);
    CHECK(reg32(NVME_REG_CC) == NVME_CC_IOSQES_64, "CC %#x: only EN cleared", reg32(NVME_REG_CC));
    CHECK(csts == 0 && timeouts == 0, "CSTS %#x, %u timeouts", csts, timeouts);
}

TEST(stop_stuck_controller_is_bounded)
{
    reset_fake();
    /* CAP.TO = 255 (127.5 s): the caller's cap (1 ms) wins. */
    set_reg64(NVME_REG_CAP, GOOD_CAP | 255ULL << 24);
    set_reg32(NVME_REG_CC, NVME_CC_EN);
    set_reg32(NVME_REG_CSTS, NVME_CSTS_RDY);
    uint64_t t0 = host_ms();
    uint32_t csts;
    uint64_t us;
    CHECK(nvme_stop_regs((uint64_t)(uintptr_t)regs, 1000, &csts, &us) == -1, "RDY stuck at 1");
    CHECK(host_ms() - t0 < 1000, "bounded by max_us (%llu ms)",
          (unsigned long long)(host_ms() - t0));
    CHECK(!(reg32(NVME_REG_CC) & NVME_CC_EN), "EN cleared all the same");
    CHECK(csts == NVME_CSTS_RDY && strstr(last_timeout, "NVMe CSTS.RDY=0 (stop)"),
          "CSTS %#x, timeout: %s", csts, last_timeout);
}

TEST(stop_enabling_controller_waits_for_rdy_first)
{
    reset_fake();
    /* EN set, RDY not yet: EN is cleared only after RDY rose or the
     * budget ran out (here it never rises: both waits time out). */
    set_reg32(NVME_REG_CC, NVME_CC_EN);
    uint32_t csts;
    uint64_t us;
    CHECK(nvme_stop_regs((uint64_t)(uintptr_t)regs, 1000, &csts, &us) == 0, "RDY is 0: stopped");
    CHECK(timeouts == 1 && strstr(last_timeout, "before stopping"), "timeout: %s", last_timeout);
    CHECK(!(reg32(NVME_REG_CC) & NVME_CC_EN), "EN cleared");
}

TEST(stop_gone_or_idle)
{
    reset_fake();
    uint32_t csts;
    uint64_t us;
    CHECK(nvme_stop_regs((uint64_t)(uintptr_t)regs, 1000, &csts, &us) == 0 && !timeouts,
          "a disabled controller is stopped without waiting");
    memset(regs, 0xff, sizeof(regs));
    CHECK(nvme_stop_regs((uint64_t)(uintptr_t)regs, 1000, &csts, &us) == -1 && !timeouts,
          "all ones: reported at once");
}

int main(void)
{
#if defined(__x86_64__)
    RUN(stop_running_controller);
    RUN(stop_stuck_controller_is_bounded);
    RUN(stop_enabling_controller_waits_for_rdy_first);
    RUN(stop_gone_or_idle);
    RUN(never_ready);
    RUN(all_ones_refused);
    RUN(fatal_status_while_enabling);
    RUN(never_disables);
#endif
    return check_finish();
}
