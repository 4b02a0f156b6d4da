#!/usr/bin/env python3
"""tools/ktap_check.py: every serial sample in tests/data/serial is strict
KTAP v1 whose leaf results add up to the log's last line, and each kind of
broken document (plan last, numbering, nesting, directives, counts, lines
after a bail-out) is caught.  (Each scenario's log is checked the same way
by tools/qemu-run.py as part of its verdict.)"""
import glob
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import ktap_check  # noqa: E402

GOOD = """KTAP version 1
# header
1..2
    KTAP version 1
    # Subtest: alpha
    1..2
    ok 1 one
    # two: a reason
    not ok 2 two
not ok 1 alpha
    KTAP version 1
    # Subtest: beta
    ok 1 three # SKIP no device
ok 2 beta # SKIP all cases skipped
1 passed, 1 failed, 1 skipped"""


def broken(old, new):
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


# (name, document, a word the problem must contain)
BROKEN = [
    ("plan_after_results", broken("    ok 1 three # SKIP no device\n",
                                  "    ok 1 three # SKIP no device\n    1..1\n"), "plan"),
    ("wrong_number", broken("not ok 2 two", "not ok 3 two"), "number"),
    ("plan_count", broken("    1..2\n", "    1..3\n"), "plan"),
    ("top_plan_count", broken("1..2\n", "1..3\n"), "plan"),
    ("unknown_directive", broken("ok 1 one", "ok 1 one # FIXME later"), "directive"),
    ("skip_without_reason", broken("# SKIP no device", "# SKIP"), "reason"),
    ("timeout_on_ok", broken("ok 1 one", "ok 1 one # TIMEOUT slow"), "TIMEOUT"),
    ("hash_in_name", broken("ok 1 one", "ok 1 o#ne"), "#"),
    ("subtest_name_mismatch", broken("not ok 1 alpha", "not ok 1 alfa"), "alpha"),
    ("result_too_deep", broken("    ok 1 one", "        ok 1 one"), "level"),
    ("odd_indent", broken("    ok 1 one", "   ok 1 one"), "indent"),
    ("never_ends", GOOD.replace("ok 2 beta # SKIP all cases skipped\n", ""), "never ends"),
    ("counts_differ", broken("1 passed, 1 failed", "2 passed, 1 failed"), "last line"),
    ("after_bail_out", broken("ok 2 beta #", "Bail out! x\nok 2 beta #"), "Bail out"),
    ("bail_out_inside", broken("not ok 1 alpha", "    Bail out! x\nnot ok 1 alpha"), "Bail out"),
    ("case_named_like_planless_suite", broken("    ok 1 three #", "    ok 1 beta #"), "name"),
    ("no_version", GOOD.replace("KTAP version 1\n# header", "# header", 1).replace(
        "KTAP version 1", "KTAP version 2"), "version"),
]


def main():
    samples = sorted(glob.glob(os.path.join(ROOT, "tests/data/serial/*.log")))
    print("KTAP version 1")
    print(f"1..{len(samples) + 2 + len(BROKEN)}")
    n = 0
    failures = 0

    def report(ok, name, detail):
        nonlocal n, failures
        n += 1
        failures += not ok
        print(f"{'ok' if ok else 'not ok'} {n} {name}")
        if not ok:
            print(f"# {detail}")

    for path in samples:
        doc = ktap_check.parse_file(path)
        report(not doc.problems and doc.summary is not None,
               "sample_" + os.path.basename(path)[:-4].replace("-", "_"),
               f"problems {doc.problems[:5]}, last line {doc.summary}")
    doc = ktap_check.parse(GOOD.splitlines())
    report(not doc.problems and doc.counts() == {"passed": 1, "failed": 1, "skipped": 1},
           "good_document", f"{doc.problems} {doc.counts()}")
    two = doc.tests[0].subtests[1]
    report(doc.header == ["header"] and doc.tests[0].status == "fail" and
           two.diagnostics == ["two: a reason"] and doc.tests[1].subtests[0].reason == "no device",
           "tree_and_reasons", f"header {doc.header}, two {two.diagnostics}")
    for name, text, word in BROKEN:
        doc = ktap_check.parse(text.splitlines())
        hit = [t for _, t in doc.problems if word in t]
        report(bool(hit), "catches_" + name, f"problems {doc.problems}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
