#!/usr/bin/env python3
"""tools/vtdsync-results: reads an efivarfs file (attributes + text) and sets
its exit status from the verdict, a missing file is reported, not a crash;
--junit and --json from every serial sample and from the variable give the
counts of the log's last line (the JUnit parsed with Python's XML parser);
--html draws each run's two transition grids with each cell in its case's
verdict, adds a fleet table for several machines, and has no script and no
network reference."""
import glob
import html.parser
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools/vtdsync-results")
sys.path.insert(0, os.path.join(ROOT, "tools"))
import ktap_check  # noqa: E402

SAMPLES = sorted(glob.glob(os.path.join(ROOT, "tests/data/serial/*.log")))


def run(*args):
    return subprocess.run([sys.executable, TOOL, *args], capture_output=True, text=True)


def junit_counts(path):
    root = ET.parse(path).getroot()
    cases = root.findall("./testsuite/testcase")
    return {"suites": len(root.findall("./testsuite")), "tests": len(cases),
            "failed": sum(bool(c.find("failure") is not None or c.find("error") is not None)
                          for c in cases),
            "skipped": sum(c.find("skipped") is not None for c in cases),
            "attr": (int(root.get("tests")), int(root.get("failures")) + int(root.get("errors")),
                     int(root.get("skipped")))}


class Cells(html.parser.HTMLParser):
    """The page's matrix cells, fleet rows and anything that loads or runs."""

    def __init__(self):
        super().__init__()
        self.cells, self.matrices, self.fleet_rows, self.bad = [], [], 0, []
        self.in_fleet = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.in_fleet = a.get("class") == "fleet"
            if a.get("class") == "matrix":
                self.matrices.append(a.get("data-strategy"))
        if tag == "tr" and self.in_fleet:
            self.fleet_rows += 1
        if tag == "td" and "data-case" in a:
            self.cells.append((a["data-case"], a["class"]))
        if tag in ("script", "link", "img", "iframe") or any(
                v and ("http:" in v or "https:" in v) for _, v in attrs):
            self.bad.append(tag)


def case_verdicts(path):
    doc = ktap_check.parse_file(path)
    suite = next(t for t in doc.tests if t.name == "transitions")
    return {c.name: c.status if c.status in ("pass", "skip") else "fail" for c in suite.subtests}


def main():
    failures = 0
    results = []

    def case(name, ok, detail=""):
        results.append((name, bool(ok), detail))

    with tempfile.TemporaryDirectory() as d:
        good = os.path.join(d, "good")
        with open(good, "wb") as f:
            f.write(b"\x07\x00\x00\x00vtdsync abc\nverdict=PASS\npassed=3\n")
        bad = os.path.join(d, "bad")
        with open(bad, "wb") as f:
            f.write(b"\x07\x00\x00\x00vtdsync abc\nverdict=FAIL\npassed=5\nfailed=2\nskipped=1\n"
                    b"fail=transitions.SS-A->SS-B\nfail=vtd.bring_up\n")
        for name, p, status, text in [
                ("efivarfs_pass", run("--file", good), 0, "verdict=PASS"),
                ("efivarfs_fail", run("--file", bad), 1, "fail=transitions.SS-A->SS-B"),
                ("missing_file", run("--file", os.path.join(d, "none")), 2, "no such file"),
                ("help_states_exit_codes", run("--help"), 0, "Exit status: 0"),
                ("html_needs_logs", run("--html", os.path.join(d, "x.html")), 2, "needs"),
                ("missing_log", run("--log", os.path.join(d, "none.log")), 2, "none.log")]:
            case(name, p.returncode == status and text in p.stdout,
                 f"status {p.returncode}, output: {p.stdout!r} {p.stderr!r}")

        xml = os.path.join(d, "var.xml")
        p = run("--file", bad, "--junit", xml)
        c = junit_counts(xml) if p.returncode == 1 and os.path.exists(xml) else {}
        case("junit_from_variable", c.get("tests") == 2 and c.get("failed") == 2 and
             c.get("suites") == 2, f"{p.returncode} {c} {p.stdout}")
        p = run("--file", bad, "--json")
        j = json.loads(p.stdout) if p.returncode == 1 else {}
        case("json_from_variable", j.get("verdict") == "FAIL" and j.get("complete") is False and
             j.get("counts") == {"passed": 5, "failed": 2, "skipped": 1},
             f"{p.returncode} {p.stdout!r}")

        for log in SAMPLES:
            stem = os.path.basename(log)[:-4].replace("-", "_")
            doc = ktap_check.parse_file(log)
            passed, failed, skipped = doc.summary
            xml = os.path.join(d, stem + ".xml")
            p = run("--log", log, "--junit", xml)
            j = run("--log", log, "--json")
            verdict = json.loads(j.stdout).get("verdict") if j.returncode in (0, 1) else None
            c = junit_counts(xml) if os.path.exists(xml) else {}
            want = (passed + failed + skipped, failed, skipped)
            case(f"junit_{stem}", c.get("attr") == want and
                 (c["tests"], c["failed"], c["skipped"]) == want and
                 c["suites"] == len(doc.tests) and p.returncode == (verdict != "PASS"),
                 f"junit {c}, last line {want}, status {p.returncode}, verdict {verdict}")
            js = json.loads(j.stdout) if j.returncode in (0, 1) else {}
            cases = [k for s in js.get("suites", []) for k in s["cases"]]
            case(f"json_{stem}", js.get("counts") == dict(
                passed=passed, failed=failed, skipped=skipped) and
                all({"name", "result", "directive", "reason"} <= set(k) for k in cases) and
                all(k["reason"] for k in cases if k["result"] == "skip") and
                "version" in js.get("machine", {}) and len(cases) == want[0],
                f"{j.returncode} counts {js.get('counts')}, {len(cases)} cases")

        runs = [os.path.join(ROOT, "tests/data/serial", n) for n in
                ("qemu-run-default.log", "qemu-transitions-ss.log")]
        other = os.path.join(d, "other-machine.log")
        with open(runs[1], errors="replace") as f:
            text = f.read().replace("system 'QEMU' 'Standard PC (Q35 + ICH9, 2009)'",
                                    "system 'Dell Inc.' 'PowerEdge R760'")
        with open(other, "w") as f:
            f.write(text.replace("    ok 1 blocked->PT", "    not ok 1 blocked->PT", 1)
                    .replace("verdict PASS", "verdict FAIL").replace(
                        "43 passed, 0 failed", "42 passed, 1 failed"))
        page = os.path.join(d, "report.html")
        p = run("--html", page, *runs, other)
        cells = Cells()
        if os.path.exists(page):
            cells.feed(open(page).read())
        want = []
        for log in runs + [other]:
            want += sorted(case_verdicts(log).items())
        got = sorted(cells.cells)
        want_cells = sorted((n, v) for n, v in want if "->" in n)
        case("html_matrix_cells", got == want_cells and
             cells.matrices == ["entry_sync", "clear"] * 3,
             f"{len(got)} cells for {len(want_cells)} cases; matrices {cells.matrices}")
        case("html_fleet_and_failure", p.returncode == 1 and cells.fleet_rows == 3 and
             ("blocked->PT", "fail") in got, f"status {p.returncode}, fleet rows "
             f"{cells.fleet_rows} (header + 2 machines)")
        case("html_self_contained", not cells.bad and cells.cells, f"{cells.bad}")

    print("KTAP version 1")
    print(f"1..{len(results)}")
    for i, (name, ok, detail) in enumerate(results, 1):
        failures += not ok
        print(f"{'ok' if ok else 'not ok'} {i} {name}")
        if not ok:
            print(f"# {detail}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
