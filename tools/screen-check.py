#!/usr/bin/env python3
"""Check a screendump of the final vtdsync screen (a binary PPM, as QEMU's
`screendump` writes it): print its size, and whether the PASS/FAIL banner
at the bottom keeps a clear margin at both edges, i.e. the whole result line
fits on the screen.

  tools/screen-check.py screen.ppm
  -> "screen 1024x768" and "banner fits" (or "banner cut at the edge")
"""
import sys


def read_ppm(path):
    data = open(path, "rb").read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or int(fields[3]) != 255:
        raise SystemExit(f"{path}: not an 8-bit binary PPM")
    w, h = int(fields[1]), int(fields[2])
    return w, h, data[pos + 1:pos + 1 + w * h * 3]


def pixel(px, w, x, y):
    i = (y * w + x) * 3
    return px[i:i + 3]


def main():
    w, h, px = read_ppm(sys.argv[1])
    print(f"screen {w}x{h}")
    bg = pixel(px, w, 0, h - 1)  # the banner's background, from its bottom pad
    # The banner: rows up from the bottom that are mostly its background.
    top = h
    while top > 0 and sum(pixel(px, w, x, top - 1) == bg for x in range(w)) * 2 > w:
        top -= 1
    rows = range(top, h)
    margin = 8
    cut = any(pixel(px, w, x, y) != bg for y in rows
              for x in list(range(margin)) + list(range(w - margin, w)))
    print("banner cut at the edge" if cut or not rows else "banner fits")


if __name__ == "__main__":
    main()
