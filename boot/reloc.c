/* Self-relocation at start-up, in place of GNU-EFI's _relocate.
 *
 * The image is an ELF shared object linked at 0 and converted to PE (see
 * linker.ld); the firmware loads it anywhere, and GNU-EFI's crt0 (_start)
 * calls _relocate(ImageBase, _DYNAMIC, image, systab) before efi_main.
 * Every pointer the image stores is a relative relocation: "add the load
 * address".  The link packs them as RELR (-z pack-relative-relocs: about
 * 100 bytes instead of 24 per pointer in .rela), which GNU-EFI's _relocate
 * does not read, so this one reads both.
 *
 * RELR (the ELF gABI's DT_RELR): a list of 64-bit words.  An even word is
 * the address of a pointer to relocate and sets the base to the word after
 * it; an odd word is a bitmap: bit i (1..63) relocates base + (i - 1) * 8,
 * then the base moves on by 63 words.
 *
 * This runs before anything else is relocated or .bss is zeroed: it must
 * not use a stored pointer or a zero-initialised variable.  It includes no
 * EFI header, so the host tests run it unchanged (test_boot_reloc). */
#include "boot/reloc.h"

#define DT_NULL 0
#define DT_RELA 7
#define DT_RELASZ 8
#define DT_RELAENT 9
#define DT_RELRSZ 35
#define DT_RELR 36
#define DT_RELRENT 37
#define R_X86_64_NONE 0
#define R_X86_64_RELATIVE 8

struct elf_rela {
    uint64_t offset, info;
    int64_t addend;
};

/* Initialised, so it is in .data, not in the .bss that efi_main zeroes. */
static int status = RELOC_NOT_RUN;

int boot_relocation_status(void)
{
    return status;
}

static int apply_rela(uint64_t base, uint64_t rela, uint64_t size, uint64_t ent)
{
    if (!size)
        return 0;
    if (!rela || ent != sizeof(struct elf_rela) || size % ent)
        return RELOC_BAD_TABLE;
    const struct elf_rela *r = (const struct elf_rela *)(base + rela);
    for (uint64_t i = 0; i < size / ent; i++) {
        uint32_t type = (uint32_t)r[i].info;
        if (type == R_X86_64_NONE)
            continue;
        if (type != R_X86_64_RELATIVE)
            return RELOC_BAD_TYPE; /* only position-independent pointers are expected */
        *(uint64_t *)(base + r[i].offset) = base + (uint64_t)r[i].addend;
    }
    return 0;
}

static int apply_relr(uint64_t base, uint64_t relr, uint64_t size, uint64_t ent)
{
    if (!size)
        return 0;
    if (!relr || ent != sizeof(uint64_t) || size % ent)
        return RELOC_BAD_TABLE;
    const uint64_t *w = (const uint64_t *)(base + relr);
    uint64_t *where = 0;
    for (uint64_t i = 0; i < size / ent; i++) {
        if (!(w[i] & 1)) {
            where = (uint64_t *)(base + w[i]);
            *where++ += base;
            continue;
        }
        if (!where)
            return RELOC_BAD_TABLE; /* a bitmap before any address */
        for (uint64_t bits = w[i] >> 1, k = 0; bits; bits >>= 1, k++)
            if (bits & 1)
                where[k] += base;
        where += 63;
    }
    return 0;
}

int boot_relocate(uint64_t base, const struct elf_dyn *dyn)
{
    uint64_t rela = 0, relasz = 0, relaent = 0, relr = 0, relrsz = 0, relrent = 0;
    for (; dyn->tag != DT_NULL; dyn++) {
        switch (dyn->tag) {
        case DT_RELA: rela = dyn->val; break;
        case DT_RELASZ: relasz = dyn->val; break;
        case DT_RELAENT: relaent = dyn->val; break;
        case DT_RELR: relr = dyn->val; break;
        case DT_RELRSZ: relrsz = dyn->val; break;
        case DT_RELRENT: relrent = dyn->val; break;
        default: break;
        }
    }
    int rc = apply_rela(base, rela, relasz, relaent);
    if (!rc)
        rc = apply_relr(base, relr, relrsz, relrent);
    status = rc;
    return rc;
}

/* crt0's call.  It ignores the result; efi_main asks boot_relocation_status. */
unsigned long _relocate(long ldbase, const struct elf_dyn *dyn, void *image, void *systab);

unsigned long _relocate(long ldbase, const struct elf_dyn *dyn, void *image, void *systab)
{
    (void)image;
    (void)systab;
    return boot_relocate((uint64_t)ldbase, dyn) ? 1 : 0;
}
