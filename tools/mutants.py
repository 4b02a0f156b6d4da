#!/usr/bin/env python3
"""make mutants: build vtdsync with one known defect at a time and show that
the tests catch each one.

A mutant is made one of two ways.  The older ones are compile-time
switches, -DVTDSYNC_MUTANT=N, read at the place of the defect
(iommu/entry_sync.c, iommu/pasid_write.c, iommu/pgtable.c,
arch/x86/atomic128.h); normal builds never define it.  The newer ones
(PATCHES) keep production code free of mutant knowledge: the source tree is
copied to ROOT/N/src, one exact text in one file is replaced there (it must
occur exactly once, so a mutant whose code moved fails loudly instead of
testing nothing), and that copy is built.  For each N (and first for N=0,
the clean baseline) the firmware and the host tests that link the mutated
code are built into ROOT/N/, the host tests run, and a few QEMU scenarios
boot that firmware (BUILD=ROOT/N).  A mutant is caught when a test that
passes on the baseline fails on it.  A test that fails on the baseline
proves nothing and is left out of the verdicts (and named).

usage: mutants.py [--root DIR] [--only 1,3] [--scenarios 'a b'] [--jobs N]
                  [--first]
Prints: mutant | caught by (host tests / scenarios) | verdict, and exits 1
when a mutant survives or a build fails.
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

MUTANTS = {
    1: "entry_sync: Present chunk written first (breaking path)",
    2: "64-bit stores instead of CMPXCHG16B",
    3: "entry_sync: no sync after a change",
    4: "no IOTLB invalidation in the sync",
    5: "invalidation with the new DID, not the cached one",
    6: "second-stage leaf PTEs lose W",
    7: "clflush dropped (table writes never reach memory)",
    8: "PWSNP never set (ECAP.SMPWC ignored)",
}
# Mutants made by editing a copy of the tree: N -> (file, text, replacement).
PATCHES = {
    7: ("iommu/vtd.c", "        u->ops->flush(u->ops->ctx, (const void *)p, len);\n",
        "        (void)p, (void)len;\n"),
    8: ("iommu/vtd.c", "    c->pwsnp = u->caps.smpwc;\n", "    c->pwsnp = false;\n"),
}
# The files holding VTDSYNC_MUTANT hooks: a host test that links or
# includes one of them runs for every mutant.
HOOKED = ["iommu/entry_sync.c", "iommu/pasid_write.c", "iommu/pgtable.c",
          "arch/x86/atomic128.h"]


def host_tests_naming(files):
    """tests/host/test_*.c whose HOST-DEPS lines or #includes name one of files."""
    found = []
    host = os.path.join(ROOT, "tests", "host")
    for name in sorted(os.listdir(host)):
        if not (name.startswith("test_") and name.endswith(".c")):
            continue
        with open(os.path.join(host, name), errors="replace") as f:
            text = f.read()
        if any(h in text for h in files):
            found.append(name[:-2])
    return found


def host_tests_for(n):
    """The host tests that link mutant n's code (for 0: those of every mutant)."""
    if n == 0:
        return host_tests_naming(HOOKED + [p[0] for p in PATCHES.values()])
    return host_tests_naming([PATCHES[n][0]] if n in PATCHES else HOOKED)


HOST_TESTS = host_tests_for(0)
# Distinct pages in all three table kinds, isolation, the transition matrix.
SCENARIOS = ["stale-ss", "stale-fs", "stale-legacy", "vtd-scalable", "transitions-ss",
             "transitions-legacy"]
HOST_TIMEOUT = 300


def patched_tree(n, out, log):
    """A copy of the source tree in out/src with mutant n's patch applied, or
    None (reason logged) when the text to replace is not there exactly once."""
    path, text, replacement = PATCHES[n]
    src = os.path.join(out, "src")
    shutil.rmtree(src, ignore_errors=True)
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for rel in filter(None, files.split("\0")):
        if os.path.isfile(os.path.join(ROOT, rel)):
            os.makedirs(os.path.dirname(os.path.join(src, rel)), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, rel), os.path.join(src, rel))
    with open(os.path.join(src, path)) as f:
        code = f.read()
    if code.count(text) != 1:
        log.write(f"mutant {n}: {path} holds {code.count(text)} copies of {text!r}, not 1\n")
        return None
    with open(os.path.join(src, path), "w") as f:
        f.write(code.replace(text, replacement))
    log.write(f"mutant {n}: {path}: {text.strip()!r} -> {replacement.strip()!r}\n")
    return src


def build(n, out, tree, tests, log):
    flags = f"-DVTDSYNC_MUTANT={n}" if n and n not in PATCHES else ""
    targets = [f"{out}/vtdsync.efi"] + [f"{out}/host/{t}" for t in tests]
    cmd = ["make", "-s", f"-j{os.cpu_count() or 2}", f"BUILD={out}",
           f"FW_EXTRA_CFLAGS={flags}", f"HOST_EXTRA_CFLAGS={flags}"] + targets
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


def run_one(n, out, scenarios, jobs, first, log):
    """{test name: detail} of the tests that failed, or None if the build failed."""
    tree = patched_tree(n, out, log) if n in PATCHES else ROOT
    tests = host_tests_for(n)
    if tree is None or not build(n, out, tree, tests, log):
        return None
    failed = {}
    for t in tests:
        bad, detail = run_host(out, tree, t, log)
        if bad:
            failed[t] = detail
            if first and n:
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.join(ROOT, "build", "mutants"))
    ap.add_argument("--only", default="", help="comma-separated mutant numbers")
    ap.add_argument("--scenarios", default=" ".join(SCENARIOS))
    ap.add_argument("--jobs", type=int, default=1, help="scenarios booted at once")
    ap.add_argument("--first", action="store_true", help="stop a mutant at its first catch")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    wanted = [int(x) for x in args.only.split(",") if x] or sorted(MUTANTS)
    scenarios = args.scenarios.split()
    start = time.time()

    results = {}
    for n in [0] + wanted:
        out = os.path.join(root, str(n))
        os.makedirs(out, exist_ok=True)
        what = MUTANTS.get(n, "baseline (no defect)")
        print(f"mutants: {n}: {what} ...", flush=True)
        t0 = time.time()
        with open(os.path.join(out, "mutant.log"), "w") as log:
            results[n] = run_one(n, out, scenarios, args.jobs, args.first, log)
        got = results[n]
        print(f"mutants: {n}: {'build failed' if got is None else f'{len(got)} test(s) failed'}"
              f" in {time.time() - t0:.0f} s (log: {out}/mutant.log)",
              flush=True)
        if n == 0 and got is None:
            print("mutants: the clean build fails: nothing to compare against")
            return 1

    unreliable = set(results[0])
    rows, details, survivors = [], [], 0
    for n in wanted:
        got = results[n]
        if got is None:
            rows.append((n, MUTANTS[n], "-", "BUILD FAILED"))
            survivors += 1
            continue
        hits = {t: d for t, d in got.items() if t not in unreliable}
        host = [t for t in HOST_TESTS if t in hits]
        qemu = [s for s in scenarios if s in hits]
        by = "; ".join(x for x in ["host: " + " ".join(host) if host else "",
                                    "qemu: " + " ".join(qemu) if qemu else ""] if x)
        survivors += not hits
        rows.append((n, MUTANTS[n], by or "-", "caught" if hits else "SURVIVED"))
        details += [f"  {n} {t}: {hits[t]}" for t in host + qemu]

    head = "caught by (host tests; QEMU scenarios)"
    width = max([len(head)] + [len(r[2]) for r in rows])
    print()
    print(f"{'mutant':<58} | {head:<{width}} | verdict")
    print(f"{'-' * 58}-+-{'-' * width}-+---------")
    for n, what, by, verdict in rows:
        print(f"{f'{n} {what}':<58} | {by:<{width}} | {verdict}")
    if details:
        print("\nfailing cases:")
        print("\n".join(details))
    if unreliable:
        print(f"\nmutants: failed on the clean baseline, not counted: "
              f"{', '.join(sorted(unreliable))}")
    print(f"\nmutants: {len(rows) - survivors} of {len(rows)} caught in "
          f"{time.time() - start:.0f} s")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
