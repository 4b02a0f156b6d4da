#!/usr/bin/env python3
"""make mutants: build vtdsync with one known defect at a time and show that
the tests catch each one.

Each mutant is a patch file in tests/mutants/, NN-name.patch: a header that
says what the defect is and which tests must catch it, then a unified diff
(`diff -u` or `git diff` output, paths a/... b/...).  Production code knows
nothing of mutants: for each one the source tree is copied to ROOT/NN/src,
the patch is applied there with `git apply` (exact context: a patch whose
code changed fails loudly instead of testing nothing), and that copy is
built into ROOT/NN: the host tests the header names, and the firmware when
scenarios are to boot (BUILD=ROOT/NN).  First comes NN=0, the clean tree,
with every named test: a test that fails there proves nothing and is left
out of the verdicts (and named).

A mutant is caught when a test that passes on the clean tree fails on it.
Every test its header names must catch it: a named test that no longer does
is reported ("missed by") and fails the run, so the headers cannot go stale.

Header fields (one per line, before the diff; a line starting with a space
continues the previous field):
  Mutant:     one-line title for the table
  Defect:     what is wrong, and why a test should notice
  Host-tests: test_* programs of tests/host/ that must catch it
  Scenarios:  tests/scenarios/ names that must catch it

usage: mutants.py [--root DIR] [--only 1,3] [--scenarios 'a b'] [--jobs N]
                  [--first]
--scenarios replaces the named scenarios of every mutant ('' boots none:
the host tests alone judge).  Prints: mutant | caught by | verdict, and exits
1 when a mutant survives, is missed by a named test, or its patch does not
apply or build.
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MUTANT_DIR = os.path.join(ROOT, "tests", "mutants")
PATCH_NAME = re.compile(r"^(\d+)-[A-Za-z0-9_-]+\.patch$")
FIELDS = ("Mutant", "Defect", "Host-tests", "Scenarios")
HOST_TIMEOUT = 300


class Mutant:
    def __init__(self, n, path, fields):
        self.n, self.path = n, path
        self.title = fields.get("Mutant", "")
        self.defect = fields.get("Defect", "")
        self.host_tests = fields.get("Host-tests", "").split()
        self.scenarios = fields.get("Scenarios", "").split()


def parse_header(path):
    """{field: text} from the lines before the diff; raises ValueError."""
    fields, last = {}, None
    with open(path) as f:
        for line in f:
            if line.startswith(("--- ", "diff ")):
                break
            if line.startswith((" ", "\t")) and last:
                fields[last] += " " + line.strip()
                continue
            m = re.match(r"^([A-Za-z-]+):\s*(.*)$", line.rstrip("\n"))
            if m:
                if m.group(1) not in FIELDS:
                    raise ValueError(f"unknown header field {m.group(1)!r}")
                last = m.group(1)
                fields[last] = m.group(2).strip()
            elif line.strip():
                raise ValueError(f"header line is not 'Field: text': {line.strip()!r}")
            else:
                last = None
    return fields


def load_mutants():
    """{n: Mutant} from tests/mutants/, checked: a title, at least one test,
    every named test exists."""
    mutants, problems = {}, []
    known_host = {f[:-2] for f in os.listdir(os.path.join(ROOT, "tests", "host"))
                  if f.startswith("test_") and f.endswith(".c")}
    known_scn = {f[:-4] for f in os.listdir(os.path.join(ROOT, "tests", "scenarios"))
                 if f.endswith(".scn")}
    for name in sorted(os.listdir(MUTANT_DIR)):
        m = PATCH_NAME.match(name)
        if not m:
            continue
        path = os.path.join(MUTANT_DIR, name)
        try:
            mut = Mutant(int(m.group(1)), path, parse_header(path))
        except ValueError as e:
            problems.append(f"{name}: {e}")
            continue
        if mut.n == 0 or mut.n in mutants:
            problems.append(f"{name}: number {mut.n} is 0 or taken")
        if not mut.title:
            problems.append(f"{name}: no 'Mutant:' title")
        if not mut.host_tests and not mut.scenarios:
            problems.append(f"{name}: names no test that must catch it")
        problems += [f"{name}: no host test {t}" for t in mut.host_tests if t not in known_host]
        problems += [f"{name}: no scenario {s}" for s in mut.scenarios if s not in known_scn]
        mutants[mut.n] = mut
    return mutants, problems


def patched_tree(mut, out, log):
    """A copy of the source tree in out/src with the mutant's patch applied,
    or None (reason logged) when it does not apply exactly."""
    src = os.path.join(out, "src")
    shutil.rmtree(src, ignore_errors=True)
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for rel in filter(None, files.split("\0")):
        if os.path.isfile(os.path.join(ROOT, rel)):
            os.makedirs(os.path.dirname(os.path.join(src, rel)), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, rel), os.path.join(src, rel))
    if not apply_patch(src, mut.path, log):
        log.write(f"mutant {mut.n}: {os.path.basename(mut.path)} does not apply\n")
        return None
    return src


def apply_patch(tree, patch, log, check=False):
    """Apply (or with check, only try) a patch file to the tree at `tree`:
    git apply outside any repository (the ceiling keeps it from finding a
    worktree around `tree`), so a plain patch with exact context only."""
    cmd = ["git", "apply", "--verbose"] + (["--check"] if check else []) + [patch]
    env = dict(os.environ, GIT_CEILING_DIRECTORIES=os.path.dirname(os.path.abspath(tree)))
    p = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, env=env)
    log.write(f"$ (cd {tree}; {' '.join(cmd)})\n{p.stdout}{p.stderr}\n")
    return p.returncode == 0


def build(out, tree, tests, firmware, log):
    targets = ([f"{out}/vtdsync.efi"] if firmware else []) + [f"{out}/host/{t}" for t in tests]
    if not targets:
        return True
    cmd = ["make", "-s", f"-j{os.cpu_count() or 2}", f"BUILD={out}"] + targets
    p = subprocess.run(cmd, cwd=tree, capture_output=True, text=True)
    log.write(f"$ (cd {tree}; {' '.join(cmd)})\n{p.stdout}{p.stderr}\n")
    return p.returncode == 0


def run_host(out, tree, test, log):
    """(failed, detail): detail names the failing cases."""
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    try:
        p = subprocess.run([f"{out}/host/{test}"], cwd=tree, capture_output=True, text=True,
                           env=env, timeout=HOST_TIMEOUT)
    except subprocess.TimeoutExpired:
        log.write(f"--- {test}: timeout after {HOST_TIMEOUT} s\n")
        return True, "timeout"
    log.write(f"--- {test}: exit {p.returncode}\n{p.stdout}{p.stderr}\n")
    cases = [re.sub(r"^not ok \d+ (\S+).*", r"\1", l)
             for l in p.stdout.splitlines() if l.startswith("not ok ")]
    if p.returncode == 0 and not cases:
        return False, ""
    return True, ",".join(cases) if cases else f"exit {p.returncode}"


def run_scenario(out, name):
    """(failed, detail, output): detail names the first failing cases."""
    env = dict(os.environ, BUILD=out)
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "qemu-run.py"),
                        "--scenario", name, "--quiet"], cwd=ROOT, capture_output=True,
                       text=True, env=env)
    if p.returncode == 0:
        return False, "", p.stdout + p.stderr
    failed = []
    try:
        with open(os.path.join(out, "scenarios", name, "serial.log"), errors="replace") as f:
            for l in f:
                m = re.match(r"^\s+not ok \d+ (\S+)", l)
                if m and m.group(1) not in failed:
                    failed.append(m.group(1))
    except OSError:
        pass
    detail = ",".join(failed[:3]) + (",..." if len(failed) > 3 else "")
    return True, detail or "verdict/pattern", p.stdout + p.stderr


def run_one(mut, out, tests, scenarios, jobs, first, log):
    """{test name: detail} of the tests that failed, or a string saying
    what failed before any test ran.  mut None: the clean tree."""
    tree = patched_tree(mut, out, log) if mut else ROOT
    if tree is None:
        return "PATCH DOES NOT APPLY"
    if not build(out, tree, tests, bool(scenarios), log):
        return "BUILD FAILED"
    failed = {}
    for t in tests:
        bad, detail = run_host(out, tree, t, log)
        if bad:
            failed[t] = detail
            if first and mut:
                return failed
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(run_scenario, out, s): s for s in scenarios}
        for fut in concurrent.futures.as_completed(futures):
            s = futures[fut]
            bad, detail, output = fut.result()
            log.write(f"--- scenario {s}: {'FAIL' if bad else 'pass'} {detail}\n{output}\n")
            if bad:
                failed[s] = detail
    return failed


def union(lists):
    out = []
    for l in lists:
        out += [x for x in l if x not in out]
    return out


def verdict(mut, got, tests, scenarios, unreliable, first):
    """(caught by, verdict, details, bad)."""
    if isinstance(got, str):
        return "-", got, [], True
    if not tests and not scenarios:
        return "-", "not judged (no named test runs)", [], False
    hits = {t: d for t, d in got.items() if t not in unreliable}
    host = [t for t in tests if t in hits]
    qemu = [s for s in scenarios if s in hits]
    by = "; ".join(x for x in ["host: " + " ".join(host) if host else "",
                                "qemu: " + " ".join(qemu) if qemu else ""] if x)
    details = [f"  {mut.n} {t}: {hits[t]}" for t in host + qemu]
    named = [t for t in mut.host_tests + mut.scenarios if t in tests + scenarios]
    missed = [] if first else [t for t in named if t not in hits and t not in unreliable]
    if not hits:
        return "-", "SURVIVED", details, True
    if missed:
        return by, "MISSED BY " + " ".join(missed), details, True
    return by, "caught", details, False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.join(ROOT, "build", "mutants"))
    ap.add_argument("--only", default="", help="comma-separated mutant numbers")
    ap.add_argument("--scenarios", default=None,
                    help="scenarios to boot instead of the named ones ('': none)")
    ap.add_argument("--jobs", type=int, default=1, help="scenarios booted at once")
    ap.add_argument("--first", action="store_true", help="stop a mutant at its first catch")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    mutants, problems = load_mutants()
    if problems:
        print("mutants: bad patch files in tests/mutants:\n  " + "\n  ".join(problems))
        return 1
    wanted = [int(x) for x in args.only.split(",") if x] or sorted(mutants)
    unknown = [n for n in wanted if n not in mutants]
    if unknown:
        print(f"mutants: no patch numbered {', '.join(map(str, unknown))} in tests/mutants")
        return 1

    def scenarios_of(mut):
        return mut.scenarios if args.scenarios is None else args.scenarios.split()

    start = time.time()
    results, plan = {}, {}
    plan[0] = (union(mutants[n].host_tests for n in wanted),
               union(scenarios_of(mutants[n]) for n in wanted))
    for n in wanted:
        plan[n] = (mutants[n].host_tests, scenarios_of(mutants[n]))
    for n in [0] + wanted:
        mut = mutants.get(n)
        out = os.path.join(root, str(n))
        os.makedirs(out, exist_ok=True)
        print(f"mutants: {n}: {mut.title if mut else 'baseline (no defect)'} ...", flush=True)
        t0 = time.time()
        with open(os.path.join(out, "mutant.log"), "w") as log:
            results[n] = run_one(mut, out, *plan[n], args.jobs, args.first, log)
        got = results[n]
        print(f"mutants: {n}: {got if isinstance(got, str) else f'{len(got)} test(s) failed'}"
              f" in {time.time() - t0:.0f} s (log: {out}/mutant.log)",
              flush=True)
        if n == 0 and isinstance(got, str):
            print("mutants: the clean build fails: nothing to compare against")
            return 1

    unreliable = set(results[0])
    rows, details, bad = [], [], 0
    for n in wanted:
        by, what, more, failed = verdict(mutants[n], results[n], *plan[n], unreliable, args.first)
        rows.append((n, mutants[n].title, by, what))
        details += more
        bad += failed

    head = "caught by (host tests; QEMU scenarios)"
    width = max([len(head)] + [len(r[2]) for r in rows])
    print()
    print(f"{'mutant':<58} | {head:<{width}} | verdict")
    print(f"{'-' * 58}-+-{'-' * width}-+---------")
    for n, what, by, v in rows:
        print(f"{f'{n} {what}':<58} | {by:<{width}} | {v}")
    if details:
        print("\nfailing cases:")
        print("\n".join(details))
    if unreliable:
        print(f"\nmutants: failed on the clean baseline, not counted: "
              f"{', '.join(sorted(unreliable))}")
    print(f"\nmutants: {len(rows) - bad} of {len(rows)} caught by every named test in "
          f"{time.time() - start:.0f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
