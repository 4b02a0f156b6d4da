#!/usr/bin/env python3
"""tools/qemu-run.py: the case:, json: and totals: keys of a scenario judge a
log by its KTAP verdicts and json: figures, and each one fails when the log
says otherwise (a wrong result, a missing case, a wrong reason, a figure out
of range, a bad line).  The log is a small KTAP document written here."""
import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
spec = importlib.util.spec_from_file_location("qemu_run", os.path.join(ROOT, "tools",
                                                                       "qemu-run.py"))
qemu_run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(qemu_run)

LOG = """KTAP version 1
# a header line
1..2
    KTAP version 1
    # Subtest: traffic
    1..4
    ok 1 steady_PT
    # steady_SS: 3 errors, 0 mismatches, 1 faults
    not ok 2 steady_SS
    ok 3 steady_FS # SKIP first-stage translation not supported (ECAP.FLTS=0)
    ok 4 pt_fastpath # XFAIL known deviation (quirk=pt_ctx_flush)
not ok 1 traffic
    KTAP version 1
    # Subtest: transitions
    ok 1 SS-A->SS-B
json: {"strategy":"entry_sync","pair":"SS-A->SS-B","class":"hitless","syncs":1,"faults":0,"root":8589934592}
json: {"strategy":"clear","pair":"SS-A->SS-B","class":"breaking","syncs":3,"faults":7}
    ok 2 SS-A->SS-B
    not ok 3 in-progress # TIMEOUT suite timeout
not ok 2 transitions
3 passed, 2 failed, 1 skipped""".splitlines()

# (name, case: lines, json: lines, totals: lines, how many problems)
CHECKS = [
    ("case_pass", ["traffic/steady_PT = pass"], [], [], 0),
    ("case_fail", ["traffic/steady_SS = fail"], [], [], 0),
    ("case_fail_reason", ["traffic/steady_SS = fail # 1 faults"], [], [], 0),
    ("catches_wrong_fail_reason", ["traffic/steady_SS = fail # mismatches, 0"], [], [], 1),
    ("case_suite", ["traffic = fail", "transitions = fail"], [], [], 0),
    ("case_skip_reason", ["traffic/steady_FS = skip # ECAP\\.FLTS=0"], [], [], 0),
    ("case_xfail", ["traffic/pt_fastpath = xfail # quirk=pt_ctx_flush"], [], [], 0),
    ("case_timeout", ["transitions/in-progress = timeout"], [], [], 0),
    ("case_every_iteration", ["transitions/SS-A->SS-B = pass"], [], [], 0),
    ("case_absent", ["traffic/steady_off = absent", "steady_PT = absent"], [], [], 0),
    ("case_either", ["traffic/steady_FS = pass|skip", "traffic/steady_PT = pass|skip"], [], [], 0),
    ("case_skip_or_absent", ["traffic/steady_off = skip|absent", "traffic/steady_FS = skip|absent"],
     [], [], 0),
    ("catches_neither", ["traffic/steady_SS = pass|skip"], [], [], 1),
    ("catches_wrong_result", ["traffic/steady_SS = pass"], [], [], 1),
    ("catches_skip_for_pass", ["traffic/steady_FS = pass"], [], [], 1),
    ("catches_xfail_for_pass", ["traffic/pt_fastpath = pass"], [], [], 1),
    ("catches_missing_case", ["traffic/steady_off = skip"], [], [], 1),
    ("catches_wrong_suite", ["transitions/steady_PT = pass"], [], [], 1),
    ("catches_wrong_reason", ["traffic/steady_FS = skip # SLTS"], [], [], 1),
    ("catches_present", ["traffic/steady_PT = absent"], [], [], 1),
    ("catches_bad_case_line", ["traffic/steady_PT is fine"], [], [], 1),
    ("json_match", [], ["strategy=entry_sync pair=SS-A->SS-B class=hitless syncs=1"], [], 0),
    ("json_numbers", [], ["strategy=clear syncs>=3 faults>0 pair~^SS-A"], [], 0),
    ("json_hex", [], ["root=0x200000000 root>=0x100000000"], [], 0),
    ("json_one_line_holds_all", [], ["class=hitless faults>0"], [], 1),
    ("catches_json_figure", [], ["strategy=entry_sync syncs=2"], [], 1),
    ("catches_json_missing_key", [], ["resets=0"], [], 1),
    ("catches_bad_json_line", [], ["syncs"], [], 1),
    ("totals", [], [], ["passed=3 failed=2 skipped>=1"], 0),
    ("catches_totals", [], [], ["failed=0"], 1),
]


def main():
    print("KTAP version 1")
    print(f"1..{len(CHECKS)}")
    failures = 0
    for n, (name, case, js, totals, want) in enumerate(CHECKS, 1):
        sc = {"case": case, "json": js, "totals": totals}
        problems = qemu_run.verdict_problems(sc, LOG)
        ok = len(problems) == want
        failures += not ok
        print(f"{'ok' if ok else 'not ok'} {n} {name}")
        if not ok:
            print(f"# expected {want} problem(s), got {problems}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
