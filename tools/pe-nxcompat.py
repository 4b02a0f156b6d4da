#!/usr/bin/env python3
"""Mark a PE32+ UEFI image NX_COMPAT, after checking that it allows it.

IMAGE_DLLCHARACTERISTICS_NX_COMPAT (0x0100) tells the firmware that the
image runs with its data non-executable and its code read-only, so that a
firmware with memory protection (and some Secure-Boot policies) may load it
with those protections.  That is only true when every section starts on a
page and no section is both writable and executable; otherwise the flag
would be a promise the image breaks, and this tool refuses.

usage: pe-nxcompat.py IMAGE.efi [--check]
  --check: only say whether the flag is set (exit 0) or not (exit 1)
Exit status: 0 done, 1 the image does not allow NX_COMPAT (or --check: flag
not set), 2 not a PE32+ image.
"""
import struct
import sys

from pe_headers import headers

NX_COMPAT = 0x0100
SCN_EXECUTE = 0x20000000
SCN_WRITE = 0x80000000
PAGE = 4096


def layout(data):
    """(offset of DllCharacteristics, section alignment, sections) or raises ValueError."""
    _, opt, secs = headers(data)
    section_alignment = struct.unpack_from("<I", data, opt + 32)[0]
    return opt + 70, section_alignment, [(s.name, s.vaddr, s.flags) for s in secs]


def obstacles(section_alignment, sections):
    why = []
    if section_alignment % PAGE:
        why.append(f"section alignment {section_alignment:#x} is not a multiple of {PAGE:#x}")
    for name, vaddr, flags in sections:
        if vaddr % PAGE:
            why.append(f"section {name} starts at {vaddr:#x}, not on a page")
        if flags & SCN_EXECUTE and flags & SCN_WRITE:
            why.append(f"section {name} is both writable and executable")
    return why


def main(argv):
    if len(argv) not in (2, 3) or (len(argv) == 3 and argv[2] != "--check"):
        print(__doc__.strip().split("\n\n")[-1], file=sys.stderr)
        return 2
    path = argv[1]
    with open(path, "rb") as f:
        data = bytearray(f.read())
    try:
        off, align, sections = layout(data)
    except ValueError as e:
        print(f"pe-nxcompat: {path}: {e}", file=sys.stderr)
        return 2
    dllchar = struct.unpack_from("<H", data, off)[0]
    if len(argv) == 3:
        return 0 if dllchar & NX_COMPAT else 1
    why = obstacles(align, sections)
    if why:
        for w in why:
            print(f"pe-nxcompat: {path}: {w}: NX_COMPAT not set", file=sys.stderr)
        return 1
    struct.pack_into("<H", data, off, dllchar | NX_COMPAT)
    with open(path, "wb") as f:
        f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
