#!/usr/bin/env python3
"""tools/pe-nxcompat.py sets NX_COMPAT only on images that keep their
promise (page-aligned sections, none writable and executable), and
tools/sign-efi.sh signs an image that sbverify accepts; both on synthetic
PE32+ images laid out like GNU-EFI's."""
import os
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools/pe-nxcompat.py")
CODE, DATA = 0x60000020, 0xC0000040  # text: code|exec|read; data: init|read|write
EXEC = 0x20000000


def pe_image(sections, align=0x1000):
    """MZ stub, PE32+ headers and (name, vaddr, flags) section headers, each
    section a page of zeros in the file."""
    pe, opt_size = 0x80, 240
    table = pe + 24 + opt_size
    first_raw = 0x400
    out = bytearray(first_raw + 0x1000 * len(sections))
    out[0:2] = b"MZ"
    struct.pack_into("<I", out, 0x3C, pe)
    out[pe:pe + 4] = b"PE\0\0"
    struct.pack_into("<HH12xHH", out, pe + 4, 0x8664, len(sections), opt_size, 0x2022)
    opt = pe + 24
    struct.pack_into("<H", out, opt, 0x20B)
    struct.pack_into("<II", out, opt + 32, align, 0x200)
    struct.pack_into("<I", out, opt + 56, 0x1000 * (len(sections) + 1))  # SizeOfImage
    struct.pack_into("<I", out, opt + 60, first_raw)                      # SizeOfHeaders
    struct.pack_into("<H", out, opt + 68, 10)                             # EFI application
    struct.pack_into("<I", out, opt + 108, 16)                            # NumberOfRvaAndSizes
    for i, (name, vaddr, flags) in enumerate(sections):
        off = table + 40 * i
        out[off:off + 8] = name.encode().ljust(8, b"\0")
        struct.pack_into("<IIII", out, off + 8, 0x1000, vaddr, 0x1000, first_raw + 0x1000 * i)
        struct.pack_into("<I", out, off + 36, flags)
    return bytes(out)


def dllchar(path):
    with open(path, "rb") as f:
        data = f.read()
    return struct.unpack_from("<H", data, 0x80 + 24 + 70)[0]


def run(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True)


def main():
    good = [(".text", 0x1000, CODE), (".data", 0x2000, DATA)]
    cases = [
        ("sets_flag", pe_image(good), 0, True, ""),
        ("refuses_writable_code", pe_image([(".text", 0x1000, CODE | 0x80000000)]), 1, False,
         "both writable and executable"),
        ("refuses_executable_data", pe_image([(".data", 0x1000, DATA | EXEC)]), 1, False,
         "both writable and executable"),
        ("refuses_unaligned_section", pe_image([(".text", 0x1200, CODE)]), 1, False,
         "not on a page"),
        ("refuses_small_alignment", pe_image(good, align=0x200), 1, False,
         "not a multiple"),
        ("not_pe", b"MZ" + b"\0" * 200, 2, False, "no PE signature"),
    ]
    print("KTAP version 1")
    print(f"1..{len(cases) + 2}")
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        for i, (name, data, want_rc, want_flag, want_text) in enumerate(cases, 1):
            path = os.path.join(d, name + ".efi")
            with open(path, "wb") as f:
                f.write(data)
            p = run(path)
            flag = data[:2] == b"MZ" and len(data) > 0x200 and dllchar(path) & 0x100 != 0
            check = run(path, "--check").returncode
            ok = (p.returncode == want_rc and flag == want_flag and want_text in p.stderr and
                  check == (0 if want_flag else (2 if want_rc == 2 else 1)))
            failures += not ok
            print(f"{'ok' if ok else 'not ok'} {i} {name}")
            if not ok:
                print(f"# rc {p.returncode} flag {flag} check {check} stderr {p.stderr!r}")
        # The built image itself carries the flag (make builds it before the tests).
        efi = os.path.join(os.environ.get("BUILD", os.path.join(ROOT, "build")), "vtdsync.efi")
        n = len(cases) + 1
        if os.path.exists(efi):
            ok = run(efi, "--check").returncode == 0
            failures += not ok
            print(f"{'ok' if ok else 'not ok'} {n} built_image_is_nx_compat")
        else:
            print(f"ok {n} built_image_is_nx_compat # SKIP {efi} not built")
        # sign-efi.sh: a throw-away key signs, sbverify accepts, the flag stays.
        n += 1
        key, cert = os.path.join(d, "k.pem"), os.path.join(d, "c.pem")
        src, out = os.path.join(d, "sets_flag.efi"), os.path.join(d, "signed.efi")
        gen = subprocess.run(["openssl", "req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes",
                              "-subj", "/CN=vtdsync test/", "-days", "1", "-keyout", key,
                              "-out", cert], capture_output=True)
        p = subprocess.run(["bash", os.path.join(ROOT, "tools/sign-efi.sh"), key, cert, src, out],
                           capture_output=True, text=True)
        ok = gen.returncode == 0 and p.returncode == 0 and os.path.exists(out) and \
            dllchar(out) & 0x100 != 0 and "signed with" in p.stdout
        failures += not ok
        print(f"{'ok' if ok else 'not ok'} {n} sign_efi_signs_and_verifies")
        if not ok:
            print(f"# {p.stdout!r} {p.stderr!r}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
