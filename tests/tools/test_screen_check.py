#!/usr/bin/env python3
"""tools/screen-check.py tells a banner that fits from one cut at the edge,
on synthetic screendumps laid out like vtdsync's final screen."""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools/screen-check.py")
W, H, BANNER_H = 320, 200, 48
LOG, GREEN, WHITE = b"\x10\x10\x18", b"\x10\x70\x20", b"\xff\xff\xff"


def screen(text_from, text_to):
    """A log area, then a green banner with 'text' pixels in [text_from, text_to)."""
    rows = []
    for y in range(H):
        if y < H - BANNER_H:
            rows.append(LOG * W)
            continue
        inner = 8 <= y - (H - BANNER_H) < BANNER_H - 8
        rows.append(b"".join(WHITE if inner and text_from <= x < text_to and x % 3 == 0
                             else GREEN for x in range(W)))
    return b"P6\n%d %d\n255\n" % (W, H) + b"".join(rows)


def main():
    cases = [("fits", screen(40, 280), "banner fits"),
             ("cut_right", screen(40, W), "banner cut at the edge"),
             ("cut_left", screen(0, 200), "banner cut at the edge")]
    print("KTAP version 1")
    print(f"1..{len(cases)}")
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        for i, (name, data, want) in enumerate(cases, 1):
            path = os.path.join(d, name + ".ppm")
            with open(path, "wb") as f:
                f.write(data)
            p = subprocess.run([sys.executable, TOOL, path], capture_output=True, text=True)
            ok = p.returncode == 0 and f"screen {W}x{H}" in p.stdout and want in p.stdout
            failures += not ok
            print(f"{'ok' if ok else 'not ok'} {i} {name}")
            if not ok:
                print(f"# output: {p.stdout!r} {p.stderr!r}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
