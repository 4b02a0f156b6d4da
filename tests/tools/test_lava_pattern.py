#!/usr/bin/env python3
"""The LAVA monitor pattern of tools/lava/vtdsync-usb.yaml, applied to a real
serial log, finds exactly the KTAP results, with the right pass/fail."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def template_field(text, key):
    m = re.search(rf"^\s+{key}: '(.*)'\s*$", text, re.M)
    if not m:
        raise SystemExit(f"no {key} in the template")
    return m.group(1).replace("''", "'")


def main():
    text = open(os.path.join(ROOT, "tools/lava/vtdsync-usb.yaml")).read()
    pattern = re.compile(template_field(text, "pattern"))
    start = re.compile(template_field(text, "start"))
    end = re.compile(template_field(text, "end"))
    fixup = dict(re.findall(r"^\s+'(ok|not ok)': (pass|fail)\s*$", text, re.M))
    failures = 0
    logs = sorted(os.listdir(os.path.join(ROOT, "tests/data/serial")))
    for n, name in enumerate(logs):
        failures += check_log(os.path.join(ROOT, "tests/data/serial", name), pattern, start, end,
                              fixup, 2 * n + 1)
    print(f"1..{2 * len(logs)}")
    sys.exit(1 if failures else 0)


def check_log(log, pattern, start, end, fixup, number):
    name = os.path.basename(log)
    lines = open(log, errors="replace").read().splitlines()
    failures = 0
    begun = False
    seen = []
    for line in lines:
        if not begun:
            begun = bool(start.search(line))
            continue
        if end.search(line):
            break
        m = pattern.search(line)
        if m:
            seen.append((m.group("test_case_id"), fixup[m.group("result")]))
    expect = []
    for line in lines:
        k = re.match(r"^\s*(not ok|ok) \d+ (\S+)", line)
        if k:
            expect.append((k.group(2), "fail" if k.group(1) == "not ok" else "pass"))
    if seen != expect or not seen:
        print(f"not ok {number} {name}.pattern_matches_ktap # LAVA saw {len(seen)} results, "
              f"KTAP has {len(expect)}")
        failures += 1
    else:
        print(f"ok {number} {name}.pattern_matches_ktap # {len(seen)} results")
    fails = [t for t, r in seen if r == "fail"]
    if any(l.lstrip().startswith("not ok") for l in lines) != bool(fails):
        print(f"not ok {number + 1} {name}.failures_reported")
        failures += 1
    else:
        print(f"ok {number + 1} {name}.failures_reported # {len(fails)} failures")
    return failures


if __name__ == "__main__":
    main()
