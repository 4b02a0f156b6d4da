#!/usr/bin/env python3
"""vtdsync test runner: host tests, fuzzers and QEMU scenarios.

  run-tests.py --host BIN...            run host test binaries (KTAP output)
  run-tests.py --fuzz SECONDS BIN...    run libFuzzer harnesses for a bounded time
  run-tests.py --scenarios [NAME...]    boot QEMU scenarios (all when none named)

Options combine.  Every host test case, fuzzer and scenario counts as one
test; the last line is "N passed, N failed, N skipped".
"""
import concurrent.futures
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import importlib.util

spec = importlib.util.spec_from_file_location(
    "qemu_run", os.path.join(os.path.dirname(os.path.abspath(__file__)), "qemu-run.py"))
qemu_run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(qemu_run)

ROOT = qemu_run.ROOT
totals = {"passed": 0, "failed": 0, "skipped": 0}
failures = []


def record(kind, name, result, detail=""):
    totals[result] += 1
    if result == "failed":
        failures.append(f"{kind} {name}: {detail}")


def run_host(binaries):
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    for b in binaries:
        name = os.path.basename(b)
        start = time.time()
        p = subprocess.run([b], capture_output=True, text=True, env=env, timeout=600)
        secs = time.time() - start
        cases = [l for l in p.stdout.splitlines() if re.match(r"^(not )?ok \d+ ", l)]
        n_fail = sum(1 for l in cases if l.startswith("not ok"))
        n_skip = sum(1 for l in cases if "# SKIP" in l and l.startswith("ok"))
        for l in cases:
            case = re.sub(r"^(not )?ok \d+ ", "", l).split(" #")[0]
            if l.startswith("not ok"):
                record("host", f"{name}.{case}", "failed", "see output above")
            elif "# SKIP" in l:
                record("host", f"{name}.{case}", "skipped")
            else:
                record("host", f"{name}.{case}", "passed")
        crashed = p.returncode != 0 and n_fail == 0
        if crashed:
            record("host", name, "failed", f"exit status {p.returncode} without a failing case")
        status = "FAIL" if (n_fail or crashed) else "ok"
        print(f"host  {status:4} {name}: {len(cases)} cases, {n_fail} failed, "
              f"{n_skip} skipped ({secs:.1f} s)")
        if n_fail or crashed:
            print("\n".join("      | " + l for l in (p.stdout + p.stderr).splitlines()[-60:]))
        sys.stdout.flush()


def run_fuzz(seconds, binaries):
    for b in binaries:
        name = os.path.basename(b)
        corpus_src = os.path.join(ROOT, "tests", "fuzz", "corpus", name.replace("fuzz_", ""))
        work = os.path.join(os.path.dirname(b), name + ".corpus")
        os.makedirs(work, exist_ok=True)
        args = [b, f"-max_total_time={seconds}", "-print_final_stats=1", work]
        if os.path.isdir(corpus_src):
            args.append(corpus_src)
        start = time.time()
        p = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 300)
        execs = re.search(r"stat::number_of_executed_units:\s*(\d+)", p.stderr)
        ok = p.returncode == 0
        record("fuzz", name, "passed" if ok else "failed", "finding: see output")
        print(f"fuzz  {'ok' if ok else 'FAIL':4} {name}: {execs.group(1) if execs else '?'} execs "
              f"in {time.time() - start:.0f} s")
        if not ok:
            print("\n".join("      | " + l for l in p.stderr.splitlines()[-40:]))
        sys.stdout.flush()


def run_scenarios(names):
    if not names:
        names = sorted(f[:-4] for f in os.listdir(os.path.join(ROOT, "tests", "scenarios"))
                       if f.endswith(".scn"))
    jobs = int(os.environ.get("SCENARIO_JOBS", "2"))
    accel = os.environ.get("ACCEL", "tcg")

    def one(name):
        sc = qemu_run.load_scenario(name)
        return sc, qemu_run.run_scenario(sc, accel=accel)

    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
        for sc, (ok, verdict, secs, lines, problems) in ex.map(one, names):
            record("qemu", sc["name"], "passed" if ok else "failed", "; ".join(problems))
            summary = next((l for l in reversed(lines) if re.match(r"^\d+ passed", l)), "no summary")
            print(f"qemu  {'ok' if ok else 'FAIL':4} {sc['name']}: verdict {verdict} "
                  f"(expected {sc['expect']}), {summary}, {secs:.1f} s")
            for p in problems:
                print(f"      | {p}")
            if not ok:
                print(f"      | log: {qemu_run.BUILD}/scenarios/{sc['name']}/serial.log")
                tail = [l for l in lines if l.strip()][-25:]
                print("\n".join("      | " + l for l in tail))
            sys.stdout.flush()


def main():
    args = sys.argv[1:]
    mode, groups = None, {"--host": [], "--fuzz": [], "--scenarios": []}
    scen_requested = False
    for a in args:
        if a in groups:
            mode = a
            scen_requested |= a == "--scenarios"
        elif mode:
            groups[mode].append(a)
        else:
            raise SystemExit(__doc__)
    qemu_run.install_signal_handlers()
    start = time.time()
    if groups["--host"]:
        run_host(groups["--host"])
    if groups["--fuzz"]:
        run_fuzz(int(groups["--fuzz"][0]), groups["--fuzz"][1:])
    if scen_requested:
        run_scenarios(groups["--scenarios"])
    if failures:
        print("\nFailures:")
        for f in failures:
            print(f"  {f}")
    print(f"\n# total time {time.time() - start:.0f} s")
    print(f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
    sys.exit(1 if totals["failed"] else 0)


if __name__ == "__main__":
    main()
