/* Framebuffer text console.
 *
 * The log region wraps to the top instead of scrolling: reading back a
 * write-combined framebuffer to scroll it is very slow, and a wrapped log
 * with a cleared line ahead of the cursor stays readable. Row 0 is a status
 * line that live progress rewrites in place. */
#include "drivers/fbcon.h"

#include <stdint.h>

#include "lib/kstring.h"

extern const uint8_t font8x16[128][16];

#define GLYPH_W 8
#define GLYPH_H 16
#define FG 0x00c8c8c8u
#define BG 0x00101018u
#define STATUS_BG 0x00203050u

static struct framebuffer fb;
static uint32_t cols, rows, cur_col, cur_row;
static uint32_t log_top = 1; /* first row of the wrapping log region */
static bool ready;

#define HEADER_BG 0x00182838u

static uint32_t rgb(uint32_t c)
{
    /* Colours are written as 0x00RRGGBB; swap for RGBX framebuffers. */
    if (fb.bgr)
        return c;
    return ((c & 0xff) << 16) | (c & 0xff00) | ((c >> 16) & 0xff);
}

static void fill(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t colour)
{
    volatile uint32_t *px = (volatile uint32_t *)(uintptr_t)fb.base;
    uint32_t c = rgb(colour);
    for (uint32_t j = y; j < y + h && j < fb.height; j++)
        for (uint32_t i = x; i < x + w && i < fb.width; i++)
            px[(uint64_t)j * fb.stride + i] = c;
}

static void draw_glyph(uint32_t col, uint32_t row, char ch, uint32_t fg, uint32_t bg,
                       uint32_t scale, uint32_t x0, uint32_t y0)
{
    volatile uint32_t *px = (volatile uint32_t *)(uintptr_t)fb.base;
    const uint8_t *g = font8x16[(unsigned char)ch & 0x7f];
    uint32_t f = rgb(fg), b = rgb(bg);
    for (uint32_t y = 0; y < GLYPH_H * scale; y++) {
        uint32_t py = y0 + row * GLYPH_H * scale + y;
        if (py >= fb.height)
            return;
        uint8_t bits = g[y / scale];
        for (uint32_t x = 0; x < GLYPH_W * scale; x++) {
            uint32_t pxx = x0 + col * GLYPH_W * scale + x;
            if (pxx < fb.width)
                px[(uint64_t)py * fb.stride + pxx] = (bits & (0x80 >> (x / scale))) ? f : b;
        }
    }
}

bool fbcon_init(const struct framebuffer *f)
{
    if (f->width < 320 || f->height < 200 || f->stride < f->width)
        return false;
    fb = *f;
    cols = fb.width / GLYPH_W;
    rows = fb.height / GLYPH_H;
    cur_col = 0;
    cur_row = 1;
    fill(0, 0, fb.width, fb.height, BG);
    fill(0, 0, fb.width, GLYPH_H, STATUS_BG);
    ready = true;
    return true;
}

static void clear_row(uint32_t row)
{
    fill(0, row * GLYPH_H, fb.width, GLYPH_H, BG);
}

static void newline(void)
{
    cur_col = 0;
    cur_row++;
    if (cur_row >= rows)
        cur_row = log_top;
    clear_row(cur_row);
    if (cur_row + 1 < rows)
        clear_row(cur_row + 1); /* a blank line marks where the log wraps */
}

void fbcon_write(const char *s, size_t len)
{
    if (!ready)
        return;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\n') {
            newline();
        } else if (c == '\r') {
            cur_col = 0;
        } else if (c == '\t') {
            cur_col = (cur_col + 8) & ~7u;
        } else if ((unsigned char)c >= 0x20) {
            if (cur_col >= cols)
                newline();
            draw_glyph(cur_col++, cur_row, c, FG, BG, 1, 0, 0);
        }
    }
}

void fbcon_header(const char *const *lines, unsigned n)
{
    if (!ready || n + 4 > rows)
        return;
    for (unsigned r = 0; r < n; r++) {
        fill(0, (1 + r) * GLYPH_H, fb.width, GLYPH_H, HEADER_BG);
        for (uint32_t i = 0; lines[r][i] && i < cols; i++)
            draw_glyph(i, 1 + r, lines[r][i], 0x00e0e0a0u, HEADER_BG, 1, 0, 0);
    }
    log_top = 1 + n + 1; /* a blank row separates the header from the log */
    fill(0, (1 + n) * GLYPH_H, fb.width, GLYPH_H, BG);
    cur_col = 0;
    cur_row = log_top;
    clear_row(cur_row);
}

void fbcon_status(const char *text)
{
    if (!ready)
        return;
    fill(0, 0, fb.width, GLYPH_H, STATUS_BG);
    for (uint32_t i = 0; text && text[i] && i < cols; i++)
        draw_glyph(i, 0, text[i], 0x00ffffffu, STATUS_BG, 1, 0, 0);
}

void fbcon_banner(const char *text, bool good)
{
    if (!ready)
        return;
    uint32_t len = (uint32_t)strlen(text);
    /* As large as the whole line fits: x4 at 1280 wide, x3 at 1024. */
    uint32_t scale = 4;
    while (scale > 1 && len * GLYPH_W * scale + 16 > fb.width)
        scale--;
    uint32_t h = GLYPH_H * scale + 16;
    uint32_t y0 = fb.height > h ? fb.height - h : 0;
    uint32_t bg = good ? 0x00107020u : 0x00a01010u;
    fill(0, y0, fb.width, h, bg);
    uint32_t w = len * GLYPH_W * scale;
    uint32_t x0 = fb.width > w ? (fb.width - w) / 2 : 0;
    for (uint32_t i = 0; i < len; i++)
        draw_glyph(i, 0, text[i], 0x00ffffffu, bg, scale, x0, y0 + 8);
}
