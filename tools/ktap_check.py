#!/usr/bin/env python3
"""Strict KTAP v1 structure check of a vtdsync serial log.

  ktap_check.py LOG...      prints each problem as FILE:LINE: text; exit 1 if any

Rules (KTAP v1, Documentation/dev-tools/ktap.rst, plus what Linux's parser
needs): the document starts at a "KTAP version 1" line in column 0; a plan
"1..N" comes before any result of its level (never after them) and matches
the number of results; results are numbered 1, 2, ... at each level; a
subtest opens with "KTAP version 1" one level deeper, optionally
"# Subtest: NAME", and ends with its result line one level up, under the
same name; a directive is SKIP (with a reason), TODO, XFAIL, TIMEOUT or
ERROR (the last two only on "not ok"); nothing KTAP follows "Bail out!".
The last line "N passed, N failed, N skipped" must count the leaf results.

As a module, parse(lines) returns a Doc: the top-level tests (each a Test
with its subtests), header diagnostics, the summary and the problems.  The
other tools (vtdsync-results, qemu-run.py) read logs through it.
"""
import re
import sys

VERSION = re.compile(r"^KTAP version (\d+)$")
SUBTEST = re.compile(r"^# Subtest: (.*)$")
PLAN = re.compile(r"^1\.\.(\d+)(?: # (.*))?$")
RESULT = re.compile(r"^(ok|not ok) (\d+)(.*)$")
DIAG = re.compile(r"^#(?: (.*))?$")
BAIL = re.compile(r"^Bail out!(.*)$")
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed, (\d+) skipped$")
DIRECTIVES = ("SKIP", "TODO", "XFAIL", "TIMEOUT", "ERROR")


class Test:
    """One result line, with its subtests when it closed a subtest."""

    def __init__(self, number, ok, name, directive, reason, line):
        self.number, self.ok, self.name = number, ok, name
        self.directive, self.reason, self.line = directive, reason, line
        self.subtests = None  # a list when this result ended a subtest
        self.diagnostics = []  # "# " lines of its level just before it

    @property
    def status(self):
        """pass, fail, skip, or the directive's own word for TIMEOUT/ERROR."""
        if self.directive == "SKIP":
            return "skip"
        if not self.ok:
            return self.directive.lower() if self.directive in ("TIMEOUT", "ERROR") else "fail"
        return "pass"

    def leaves(self):
        if self.subtests is None:
            return [self]
        return [leaf for t in self.subtests for leaf in t.leaves()]


class Frame:
    def __init__(self, depth, line):
        self.depth, self.line = depth, line
        self.name = None
        self.plan = None
        self.tests = []
        self.diags = []  # diagnostics since the last result
        self.header_done = False  # a plan or result ends the header


class Doc:
    def __init__(self):
        self.tests = []
        self.header = []  # top-level "# " lines before the first suite
        self.plan = None
        self.summary = None  # (passed, failed, skipped) from the last line
        self.bail_out = None
        self.problems = []  # (line number, text)
        self.started = False

    def leaves(self):
        return [leaf for t in self.tests for leaf in t.leaves()]

    def counts(self):
        c = {"passed": 0, "failed": 0, "skipped": 0}
        for leaf in self.leaves():
            s = leaf.status
            c["skipped" if s == "skip" else "passed" if s == "pass" else "failed"] += 1
        return c


def split_result(rest):
    """' NAME # DIRECTIVE reason' -> (name, directive, reason, problem)."""
    if not rest.startswith(" "):
        return "", "", "", "no space after the test number"
    rest = rest[1:]
    if rest.startswith("- "):
        rest = rest[2:]
    name, sep, tail = rest.partition(" # ")
    if "#" in name:
        return name, "", "", f"'#' inside the test name {name!r}"
    if not name.strip() or name != name.strip():
        return name, "", "", f"empty or padded test name {name!r}"
    if not sep:
        return name, "", "", None
    word, _, reason = tail.partition(" ")
    if word not in DIRECTIVES:
        return name, "", tail, f"unknown directive {word!r} (KTAP knows {', '.join(DIRECTIVES)})"
    return name, word, reason, None


class Parser:
    def __init__(self):
        self.doc = Doc()
        self.stack = []
        self.step = None  # spaces per nesting level (KUnit 4, the spec 2)

    def problem(self, no, text):
        self.doc.problems.append((no, text))

    def level(self, no, indent):
        if indent == 0:
            return 0
        if self.step is None:
            if indent not in (2, 4):
                self.problem(no, f"first nested line indented {indent} spaces (2 or 4 expected)")
                return None
            self.step = indent
        if indent % self.step:
            self.problem(no, f"indent of {indent} spaces is not a multiple of {self.step}")
            return None
        return indent // self.step

    def feed(self, no, raw):
        line = raw.rstrip("\r\n")
        if not self.doc.started:
            if VERSION.match(line):
                self.doc.started = True
                if line != "KTAP version 1":
                    self.problem(no, f"{line!r}: only KTAP version 1 is written here")
                self.stack = [Frame(0, no)]
            return
        body = line.lstrip(" ")
        indent = len(line) - len(body)
        if "\t" in line[:indent + 1]:
            self.problem(no, "tab in the indentation")
            return
        kind = self.kind(body)
        if kind is None:
            if indent == 0 and SUMMARY.match(body):
                self.doc.summary = tuple(int(x) for x in SUMMARY.match(body).groups())
            return  # an unknown line: KTAP lets a parser ignore it
        if self.doc.bail_out is not None and kind != "diag":
            self.problem(no, f"KTAP line after 'Bail out!': {body!r}")
            return
        lvl = self.level(no, indent)
        if lvl is None:
            return
        getattr(self, "on_" + kind)(no, lvl, body)

    @staticmethod
    def kind(body):
        for kind, rx in (("version", VERSION), ("subtest", SUBTEST), ("plan", PLAN),
                         ("result", RESULT), ("diag", DIAG), ("bail", BAIL)):
            if rx.match(body):
                return kind
        return None

    @property
    def depth(self):
        return len(self.stack) - 1

    def on_version(self, no, lvl, body):
        if body != "KTAP version 1":
            self.problem(no, f"{body!r}: only KTAP version 1 is written here")
        if lvl != self.depth + 1:
            self.problem(no, f"subtest version line at level {lvl}, expected {self.depth + 1}")
            return
        top = self.stack[-1]
        top.header_done = True
        if top.depth == 0 and not self.doc.tests:
            self.doc.header = list(top.diags)
        self.stack.append(Frame(lvl, no))

    def on_subtest(self, no, lvl, body):
        top = self.stack[-1]
        if lvl != self.depth or top.depth == 0 or top.name is not None or top.header_done:
            self.problem(no, "'# Subtest:' line not right after a subtest's version line")
            return
        top.name = SUBTEST.match(body).group(1)

    def on_plan(self, no, lvl, body):
        top = self.stack[-1]
        if lvl != self.depth:
            self.problem(no, f"plan at level {lvl} inside level {self.depth}")
            return
        if top.tests or top.plan is not None:
            self.problem(no, f"plan {body!r} after the results it counts (KTAP v1: the plan "
                         "comes first or not at all)")
            return
        top.plan = int(PLAN.match(body).group(1))
        top.header_done = True
        if top.depth == 0:
            self.doc.plan = top.plan
            self.doc.header = list(top.diags)

    def on_diag(self, no, lvl, body):
        if lvl > self.depth:
            self.problem(no, f"diagnostic at level {lvl} outside any subtest of that level")
            return
        self.stack[lvl].diags.append(DIAG.match(body).group(1) or "")

    def on_bail(self, no, lvl, body):
        if lvl != 0 or self.depth != 0:
            self.problem(no, "'Bail out!' inside an open subtest (close it with its result first)")
        self.doc.bail_out = BAIL.match(body).group(1).strip()

    def on_result(self, no, lvl, body):
        m = RESULT.match(body)
        name, directive, reason, bad = split_result(m.group(3))
        if bad:
            self.problem(no, bad)
        test = Test(int(m.group(2)), m.group(1) == "ok", name, directive, reason, no)
        if directive == "SKIP" and not reason.strip():
            self.problem(no, f"{name}: SKIP without a reason")
        if directive in ("TIMEOUT", "ERROR") and test.ok:
            self.problem(no, f"{name}: '{directive}' on an 'ok' result")
        if lvl == self.depth - 1:
            self.close(no, test)
        elif lvl != self.depth:
            self.problem(no, f"result at level {lvl} inside level {self.depth}")
            return
        top = self.stack[-1]
        if test.number != len(top.tests) + 1:
            self.problem(no, f"{name}: test number {test.number}, expected {len(top.tests) + 1}")
        if top.name is not None and top.plan is None and name == top.name:
            self.problem(no, f"case {name!r} has its suite's name: a parser would take it for "
                         "the end of the plan-less subtest")
        if top.depth == 0 and not self.doc.tests and self.doc.plan is None:
            self.doc.header = list(top.diags)  # a run with neither plan nor suites
        test.diagnostics = top.diags
        top.diags = []
        top.header_done = True
        top.tests.append(test)
        if top.depth == 0:
            self.doc.tests.append(test)

    def close(self, no, test):
        sub = self.stack.pop()
        if sub.plan is not None and sub.plan != len(sub.tests):
            self.problem(no, f"{test.name}: plan 1..{sub.plan} but {len(sub.tests)} results")
        if sub.name is not None and sub.name != test.name:
            self.problem(no, f"subtest '{sub.name}' ends with a result named '{test.name}'")
        test.subtests = sub.tests
        # Diagnostics after the last case belong to the suite's result line.
        test.diagnostics = sub.diags

    def finish(self):
        doc = self.doc
        if not doc.started:
            self.problem(0, "no 'KTAP version 1' line")
            return doc
        if self.depth > 0:
            top = self.stack[-1]
            self.problem(top.line, f"subtest '{top.name}' never ends (no result line)")
        top = self.stack[0]
        if top.plan is not None and top.plan != len(top.tests):
            self.problem(top.line, f"top-level plan 1..{top.plan} but {len(top.tests)} results")
        if doc.summary is not None:
            c = doc.counts()
            mine = (c["passed"], c["failed"], c["skipped"])
            if mine != doc.summary:
                self.problem(0, "last line says %d passed, %d failed, %d skipped; the results "
                             "say %d, %d, %d" % (doc.summary + mine))
        return doc


def parse(lines):
    p = Parser()
    for no, line in enumerate(lines, 1):
        p.feed(no, line)
    return p.finish()


def parse_file(path):
    with open(path, errors="replace") as f:
        return parse(f.read().splitlines())


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    bad = 0
    for path in argv:
        doc = parse_file(path)
        for no, text in doc.problems:
            print(f"{path}:{no}: {text}")
        bad += bool(doc.problems)
        if not doc.problems:
            c = doc.counts()
            print(f"{path}: KTAP ok: {len(doc.tests)} top-level tests, {c['passed']} passed, "
                  f"{c['failed']} failed, {c['skipped']} skipped")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
