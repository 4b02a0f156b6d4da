#!/usr/bin/env python3
"""tools/vtdsync-results reads an efivarfs file (attributes + text) and sets
its exit status from the verdict; a missing file is reported, not a crash."""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools/vtdsync-results")


def run(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True)


def main():
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        good = os.path.join(d, "good")
        with open(good, "wb") as f:
            f.write(b"\x07\x00\x00\x00vtdsync abc\nverdict=PASS\npassed=3\n")
        bad = os.path.join(d, "bad")
        with open(bad, "wb") as f:
            f.write(b"\x07\x00\x00\x00vtdsync abc\nverdict=FAIL\nfail=transitions.SS-A->SS-B\n")
        checks = [
            ("efivarfs_pass", run("--file", good), 0, "verdict=PASS"),
            ("efivarfs_fail", run("--file", bad), 1, "fail=transitions.SS-A->SS-B"),
            ("missing_file", run("--file", os.path.join(d, "none")), 2, "no such file"),
        ]
        for i, (name, p, status, text) in enumerate(checks, 1):
            ok = p.returncode == status and text in p.stdout
            failures += not ok
            print(f"{'ok' if ok else 'not ok'} {i} {name}")
            if not ok:
                print(f"# status {p.returncode}, output: {p.stdout!r} {p.stderr!r}")
    print(f"1..{len(checks)}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
