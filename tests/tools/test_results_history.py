#!/usr/bin/env python3
"""tools/vtdsync-results: --history prints the history= lines oldest first;
a run that did not finish (unfinished= in the result, or a checkpoint
variable whose id no result carries) is shown and exits 3, ahead of the
verdict's 0 or 1."""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools/vtdsync-results")
GUID = "6d1c3a52-8f0e-4b7a-9c3e-517a2d60b419"


def run(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True)


def efivar(directory, name, text):
    path = os.path.join(directory, f"{name}-{GUID}")
    with open(path, "wb") as f:
        f.write(b"\x07\x00\x00\x00" + text.encode())
    return path


def main():
    checks = []
    with tempfile.TemporaryDirectory() as d:
        hist = os.path.join(d, "hist")
        os.mkdir(hist)
        res = efivar(hist, "VtdsyncResult",
                     "vtdsync x\nverdict=PASS\nid=B\nhistory=T1 FAIL passed=1 failed=1 skipped=0\n"
                     "history=T2 PASS passed=2 failed=0 skipped=0\n")
        p = run("--file", res, "--history")
        checks.append(("history", p, 0, " 1 T1 FAIL passed=1 failed=1 skipped=0\n"
                                        " 2 T2 PASS passed=2 failed=0 skipped=0\n"))
        p = run("--file", res)
        checks.append(("pass_without_unfinished", p, 0, "verdict=PASS"))

        named = os.path.join(d, "named")
        os.mkdir(named)
        res = efivar(named, "VtdsyncResult",
                     "vtdsync x\nverdict=PASS\nid=B\nunfinished=last started transitions "
                     "clear:SS-A->PT iteration 12 at T0\n")
        checks.append(("unfinished_in_result", run("--file", res), 3,
                       "unfinished run: last started transitions clear:SS-A->PT iteration 12"))

        dead = os.path.join(d, "dead")
        os.mkdir(dead)
        res = efivar(dead, "VtdsyncResult", "vtdsync x\nverdict=FAIL\nid=A\n")
        efivar(dead, "VtdsyncCheckpoint",
               "vtdsync x\nid=C\nsuite=transitions\ncase=SS-A->PT\niteration=3\nat=T9\n"
               "passed=4\nfailed=0\nskipped=1\n")
        checks.append(("checkpoint_without_result", run("--file", res), 3,
                       "unfinished run: last started transitions SS-A->PT iteration 3 at T9; "
                       "counts so far: 4 passed, 0 failed, 1 skipped (checkpoint without a "
                       "result)"))

        done = os.path.join(d, "done")
        os.mkdir(done)
        res = efivar(done, "VtdsyncResult", "vtdsync x\nverdict=FAIL\nid=C\n")
        efivar(done, "VtdsyncCheckpoint", "vtdsync x\nid=C\nsuite=transitions\n")
        checks.append(("checkpoint_of_finished_run", run("--file", res), 1, "verdict=FAIL"))

        only = os.path.join(d, "only")
        os.mkdir(only)
        efivar(only, "VtdsyncCheckpoint", "vtdsync x\nid=C\nsuite=boot\ncase=start\n")
        checks.append(("checkpoint_only", run("--file", os.path.join(only, "VtdsyncResult-" + GUID)),
                       3, "unfinished run: last started boot start"))
    failures = 0
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
