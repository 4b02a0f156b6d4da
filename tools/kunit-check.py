#!/usr/bin/env python3
"""Run Linux's own KTAP parser (tools/testing/kunit/kunit_parser.py of a
kernel tree) over vtdsync serial logs.

  kunit-check.py --kunit-dir DIR LOG...

A log without KTAP (an image the firmware refused to start) is skipped.
A log passes when the parser reports no error and its passed/failed/skipped
counts, with nothing crashed, equal vtdsync's last line.  A run that ran no
test at all (the help run, "1..0 # SKIP") passes when the parser finds no
test and the last line says 0 passed, 0 failed, 0 skipped.  The parser
runs in a child process with a time and memory limit: some parser versions
loop on malformed KTAP.  The parser is not part of vtdsync; point --kunit-dir
(or make's KUNIT_DIR) at a kernel tree's copy.  Exit status: 0 all logs
pass, 1 a log fails, 2 bad usage or no parser there.
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys

SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed, (\d+) skipped$")
TIMEOUT_S = 30
MEMORY_BYTES = 1 << 30

# Runs inside the child: parse one log (the parser prints its report), then
# one marked line with the counts as JSON.
MARK = "@@kunit-check "
CHILD = r"""
import inspect, json, sys
sys.path.insert(0, sys.argv[1])
import kunit_parser
lines = open(sys.argv[2], errors="backslashreplace").read().splitlines()
args = [lines]
if len(inspect.signature(kunit_parser.parse_run_tests).parameters) > 1:
    import kunit_printer
    args.append(kunit_printer.stdout)
test = kunit_parser.parse_run_tests(*args)
c = test.counts
print("%s" + json.dumps({"passed": c.passed, "failed": c.failed, "crashed": c.crashed,
                         "skipped": c.skipped, "errors": c.errors, "status": test.status.name}))
""" % MARK


def limits():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def parse_with_kunit(kunit_dir, log):
    """The parser's counts for one log, or a string saying why there are none."""
    try:
        p = subprocess.run([sys.executable, "-c", CHILD, kunit_dir, log], capture_output=True,
                           text=True, timeout=TIMEOUT_S, preexec_fn=limits)
    except subprocess.TimeoutExpired:
        return f"the parser did not finish in {TIMEOUT_S} s (it loops on malformed KTAP)"
    if p.returncode != 0:
        tail = (p.stderr.strip().splitlines() or ["?"])[-1]
        return f"the parser failed (status {p.returncode}): {tail}"
    out = p.stdout.splitlines()
    marked = [l for l in out if l.startswith(MARK)]
    if not marked:
        return "the parser printed no counts"
    got = json.loads(marked[-1][len(MARK):])
    got["output"] = [re.sub(r"\x1b\[[0-9;]*m", "", l) for l in out if "ERROR" in l][:10]
    return got


def last_line_counts(log):
    with open(log, errors="replace") as f:
        lines = [l.strip() for l in f if l.strip()]
    m = SUMMARY.match(lines[-1]) if lines else None
    return tuple(int(x) for x in m.groups()) if m else None


def check(kunit_dir, log):
    """A list of problems (empty: the parser reads the log as vtdsync counts it)."""
    want = last_line_counts(log)
    if want is None:
        return ["no 'N passed, N failed, N skipped' last line"]
    got = parse_with_kunit(kunit_dir, log)
    if isinstance(got, str):
        return [got]
    problems = []
    if want == (0, 0, 0):
        if got["status"] != "NO_TESTS" or got["passed"] + got["failed"] + got["skipped"]:
            problems.append(f"a run of no tests reads as {got['status']}")
        return problems
    if got["errors"]:
        problems.append(f"{got['errors']} parser errors: " + "; ".join(got["output"]))
    if got["crashed"]:
        problems.append(f"{got['crashed']} tests crashed")
    mine = (got["passed"], got["failed"], got["skipped"])
    if mine != want:
        problems.append("parser counts %d passed, %d failed, %d skipped; vtdsync's last line "
                        "%d, %d, %d" % (mine + want))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 epilog="Exit status: 0 every log passes, 1 a log fails, "
                                        "2 no parser in --kunit-dir.")
    ap.add_argument("--kunit-dir", default=os.environ.get("KUNIT_DIR"))
    ap.add_argument("logs", nargs="+")
    args = ap.parse_args()
    if not args.kunit_dir or not os.path.exists(os.path.join(args.kunit_dir, "kunit_parser.py")):
        print(f"kunit-check: no kunit_parser.py in {args.kunit_dir!r} (set KUNIT_DIR to a "
              "kernel tree's tools/testing/kunit)")
        sys.exit(2)
    bad = skipped = 0
    for log in args.logs:
        with open(log, errors="replace") as f:
            if not any(l.startswith("KTAP version") for l in f):
                print(f"skip {log}: no KTAP in it (e.g. an image the firmware refused)")
                skipped += 1
                continue
        problems = check(args.kunit_dir, log)
        bad += bool(problems)
        print(f"{'ok' if not problems else 'FAIL':4} {log}" +
              "".join(f"\n     | {p}" for p in problems))
    checked = len(args.logs) - skipped
    print(f"kunit-check: {checked - bad} of {checked} logs with KTAP read cleanly by "
          f"{args.kunit_dir}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
