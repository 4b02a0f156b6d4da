#!/usr/bin/env python3
"""Leave the zero-initialised tail (.bss) of a PE32+ image's last section
out of the file.

linker.ld puts .bss at the end of .data, and .data last in the image.  The
PE/COFF format lets a section's VirtualSize exceed its SizeOfRawData; the
loader maps VirtualSize bytes and zero-fills what the file does not hold
(PE/COFF spec, section table: "If this value is greater than SizeOfRawData,
the section is zero-padded"; EDK2's PE loader and shim do so, and MSVC
images, Windows' boot manager among them, are built that way).  vtdsync
does not even rely on that fill: efi_main zeroes [_bss_start, _bss_end)
before anything uses it (boot/efi_main.c).

This is not a separate NOBITS .bss section (SizeOfRawData 0, the case some
loaders mishandled and the reason GNU-EFI folds .bss into .data): .data
stays one section with file data; only its zero tail is not stored.

usage: pe-bss-tail.py IMAGE.efi BSS_START_RVA
  BSS_START_RVA: where .bss starts (hex or decimal, an RVA in the image);
  the file keeps every byte before it.
Exit status: 0 done, 1 the layout does not allow it (the image is left
unchanged), 2 not a PE32+ image or bad arguments.
"""
import struct
import sys

from pe_headers import NotPE, headers


def sections(data):
    """(file alignment, [Section]) of an image this tool can trim."""
    pe, opt, secs = headers(data)
    symtab, nsyms = struct.unpack_from("<II", data, pe + 12)
    if symtab or nsyms:
        raise ValueError("a COFF symbol table follows the sections (objcopy --strip-all)")
    return struct.unpack_from("<I", data, opt + 36)[0], secs


def trim(data, bss_rva):
    """The trimmed image, or raises ValueError saying why not."""
    align, secs = sections(data)
    if not secs or not align or align & (align - 1):
        raise ValueError("no sections or a bad file alignment")
    last = max(secs, key=lambda s: s.vaddr)
    if any(s.rawptr > last.rawptr for s in secs) or last.rawptr + last.rawsize != len(data):
        raise ValueError(f"section {last.name} (highest address) is not the last thing in the file")
    if not last.vaddr <= bss_rva <= last.vaddr + last.vsize:
        raise ValueError(f".bss start {bss_rva:#x} is not inside {last.name} "
                         f"[{last.vaddr:#x}, {last.vaddr + last.vsize:#x})")
    keep = min(last.rawsize, (bss_rva - last.vaddr + align - 1) & ~(align - 1))
    if any(data[last.rawptr + keep:last.rawptr + last.rawsize]):
        raise ValueError(f"{last.name} holds non-zero bytes after .bss starts")
    out = bytearray(data[:last.rawptr + keep])
    struct.pack_into("<I", out, last.header + 16, keep)
    return out


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().split("\n\n")[-2], file=sys.stderr)
        return 2
    path = argv[1]
    try:
        bss_rva = int(argv[2], 0)
    except ValueError:
        print(f"pe-bss-tail: {argv[2]}: not a number", file=sys.stderr)
        return 2
    with open(path, "rb") as f:
        data = f.read()
    try:
        out = trim(data, bss_rva)
    except ValueError as e:
        print(f"pe-bss-tail: {path}: {e}", file=sys.stderr)
        return 2 if isinstance(e, NotPE) else 1
    with open(path, "wb") as f:
        f.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
