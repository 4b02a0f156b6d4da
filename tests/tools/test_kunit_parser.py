#!/usr/bin/env python3
"""With KUNIT_DIR set to a kernel tree's tools/testing/kunit (make
KUNIT_DIR=...), Linux's own KTAP parser reads every serial sample in
tests/data/serial with no error and the counts of the log's last line
(tools/kunit-check.py).  Without it, each case skips and says so."""
import glob
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    logs = sorted(glob.glob(os.path.join(ROOT, "tests/data/serial/*.log")))
    kunit_dir = os.environ.get("KUNIT_DIR", "")
    print("KTAP version 1")
    print(f"1..{len(logs)}")
    failures = 0
    for i, log in enumerate(logs, 1):
        name = "kunit_parser_reads_" + os.path.basename(log)[:-4].replace("-", "_")
        if not kunit_dir:
            print(f"ok {i} {name} # SKIP KUNIT_DIR not set (a kernel tree's tools/testing/kunit)")
            continue
        p = subprocess.run([sys.executable, os.path.join(ROOT, "tools/kunit-check.py"),
                            "--kunit-dir", kunit_dir, log], capture_output=True, text=True)
        failures += p.returncode != 0
        print(f"{'ok' if p.returncode == 0 else 'not ok'} {i} {name}")
        if p.returncode:
            for line in (p.stdout + p.stderr).splitlines():
                print(f"# {line}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
