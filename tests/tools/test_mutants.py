#!/usr/bin/env python3
"""tools/mutants.py without building anything: every patch in tests/mutants/
has a valid header naming tests that exist and still applies to this tree
(so a change that moves a mutant's code fails here, in `make test`, and not
only in `make mutants`); the header parser refuses malformed headers; a
patch whose context is gone does not apply; the verdicts (caught, SURVIVED,
MISSED BY, baseline failures not counted)."""
import importlib.util
import io
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
spec = importlib.util.spec_from_file_location("mutants", os.path.join(ROOT, "tools/mutants.py"))
mutants = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mutants)

DIFF = """--- a/f.c
+++ b/f.c
@@ -1,3 +1,3 @@
 int a;
-int b;
+int c;
 int d;
"""


def patched_files(path):
    with open(path) as f:
        return [l[6:].strip() for l in f if l.startswith("+++ b/")]


def case_headers_valid():
    found, problems = mutants.load_mutants()
    return not problems and sorted(found) == list(range(1, len(found) + 1)) and len(found) >= 8, \
        f"problems {problems}, numbers {sorted(found)}"


def case_patches_apply():
    """Each patch against a scratch copy of just the files it touches."""
    found, _ = mutants.load_mutants()
    bad = []
    for n, mut in sorted(found.items()):
        with tempfile.TemporaryDirectory() as d:
            tree = os.path.join(d, "src")
            for rel in patched_files(mut.path):
                os.makedirs(os.path.dirname(os.path.join(tree, rel)), exist_ok=True)
                shutil.copy(os.path.join(ROOT, rel), os.path.join(tree, rel))
            log = io.StringIO()
            if not mutants.apply_patch(tree, mut.path, log, check=True):
                bad.append(f"{n}: {log.getvalue().strip()}")
    return not bad, "; ".join(bad)


def case_stale_patch_refused():
    with tempfile.TemporaryDirectory() as d:
        tree = os.path.join(d, "src")
        os.makedirs(tree)
        patch = os.path.join(d, "01-x.patch")
        with open(patch, "w") as f:
            f.write("Mutant: x\nHost-tests: test_pgtable\n\n" + DIFF)
        with open(os.path.join(tree, "f.c"), "w") as f:
            f.write("int a;\nint b;\nint d;\n")
        applies = mutants.apply_patch(tree, patch, io.StringIO())
        with open(os.path.join(tree, "f.c")) as f:
            changed = f.read() == "int a;\nint c;\nint d;\n"
        with open(os.path.join(tree, "f.c"), "w") as f:
            f.write("int a;\nint moved;\nint d;\n")
        refused = not mutants.apply_patch(tree, patch, io.StringIO())
    return applies and changed and refused, f"applies {applies} changed {changed} refused {refused}"


def parse(text):
    with tempfile.NamedTemporaryFile("w", suffix=".patch", delete=False) as f:
        f.write(text + "\n" + DIFF)
    try:
        return mutants.parse_header(f.name)
    except ValueError as e:
        return str(e)
    finally:
        os.unlink(f.name)


def case_header_parser():
    good = parse("Mutant: t\nDefect: one\n two\nHost-tests: test_a test_b\nScenarios: s")
    ok = good == {"Mutant": "t", "Defect": "one two", "Host-tests": "test_a test_b",
                  "Scenarios": "s"}
    unknown = parse("Mutant: t\nCaught-by: test_a")
    stray = parse("Mutant: t\nthis is prose")
    return ok and "unknown header field" in unknown and "not 'Field: text'" in stray, \
        f"{good!r} {unknown!r} {stray!r}"


def case_verdicts():
    mut = mutants.Mutant(3, "x", {"Mutant": "t", "Host-tests": "test_a test_b",
                                  "Scenarios": "s1"})
    tests, scn = ["test_a", "test_b"], ["s1"]
    got = [mutants.verdict(mut, g, tests, scn, unreliable, False)[1] for g, unreliable in [
        ({"test_a": "", "test_b": "", "s1": ""}, set()),
        ({"test_a": ""}, set()),
        ({}, set()),
        ({"test_a": "", "test_b": ""}, {"s1"}),
        ("BUILD FAILED", set()),
    ]]
    want = ["caught", "MISSED BY test_b s1", "SURVIVED", "caught", "BUILD FAILED"]
    return got == want, f"got {got}"


def main():
    cases = [case_headers_valid, case_patches_apply, case_stale_patch_refused,
             case_header_parser, case_verdicts]
    print("KTAP version 1")
    print(f"1..{len(cases)}")
    failures = 0
    for i, case in enumerate(cases, 1):
        ok, why = case()
        failures += not ok
        print(f"{'ok' if ok else 'not ok'} {i} {case.__name__[5:]}")
        if not ok:
            print(f"# {why}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
