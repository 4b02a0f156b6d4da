/* edu DMA engine driver. */
#include "drivers/edu.h"

#include "arch/x86/cpu.h"
#include "arch/x86/tsc.h"

enum {
    EDU_REG_IDENT = 0x00,
    EDU_REG_ALIVE = 0x04,
    EDU_REG_DMA_SRC = 0x80,
    EDU_REG_DMA_DST = 0x88,
    EDU_REG_DMA_COUNT = 0x90,
    EDU_REG_DMA_CMD = 0x98,
};
enum {
    EDU_CMD_START = 1u << 0,
    EDU_CMD_FROM_DEVICE = 1u << 1, /* 0: host memory -> device buffer */
    EDU_CMD_IRQ = 1u << 2,
};
#define EDU_BUF_ADDR 0x40000u
#define EDU_BAR_SIZE (1u << 20)

const char *edu_status_name(enum edu_status s)
{
    static const char *const names[] = {"ok", "bad arguments", "busy", "timeout", "gone"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

bool edu_alive(const struct edu *e, uint32_t v)
{
    mmio_write32(e->mmio + EDU_REG_ALIVE, v);
    return mmio_read32(e->mmio + EDU_REG_ALIVE) == ~v;
}

enum edu_status edu_init(struct edu *e, struct pci_dev *d)
{
    e->pci = d;
    e->mmio = pci_map_bar(d, 0, EDU_BAR_SIZE);
    if (!e->mmio)
        return EDU_BAD_ARGS;
    pci_enable_mem(d);
    pci_set_master(d, true);
    e->ident = mmio_read32(e->mmio + EDU_REG_IDENT);
    if (e->ident == 0xffffffffu)
        return EDU_GONE;
    /* Identification is 0xRRrr00ed: major, minor, 00, ed. */
    if ((e->ident & 0xffff) != 0x00ed || !edu_alive(e, 0x12345678u) || !edu_alive(e, 0))
        return EDU_GONE;
    return EDU_OK;
}

bool edu_dma_busy(const struct edu *e)
{
    uint32_t cmd = mmio_read32(e->mmio + EDU_REG_DMA_CMD);
    return cmd != 0xffffffffu && (cmd & EDU_CMD_START);
}

enum edu_status edu_dma_start(const struct edu *e, bool to_device, uint64_t iova, uint32_t dev_off,
                              uint32_t len)
{
    /* QEMU stops the whole machine on a transfer outside the device
     * buffer, and silently truncates addresses above the mask: refuse. */
    if (!len || dev_off >= EDU_BUF_SIZE || len > EDU_BUF_SIZE - dev_off || iova >= EDU_DMA_LIMIT ||
        len > EDU_DMA_LIMIT - iova)
        return EDU_BAD_ARGS;
    if (mmio_read32(e->mmio + EDU_REG_IDENT) == 0xffffffffu)
        return EDU_GONE;
    /* The device ignores register writes while a transfer runs. */
    if (edu_dma_busy(e))
        return EDU_BUSY;
    uint64_t dev = EDU_BUF_ADDR + dev_off;
    mmio_write64(e->mmio + EDU_REG_DMA_SRC, to_device ? iova : dev);
    mmio_write64(e->mmio + EDU_REG_DMA_DST, to_device ? dev : iova);
    mmio_write64(e->mmio + EDU_REG_DMA_COUNT, len);
    mfence(); /* buffer contents visible before the device starts */
    mmio_write64(e->mmio + EDU_REG_DMA_CMD, EDU_CMD_START | (to_device ? 0 : EDU_CMD_FROM_DEVICE));
    return EDU_OK;
}

enum edu_status edu_dma_wait(const struct edu *e, uint64_t timeout_us)
{
    if (!WAIT_FOR(!edu_dma_busy(e), timeout_us, "edu DMA completion"))
        return EDU_TIMEOUT;
    if (mmio_read32(e->mmio + EDU_REG_IDENT) == 0xffffffffu)
        return EDU_GONE;
    mfence();
    return EDU_OK;
}

enum edu_status edu_dma_to_device(const struct edu *e, uint64_t iova, uint32_t dev_off,
                                  uint32_t len)
{
    enum edu_status s = edu_dma_start(e, true, iova, dev_off, len);
    return s == EDU_OK ? edu_dma_wait(e, EDU_DMA_TIMEOUT_US) : s;
}

enum edu_status edu_dma_from_device(const struct edu *e, uint64_t iova, uint32_t dev_off,
                                    uint32_t len)
{
    enum edu_status s = edu_dma_start(e, false, iova, dev_off, len);
    return s == EDU_OK ? edu_dma_wait(e, EDU_DMA_TIMEOUT_US) : s;
}
