"""vtdsync-results' reports for CI and labs: a run read from a serial log
(through tools/ktap_check.py) or from the EFI variable, written as JUnit
XML, JSON or one self-contained HTML page (no script, nothing fetched)."""
import html
import json
import re
import sys
import xml.etree.ElementTree as ET

import ktap_check

RUN_END = re.compile(r"^# run time \d+ ms, verdict (\w+)")
VERSION = re.compile(r"^vtdsync (\S+): ")
ROW = re.compile(r"^(\S+->\S+)\s+(hitless|breaking)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)"
                 r"\s+(\d+)\s+(\d+)\s+(\d+)$")
TABLES = {"summary entry_sync:": "entry_sync", "summary clear-then-update:": "clear"}


def add_arguments(ap):
    ap.add_argument("--log", help="read the run from a serial log, not the variable")
    ap.add_argument("--junit", metavar="FILE", help="write JUnit XML")
    ap.add_argument("--json", nargs="?", const="-", metavar="FILE",
                    help="write the run as JSON (stdout without FILE)")
    ap.add_argument("--html", metavar="FILE", help="write an HTML page of the LOGs")
    ap.add_argument("logs", nargs="*", metavar="LOG", help="serial logs for --html")


def wanted(args):
    return bool(args.log or args.junit or args.json or args.html or args.logs)


# --- reading a run ----------------------------------------------------------

def case_reason(t):
    """SKIP/TIMEOUT/ERROR reason, or a failure's '# NAME: why' line."""
    if t.reason:
        return t.reason.strip()
    if not t.ok:
        why = [d.split(": ", 1)[1] for d in t.diagnostics if d.startswith(t.name + ": ")]
        return why[-1] if why else ""
    return ""


def case_entry(t):
    return {"name": t.name, "result": t.status, "directive": t.directive or None,
            "reason": case_reason(t)}


def header_fields(lines):
    machine = {}
    for d in lines:
        m = VERSION.match(d)
        if m:
            machine["version"] = m.group(1)
            continue
        key, sep, value = d.partition(": ")
        if sep and " " not in key.strip():
            machine[key] = f"{machine[key]} {value}" if key in machine else value
    return machine


def matrix(suite):
    """{strategy: {pair: {class, ops, faults, mismatches, resets}}} from the
    transitions suite's summary tables."""
    out, table = {}, None
    diags = [d for t in suite.subtests for d in t.diagnostics] + suite.diagnostics
    for d in diags:
        if d in TABLES:
            table = out.setdefault(TABLES[d], {})
            continue
        m = ROW.match(d)
        if m and table is not None:
            table[m.group(1)] = {"class": m.group(2), "ops": int(m.group(6)),
                                 "faults": int(m.group(7)), "mismatches": int(m.group(8)),
                                 "resets": int(m.group(10))}
    return out


def from_log(path):
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError as e:
        return None, f"{path}: {e.strerror}"
    doc = ktap_check.parse(lines)
    if not doc.started:
        return None, f"{path}: no KTAP output"
    counts = doc.counts()
    if doc.summary:
        counts = dict(zip(("passed", "failed", "skipped"), doc.summary))
    verdict = next((m.group(1) for m in map(RUN_END.match, lines) if m), None)
    directives = {t.directive for t in doc.leaves()}
    if doc.bail_out is not None:
        verdict = "TIMEOUT" if "TIMEOUT" in directives else "CRASH"
    if not verdict:
        verdict = "FAIL" if counts["failed"] else "PASS" if counts["passed"] else "SKIPPED"
    suites, transitions = [], {}
    for t in doc.tests:
        entry = case_entry(t)
        entry["cases"] = [case_entry(c) for c in (t.subtests if t.subtests is not None else [t])]
        suites.append(entry)
        if t.name == "transitions" and t.subtests:
            transitions = {"cases": {c.name: c.status for c in t.subtests},
                           "reasons": {c.name: case_reason(c) for c in t.subtests},
                           "tables": matrix(t)}
    return {"source": path, "complete": True, "verdict": verdict, "counts": counts,
            "machine": header_fields(doc.header), "bail_out": doc.bail_out,
            "ktap_problems": [f"line {n}: {p}" for n, p in doc.problems],
            "suites": suites, "transitions": transitions}, None


def from_variable(text):
    kv, fails = {}, []
    lines = text.splitlines()
    for line in lines:
        key, sep, value = line.partition("=")
        if sep and key == "fail":
            fails.append(value)
        elif sep:
            kv[key] = value
    suites = {}
    for f in fails:
        suite, _, case = f.partition(".")
        suites.setdefault(suite, []).append({"name": case, "result": "fail", "directive": None,
                                             "reason": ""})
    version = lines[0].split(" ", 1)[1] if lines and lines[0].startswith("vtdsync ") else ""
    counts = {k: int(kv.get(k, "0") or 0) for k in ("passed", "failed", "skipped")}
    return {"source": "EFI variable VtdsyncResult",
            "complete": False,  # counts and the first failures only
            "verdict": kv.get("verdict", ""), "counts": counts,
            "machine": {"version": version, "time": kv.get("time", "")},
            "bail_out": kv.get("reason") or None, "ktap_problems": [],
            "suites": [{"name": s, "result": "fail", "directive": None, "reason": "",
                        "cases": c} for s, c in suites.items()], "transitions": {}}


# --- JUnit and JSON ---------------------------------------------------------

def junit(run):
    """One testsuite per suite, one testcase per case; skipped, failure and
    (for a crash or timeout) error elements carry the reason."""
    root = ET.Element("testsuites", name="vtdsync")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for s in run["suites"]:
        ts = ET.SubElement(root, "testsuite", name=s["name"])
        n = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for c in s["cases"]:
            tc = ET.SubElement(ts, "testcase", classname=f"vtdsync.{s['name']}", name=c["name"])
            n["tests"] += 1
            if c["result"] == "skip":
                ET.SubElement(tc, "skipped", message=c["reason"])
                n["skipped"] += 1
            elif c["result"] in ("timeout", "error"):
                ET.SubElement(tc, "error", type=c["directive"], message=c["reason"])
                n["errors"] += 1
            elif c["result"] == "fail":
                ET.SubElement(tc, "failure", type="fail", message=c["reason"])
                n["failures"] += 1
        for k, v in n.items():
            ts.set(k, str(v))
            totals[k] += v
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def as_json(run):
    out = {k: v for k, v in run.items() if k != "transitions"}
    if run["transitions"]:
        out["transitions"] = run["transitions"]["tables"]
    return json.dumps(out, indent=2) + "\n"


def write(path, text):
    if path == "-":
        sys.stdout.write(text)
    else:
        with open(path, "w") as f:
            f.write(text)


# --- HTML -------------------------------------------------------------------

CSS = """body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #999;padding:2px 5px;font-size:12px;text-align:center}
td.pass{background:#b8e6b8}td.fail{background:#f19a9a}td.skip{background:#e4e4e4}
td.none{background:#fff}th.from{text-align:right}.verdict-PASS{color:#070}
.verdict-FAIL,.verdict-CRASH,.verdict-TIMEOUT{color:#b00}pre{font-size:12px}"""


def states(pairs):
    out = []
    for p in pairs:
        for s in p.split("->"):
            if s not in out:
                out.append(s)
    return out


def grid(run, strategy):
    """FROM by TO: each cell coloured by its case's verdict and labelled with
    the DMA operations during the update, faults and controller resets."""
    t = run["transitions"]
    prefix = "clear:" if strategy == "clear" else ""
    pairs = [c[len(prefix):] for c in t["cases"] if "->" in c and
             (c.startswith("clear:") == bool(prefix))]
    if not pairs:
        return ""
    names = states(pairs)
    title = "entry_sync" if strategy == "entry_sync" else "clear-then-update"
    rows = [f"<h3>{title}</h3><table class='matrix' data-strategy='{strategy}'>",
            "<tr><th>from \\ to</th>" + "".join(f"<th>{html.escape(s)}</th>" for s in names)
            + "</tr>"]
    table = t["tables"].get(strategy, {})
    for a in names:
        cells = [f"<th class='from'>{html.escape(a)}</th>"]
        for b in names:
            case = f"{prefix}{a}->{b}"
            if case not in t["cases"]:
                cells.append("<td class='none'></td>")
                continue
            v = t["cases"][case]
            v = "fail" if v not in ("pass", "skip") else v
            r = table.get(f"{a}->{b}")
            label = (f"{r['ops']} ops<br>{r['faults']} faults<br>{r['resets']} resets"
                     if r else html.escape(v))
            tip = html.escape(f"{case}: {v}" + (f" ({t['reasons'][case]})"
                                                 if t["reasons"].get(case) else ""))
            cells.append(f"<td class='{v}' data-case='{html.escape(case)}' title='{tip}'>"
                         f"{label}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    rows.append("</table>")
    return "\n".join(rows)


def first_failures(run, n=3):
    out = [f"{s['name']}.{c['name']}" for s in run["suites"] for c in s["cases"]
           if c["result"] not in ("pass", "skip")]
    return out[:n]


def machine_name(run):
    """'Vendor Product' from the SMBIOS header line, else the log's name."""
    m = re.match(r"system '([^']*)' '([^']*)'", run["machine"].get("machine", ""))
    return f"{m.group(1)} {m.group(2)}".strip() if m else run["source"]


def page(runs):
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'>",
             "<title>vtdsync results</title>", f"<style>{CSS}</style></head><body>",
             "<h1>vtdsync results</h1>"]
    machines = {}
    for r in runs:
        machines.setdefault(machine_name(r), []).append(r)
    if len(machines) > 1:
        parts.append("<h2>Fleet</h2><table class='fleet'><tr><th>machine</th><th>runs</th>"
                     "<th>verdict</th><th>first failures</th></tr>")
        for name, rs in machines.items():
            verdict = next((r["verdict"] for r in rs if r["verdict"] != "PASS"), "PASS")
            fails = [f for r in rs for f in first_failures(r)][:3]
            parts.append(f"<tr><td>{html.escape(name)}</td><td>{len(rs)}</td>"
                         f"<td class='verdict-{verdict}'>{verdict}</td>"
                         f"<td>{html.escape(', '.join(fails) or '-')}</td></tr>")
        parts.append("</table>")
    for r in runs:
        c = r["counts"]
        parts.append(f"<h2 class='run'>{html.escape(r['source'])}: "
                     f"<span class='verdict-{r['verdict']}'>{r['verdict']}</span>, "
                     f"{c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped</h2>")
        head = "\n".join(f"{k}: {v}" for k, v in r["machine"].items())
        parts.append(f"<pre class='header'>{html.escape(head)}</pre>")
        if r["transitions"]:
            parts.append(grid(r, "entry_sync"))
            parts.append(grid(r, "clear"))
        else:
            parts.append("<p>no transition matrix in this run</p>")
        fails = first_failures(r, 20)
        if fails:
            parts.append("<p>failures: " + html.escape(", ".join(fails)) + "</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


# --- the command ------------------------------------------------------------

def run(args, read_variable):
    if args.html:
        paths = list(args.logs) + ([args.log] if args.log else [])
        if not paths:
            print("vtdsync-results: --html needs serial logs")
            return 2
        runs = []
        for p in paths:
            r, err = from_log(p)
            if err:
                print(f"vtdsync-results: {err}")
                return 2
            runs.append(r)
        write(args.html, page(runs))
        return 0 if all(r["verdict"] == "PASS" for r in runs) else 1
    if args.log:
        r, err = from_log(args.log)
        if err:
            print(f"vtdsync-results: {err}")
            return 2
    else:
        r = from_variable(read_variable(args))
    if args.junit:
        write(args.junit, junit(r))
    if args.json:
        write(args.json, as_json(r))
    if not args.junit and not args.json:
        c = r["counts"]
        print(f"{r['source']}: verdict {r['verdict']}, {c['passed']} passed, {c['failed']} "
              f"failed, {c['skipped']} skipped" + "".join(f"\nfail={f}"
                                                        for f in first_failures(r, 100)))
    return 0 if r["verdict"] == "PASS" else 1
