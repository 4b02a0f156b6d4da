#!/usr/bin/env python3
"""tools/lava/vtdsync-usb.yaml, run the way LAVA runs it: every serial log
in tests/data/serial is streamed through pexpect with LAVA's settings
(maxread 2000, searchwindowsize 4000) in pieces of several sizes.  The boot
step waits for its prompt, the monitor for its start string, then it
expects [end, pattern] until the end string, as lava_dispatcher's monitor
does, and names each result as LAVA does.  Every log must give exactly one
LAVA result per KTAP result line (tools/ktap_check.py), with the same name
and verdict (skip for SKIP), and reach the end string; names are unique in
a run.  The job's fields (prompt not the start string, kernel-start-message,
stated minimum LAVA version) are checked too."""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import ktap_check  # noqa: E402

CHUNKS = (2, 7, 64, 512, 2000)
MAXREAD, SEARCHWINDOW = 2000, 4000


def import_deps():
    """pexpect and yaml, from this Python or Debian's python3-* packages."""
    try:
        import pexpect
        import yaml
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
        try:
            import pexpect
            import yaml
        except ImportError as e:
            return None, None, f"{e.name} not installed (Debian: python3-pexpect python3-yaml)"
    return pexpect, yaml, None


def lava_case_id(name):
    """lava_dispatcher's monitor: stripped, lower case, \\W+ runs made '_'."""
    return re.sub(r"\W+", "_", name.strip().lower())


def make_stream(pexpect, data, chunk):
    """A pexpect spawn whose reads return the log `chunk` bytes at a time."""
    from pexpect.spawnbase import SpawnBase

    class Stream(SpawnBase):
        def __init__(self):
            super().__init__(timeout=5, maxread=MAXREAD, searchwindowsize=SEARCHWINDOW,
                             encoding="utf-8", codec_errors="replace")
            self.pos = 0
            self.delayafterread = None  # no serial line to wait for here

        def read_nonblocking(self, size=1, timeout=None):
            if self.pos >= len(data):
                self.flag_eof = True
                raise pexpect.EOF("end of log")
            piece = data[self.pos:self.pos + min(size, chunk)]
            self.pos += len(piece)
            s = self._decoder.decode(piece, final=False)
            self._log(s, "read")
            return s

    return Stream()


def monitor(pexpect, job, data, chunk):
    """What LAVA records: (results [(case, result)], end reached, problem)."""
    boot = next(a["boot"] for a in job["actions"] if "boot" in a)
    mon = next(a["test"] for a in job["actions"] if "test" in a)["monitors"][0]
    s = make_stream(pexpect, data, chunk)
    try:
        s.expect(boot["prompts"])
        s.expect(mon["start"])
    except pexpect.EOF:
        return [], False, "boot prompt or monitor start never seen"
    results = []
    while True:
        i = s.expect([pexpect.EOF, pexpect.TIMEOUT, mon["end"], mon["pattern"]])
        if i < 2:
            return results, False, "end string never seen"
        if i == 2:
            return results, True, None
        m = s.match.groupdict()
        results.append((lava_case_id(m["test_case_id"]),
                        mon["fixupdict"].get(m["result"], m["result"])))


def expected(path):
    """One (LAVA name, verdict) per KTAP result line, in log order."""
    doc = ktap_check.parse_file(path)
    out = []

    def walk(tests):
        for t in tests:
            if t.subtests is not None:
                walk(t.subtests)
            out.append((t.line, lava_case_id(t.name),
                        {"pass": "pass", "skip": "skip"}.get(t.status, "fail")))

    walk(doc.tests)
    return [(name, verdict) for _, name, verdict in sorted(out)], doc


def validate_schema(job):
    """(ok, detail) of lava-common's own job schema, where it is installed.
    A lava-common older than the usbg-ms deploy (Debian 12 has 2023.01)
    checks the job with the flasher deploy the template names instead."""
    import copy
    import importlib.util
    if "/usr/lib/python3/dist-packages" not in sys.path:
        sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from lava_common.schemas import validate
    except ImportError:
        return True, "SKIP lava-common not installed (Debian: lava-common)"
    job = copy.deepcopy(job)
    note = ""
    if importlib.util.find_spec("lava_common.schemas.deploy.usbg_ms") is None:
        i = next(i for i, a in enumerate(job["actions"]) if "deploy" in a)
        url = job["actions"][i]["deploy"]["image"]["url"]
        job["actions"][i] = {"deploy": {"to": "flasher", "images": {"image": {"url": url}},
                                        "timeout": {"minutes": 10}}}
        note = " (this lava-common predates usbg-ms: deploy checked as flasher)"
    try:
        validate(job)
    except Exception as e:  # voluptuous.Invalid and its kin
        return False, f"lava-common rejects the job{note}: {e}"
    return True, "valid" + note


def main():
    pexpect, yaml, why = import_deps()
    logs = sorted(glob.glob(os.path.join(ROOT, "tests/data/serial/*.log")))
    text = open(os.path.join(ROOT, "tools/lava/vtdsync-usb.yaml")).read()
    print("KTAP version 1")
    print(f"1..{2 + 2 * len(logs)}")
    if why:
        for i in range(2 + 2 * len(logs)):
            print(f"ok {i + 1} lava_{i + 1} # SKIP {why}")
        return 0
    job = yaml.safe_load(text)
    boot = next(a["boot"] for a in job["actions"] if "boot" in a)
    mon = next(a["test"] for a in job["actions"] if "test" in a)["monitors"][0]
    failures = 0
    n = 0

    def report(ok, name, detail=""):
        nonlocal n, failures
        n += 1
        failures += not ok
        skip = f" # {detail}" if ok and detail.startswith("SKIP ") else ""
        print(f"{'ok' if ok else 'not ok'} {n} {name}{skip}")
        if ok and detail and not skip:
            print(f"# {detail}")
        if not ok and detail:
            print(f"# {detail}")

    fields = [boot.get("parameters", {}).get("kernel-start-message") == "",
              all(not re.search(p, "# vtdsync x: VT-d entry_sync qualification firmware")
                  for p in boot["prompts"]),
              bool(re.search(r"LAVA 20\d\d\.\d\d or later", text)),
              set(mon["fixupdict"].values()) == {"pass", "fail", "skip"}]
    report(all(fields), "job_fields", f"kernel-start-message, prompt != start, minimum "
           f"version stated, skip mapped: {fields}")
    ok, detail = validate_schema(job)
    report(ok, "job_schema", detail)
    for path in logs:
        name = os.path.basename(path)[:-4].replace("-", "_")
        want, doc = expected(path)
        names = [c for c, _ in want]
        dup = sorted({c for c in names if names.count(c) > 1})
        report(not dup and not doc.problems, f"{name}_unique_names",
               f"LAVA names used twice: {dup}; KTAP problems {doc.problems[:3]}")
        data = open(path, "rb").read()
        bad = []
        for chunk in CHUNKS:
            got, end, problem = monitor(pexpect, job, data, chunk)
            if problem or got != want:
                diff = next((f"#{i}: LAVA {g} KTAP {w}" for i, (g, w) in
                             enumerate(zip(got, want)) if g != w), "")
                bad.append(f"chunk {chunk}: {problem or ''} {len(got)} results for "
                           f"{len(want)} KTAP lines {diff}")
        report(not bad, f"{name}_streamed", "; ".join(bad))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
