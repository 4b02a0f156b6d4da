/* Self-relocation at start-up (boot/reloc.c). */
#ifndef BOOT_RELOC_H
#define BOOT_RELOC_H

#include <stdint.h>

/* One entry of the image's .dynamic (ELF64 Elf64_Dyn). */
struct elf_dyn {
    int64_t tag;
    uint64_t val;
};

enum {
    RELOC_NOT_RUN = -1,  /* boot_relocate has not run */
    RELOC_BAD_TABLE = -2, /* a table's size or entry size is wrong */
    RELOC_BAD_TYPE = -3,  /* a relocation other than R_X86_64_RELATIVE */
};

/* Apply the RELA and RELR relocations that dyn lists to an image loaded at
 * base (its link address is 0): 0, or one of the codes above.  Stops at the
 * first problem. */
int boot_relocate(uint64_t base, const struct elf_dyn *dyn);
/* What the start-up relocation returned (0: done). */
int boot_relocation_status(void);

#endif
