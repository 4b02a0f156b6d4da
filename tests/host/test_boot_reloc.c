// HOST-DEPS: boot/reloc.c
/* The start-up self-relocation: RELR address and bitmap words and RELA
 * R_X86_64_RELATIVE entries move exactly the pointers they name by the load
 * address, and nothing else; a relocation of another type, a bitmap before
 * any address, or a wrong entry size stops it with a code efi_main sees. */
#include "boot/reloc.h"
#include "tests/host/check.h"

#include <string.h>

CHECK_STATE_DEFINE;

#define WORDS 256

/* An "image" linked at 0 and loaded at &img: the tables address it by
 * offset, as in the real one. */
struct image {
    uint64_t word[WORDS];
    uint64_t relr[8];
    uint64_t rela[4][3]; /* offset, info (type in the low 32 bits), addend */
};

static struct image img;

static uint64_t base(void)
{
    return (uint64_t)(uintptr_t)&img;
}

static uint64_t off(const void *p)
{
    return (uint64_t)(uintptr_t)p - base();
}

static void fill(void)
{
    memset(&img, 0, sizeof(img));
    for (int i = 0; i < WORDS; i++)
        img.word[i] = 0x1000 + 8u * i; /* a link-time pointer into the image */
}

/* Which words must move: 0 (an address word; the bitmap after it covers
 * words 1..63), 3, 6 and 63 (bitmap bits 3, 6 and 63: words 1 + bit - 1),
 * 64 and 66 (a second bitmap: words 64..126), 200 (a second address), and
 * 100 from RELA. */
static const int moved[] = { 0, 3, 6, 63, 64, 66, 100, 200 };

static int is_moved(int i)
{
    for (unsigned k = 0; k < sizeof(moved) / sizeof(moved[0]); k++)
        if (moved[k] == i)
            return 1;
    return 0;
}

static void tables(struct elf_dyn *dyn, uint32_t rela_type)
{
    img.relr[0] = off(&img.word[0]);                      /* address: word 0 */
    img.relr[1] = 1 | 1ull << 3 | 1ull << 6 | 1ull << 63; /* words 3, 6, 63 */
    img.relr[2] = 1 | 1ull << 1 | 1ull << 3;              /* words 64, 66 */
    img.relr[3] = off(&img.word[200]);
    img.rela[0][0] = off(&img.word[100]);
    img.rela[0][1] = rela_type;
    img.rela[0][2] = 0x40;
    img.rela[1][1] = 0; /* R_X86_64_NONE: skipped */
    struct elf_dyn d[] = {
        { 7, off(img.rela) }, { 8, 2 * sizeof(img.rela[0]) }, { 9, sizeof(img.rela[0]) },
        { 36, off(img.relr) }, { 35, 4 * sizeof(uint64_t) }, { 37, sizeof(uint64_t) },
        { 0, 0 },
    };
    memcpy(dyn, d, sizeof(d));
}

TEST(relr_and_rela)
{
    struct elf_dyn dyn[7];
    fill();
    tables(dyn, 8);
    CHECK(boot_relocation_status() == RELOC_NOT_RUN, "status before: %d",
          boot_relocation_status());
    int rc = boot_relocate(base(), dyn);
    CHECK(rc == 0 && boot_relocation_status() == 0, "rc %d", rc);
    for (int i = 0; i < WORDS; i++) {
        uint64_t want = 0x1000 + 8u * i;
        if (i == 100)
            want = base() + 0x40; /* RELA: addend plus base, not added to the word */
        else if (is_moved(i))
            want += base();
        CHECK(img.word[i] == want, "word %d = %#llx, want %#llx", i,
              (unsigned long long)img.word[i], (unsigned long long)want);
    }
}

TEST(other_type_refused)
{
    struct elf_dyn dyn[7];
    fill();
    tables(dyn, 1); /* R_X86_64_64: needs a symbol, never in this image */
    CHECK(boot_relocate(base(), dyn) == RELOC_BAD_TYPE, "R_X86_64_64 refused");
    CHECK(boot_relocation_status() == RELOC_BAD_TYPE, "status %d", boot_relocation_status());
}

TEST(bitmap_first_refused)
{
    struct elf_dyn dyn[7];
    fill();
    tables(dyn, 8);
    img.relr[0] = 3; /* a bitmap with no address before it */
    CHECK(boot_relocate(base(), dyn) == RELOC_BAD_TABLE, "bitmap first refused");
}

TEST(bad_entry_size_refused)
{
    struct elf_dyn dyn[7];
    fill();
    tables(dyn, 8);
    dyn[5].val = 4; /* RELRENT */
    CHECK(boot_relocate(base(), dyn) == RELOC_BAD_TABLE, "RELRENT 4 refused");
    tables(dyn, 8);
    dyn[1].val = 20; /* RELASZ not a multiple of RELAENT */
    CHECK(boot_relocate(base(), dyn) == RELOC_BAD_TABLE, "RELASZ 20 refused");
}

TEST(nothing_to_do)
{
    struct elf_dyn dyn[] = { { 0, 0 } };
    fill();
    CHECK(boot_relocate(base(), dyn) == 0, "no tables: nothing to do");
    CHECK(img.word[0] == 0x1000, "untouched");
}

int main(void)
{
    RUN(relr_and_rela);
    RUN(other_type_refused);
    RUN(bitmap_first_refused);
    RUN(bad_entry_size_refused);
    RUN(nothing_to_do);
    return check_finish();
}
