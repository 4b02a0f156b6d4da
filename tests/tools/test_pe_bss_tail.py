#!/usr/bin/env python3
"""tools/pe-bss-tail.py leaves only the zero .bss tail of the last section out
of the file, and refuses every layout where that would drop data; the built
image has that layout and is within the limit, and the Makefile's limit
check fails a build that is over it."""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from pe_headers import headers  # noqa: E402
TOOL = os.path.join(ROOT, "tools/pe-bss-tail.py")
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
IMAGE_MAX = 262144
PE, OPT_SIZE, FIRST_RAW = 0x80, 240, 0x400
TABLE = PE + 24 + OPT_SIZE


def pe_image(sections, symtab=0):
    """PE32+ headers and sections given as (name, vaddr, vsize, content), each
    stored at its file-aligned place in file order."""
    raw, blobs = FIRST_RAW, []
    for name, vaddr, vsize, content in sections:
        size = (len(content) + 0x1ff) & ~0x1ff
        blobs.append((name, vaddr, vsize, raw, size, content))
        raw += size
    out = bytearray(raw)
    out[0:2] = b"MZ"
    struct.pack_into("<I", out, 0x3C, PE)
    out[PE:PE + 4] = b"PE\0\0"
    struct.pack_into("<HHIII", out, PE + 4, 0x8664, len(sections), 0, symtab, 0)
    struct.pack_into("<HH", out, PE + 20, OPT_SIZE, 0x2022)
    opt = PE + 24
    struct.pack_into("<H", out, opt, 0x20B)
    struct.pack_into("<II", out, opt + 32, 0x1000, 0x200)
    for i, (name, vaddr, vsize, ptr, size, content) in enumerate(blobs):
        off = TABLE + 40 * i
        out[off:off + 8] = name.encode().ljust(8, b"\0")
        struct.pack_into("<IIII", out, off + 8, vsize, vaddr, size, ptr)
        out[ptr:ptr + len(content)] = content
    return bytes(out)


def section(data, i):
    return struct.unpack_from("<IIII", data, TABLE + 40 * i + 8)  # vsize, vaddr, raw, ptr


def run(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True)


def tail_data():
    d = bytearray(0x3000)
    d[0x10ff] = 1  # the last initialised byte; .bss starts at 0x1100
    return bytes(d)


def main():
    text = (".text", 0x1000, 0x200, b"\xc3" * 0x200)
    good = pe_image([text, (".data", 0x2000, 0x3000, tail_data())])
    cases = [
        # (name, image, bss start RVA, exit status, stderr text)
        ("trims_zero_tail", good, 0x3100, 0, ""),
        ("nothing_to_trim", good, 0x5000, 0, ""),
        ("refuses_data_after_bss_start", good, 0x3000, 1, "non-zero bytes"),
        ("refuses_bss_outside_section", good, 0x6000, 1, "is not inside"),
        ("refuses_highest_not_last_in_file",
         pe_image([(".data", 0x2000, 0x3000, tail_data()), text]), 0x3100, 1,
         "not the last thing"),
        ("refuses_symbol_table", pe_image([text, (".data", 0x2000, 0x3000, tail_data())],
                                          symtab=0x10), 0x3100, 1, "symbol table"),
        ("not_pe", b"MZ" + b"\0" * 200, 0x3100, 2, "no PE signature"),
    ]
    print("KTAP version 1")
    print(f"1..{len(cases) + 2}")
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        for i, (name, data, bss, want_rc, want_text) in enumerate(cases, 1):
            path = os.path.join(d, name + ".efi")
            with open(path, "wb") as f:
                f.write(data)
            p = run(path, hex(bss))
            with open(path, "rb") as f:
                after = f.read()
            if want_rc:
                ok = after == data  # refused: the image is unchanged
            elif name == "trims_zero_tail":
                vsize, vaddr, raw, ptr = section(after, 1)
                # 0x1100 initialised bytes kept, rounded up to the file
                # alignment; the mapped size stays; nothing else changes.
                expect = bytearray(data[:ptr + 0x1200])
                struct.pack_into("<I", expect, TABLE + 40 + 16, 0x1200)
                ok = raw == 0x1200 and vsize == 0x3000 and after == bytes(expect)
            else:
                ok = after == data
            ok = ok and p.returncode == want_rc and want_text in p.stderr
            failures += not ok
            print(f"{'ok' if ok else 'not ok'} {i} {name}")
            if not ok:
                print(f"# rc {p.returncode} stderr {p.stderr!r}")
        n = len(cases) + 1
        efi = os.path.join(BUILD, "vtdsync.efi")
        if os.path.exists(efi):
            with open(efi, "rb") as f:
                data = f.read()
            last = max(headers(data)[2], key=lambda s: s.vaddr)
            ok = (len(data) <= IMAGE_MAX and last.vsize > last.rawsize and
                  last.rawptr + last.rawsize == len(data))
            failures += not ok
            print(f"{'ok' if ok else 'not ok'} {n} built_image_within_limit")
            print(f"# {efi}: {len(data)} bytes of {IMAGE_MAX}; last section maps {last.vsize} "
                  f"bytes, {last.rawsize} in the file")
        else:
            print(f"ok {n} built_image_within_limit # SKIP {efi} not built")
        # The limit check: the same link output, a limit it is over.
        n += 1
        so = os.path.join(BUILD, "vtdsync.so")
        if os.path.exists(so):
            b = os.path.join(d, "b")
            os.makedirs(b)
            shutil.copy(so, b)
            p = subprocess.run(["make", "--no-print-directory", "-C", ROOT, f"BUILD={b}",
                                "IMAGE_MAX=4096", "-o", f"{b}/vtdsync.so", f"{b}/vtdsync.efi"],
                               capture_output=True, text=True)
            ok = (p.returncode != 0 and "over the 4096-byte limit" in p.stderr and
                  not os.path.exists(os.path.join(b, "vtdsync.efi")))
            failures += not ok
            print(f"{'ok' if ok else 'not ok'} {n} build_fails_over_limit")
            if not ok:
                print(f"# rc {p.returncode} {p.stdout[-300:]!r} {p.stderr[-300:]!r}")
        else:
            print(f"ok {n} build_fails_over_limit # SKIP {so} not built")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
