#!/usr/bin/env python3
"""Turn the `# dump SIG OFFSET HEX` lines of a serial log (dump_acpi=1) back
into binary tables: PREFIX-SIG.dat for each table found.

usage: acpi-dump-extract.py SERIAL_LOG PREFIX
"""
import re
import sys


def main():
    log, prefix = sys.argv[1], sys.argv[2]
    tables = {}
    for line in open(log, errors="replace"):
        m = re.match(r"^# dump (\w{4}) ([0-9a-f]{4}) ([0-9a-f]+)\s*$", line.strip())
        if m:
            sig, off, data = m.group(1), int(m.group(2), 16), bytes.fromhex(m.group(3))
            buf = tables.setdefault(sig, bytearray())
            if len(buf) != off:
                raise SystemExit(f"{log}: {sig} offset {off:#x} out of order")
            buf += data
    for sig, buf in tables.items():
        with open(f"{prefix}-{sig}.dat", "wb") as f:
            f.write(buf)
        print(f"{prefix}-{sig}.dat: {len(buf)} bytes")


if __name__ == "__main__":
    main()
