"""Trace lines: parse them, pair expected with actual lines, and compare.

The formats are the lab's (vm_manager/trace.hpp):

    OPEN <path> <flags> <mode> - return <result>
    WRITE <fd> <buffer address in hex> <count> - return <result>
    CLOSE <fd> - return <result>
    EXIT <status>
    undefined syscall <number>

Numbers are printed as the reference prints them (%lld: signed decimal; the
buffer address %llx: hex without 0x). A line whose numbers are printed another
way (0x40200d, octal flags, an unsigned -2) is still read, so that it pairs
with the line it stands for, and each such field is explained.

Two traces are compared line by line. File descriptor numbers may differ by a
consistent renaming: a VMM that hands host fds to the guest prints other
numbers than the reference, and that is fine as long as the same file always
has the same number.
"""
import difflib
import os
import re
from dataclasses import dataclass

from grader.judge import syscalls

# Which trace line stands for which system call: an "undefined syscall N" line
# pairs with the expected line of the same call.
KINDS = {"open": "OPEN", "write": "WRITE", "close": "CLOSE", "exit": "EXIT",
         "exit_group": "EXIT"}
LAB_CALLS = frozenset(KINDS.values())  # what a native run under strace traces (strace.py)
OWN_NUMBER = {"OPEN": syscalls.number("open"), "WRITE": syscalls.number("write"),
              "CLOSE": syscalls.number("close")}

_PATTERNS = {  # the numeric fields are read by _number(), whatever their format
    "OPEN": re.compile(r"OPEN (.*) (\S+) (\S+) - return (\S+)"),
    "WRITE": re.compile(r"WRITE (\S+) (\S+) (\S+) - return (\S+)"),
    "CLOSE": re.compile(r"CLOSE (\S+) - return (\S+)"),
    "EXIT": re.compile(r"EXIT (\S+)"),
    "UNDEFINED": re.compile(r"undefined syscall (\S+)"),
}
# Each field's name and how the trace prints it: "d" %lld, "x" %llx, "s" a string.
FIELDS = {"OPEN": [("path", "s"), ("flags", "d"), ("mode", "d"), ("result", "d")],
          "WRITE": [("fd", "d"), ("buffer", "x"), ("count", "d"), ("result", "d")],
          "CLOSE": [("fd", "d"), ("result", "d")],
          "EXIT": [("status", "d")],
          "UNDEFINED": [("number", "d")]}

# Any other call a VMM carries out (the engine's linux_calls, Step 4): its name
# in capitals, its arguments, its result (vm_manager/trace.hpp, Trace::call).
_OTHER_CALL = re.compile(r"([A-Z][A-Z0-9_]*)((?: \S+)*) - return (\S+)")

# Calls whose result depends on where and when the program ran (the uid a run
# gets, the clock), not on the VMM: their results are not compared.
RESULT_VARIES = {"GETUID", "GETEUID", "GETGID", "GETEGID", "GETPID", "GETPPID", "GETTID",
                 "TIME", "GETTIMEOFDAY", "CLOCK_GETTIME"}

ANY_ADDRESS = "*"  # a WRITE buffer address that is not compared
UNREADABLE_PATH = "(bad address)"  # the OPEN path of a pointer the VMM could not read


def _number(text, printed):
    """(value, note): a field's value, and how it is printed if not as the
    trace prints it; (None, "") when it is not a number at all."""
    if printed == "x":
        if re.fullmatch(r"[0-9a-f]+", text):
            return int(text, 16), ""
        if re.fullmatch(r"0[xX][0-9a-fA-F]+", text):
            value = int(text, 16)
            return value, f"printed as {text}; the trace prints hex without 0x: {value:x}"
        if re.fullmatch(r"[0-9a-fA-F]+", text):
            value = int(text, 16)
            return value, f"printed as {text}; the trace prints hex in lower case: {value:x}"
        return None, ""
    if re.fullmatch(r"-?(0|[1-9][0-9]*)", text):
        value = int(text)
        if value >= 1 << 63:  # %llu of a negative value
            signed = value - (1 << 64)
            return signed, f"printed unsigned ({text}); the trace prints it signed (%lld): {signed}"
        return value, ""
    if re.fullmatch(r"0[0-7]+", text):
        value = int(text, 8)
        return value, f"printed in octal ({text}); the trace prints it in decimal (%lld): {value}"
    if re.fullmatch(r"-?0[xX][0-9a-fA-F]+", text):
        value = int(text, 16)
        return value, f"printed in hex ({text}); the trace prints it in decimal (%lld): {value}"
    return None, ""


@dataclass(frozen=True)
class Line:
    text: str
    # OPEN, WRITE, CLOSE, EXIT, UNDEFINED, another call's name in capitals
    # (BRK: its fields are its arguments and its result, as printed), or
    # OTHER (not a trace line)
    kind: str
    fields: tuple = ()
    notes: tuple = ()  # fields printed otherwise than the trace prints them

    @property
    def call(self):
        """The system call this line is about: an undefined open is still an open."""
        if self.kind == "UNDEFINED":
            name = syscalls.name(self.fields[0])
            return KINDS.get(name, name.upper())
        if self.kind == "OTHER":
            return "other: " + self.text
        return self.kind


def parse(text):
    for kind, pattern in _PATTERNS.items():
        match = pattern.fullmatch(text)
        if not match:
            continue
        fields, notes = [], []
        for (name, printed), raw in zip(FIELDS[kind], match.groups()):
            if printed == "s":
                fields.append(raw)
                continue
            if raw == ANY_ADDRESS and name == "buffer":
                fields.append(ANY_ADDRESS)
                continue
            value, note = _number(raw, printed)
            if value is None:
                break
            fields.append(value)
            if note:
                notes.append(f"{name} {note}")
        else:
            return Line(text, kind, tuple(fields), tuple(notes))
    match = _OTHER_CALL.fullmatch(text)
    if match and syscalls.number(match.group(1).lower()) is not None:
        return Line(text, match.group(1), (*match.group(2).split(), match.group(3)))
    return Line(text, "OTHER")


def parse_all(texts):
    return [parse(t) for t in texts]


def only(texts, calls):
    """The trace lines about these calls ("OPEN", ...), an undefined one too."""
    return [text for text in texts if parse(text).call in calls]


def without_addresses(texts):
    """Trace lines with WRITE's buffer address made 'any': for programs whose
    buffers are not at the same address in both runs."""
    out = []
    for text in texts:
        line = parse(text)
        if line.kind == "WRITE":
            fd, _, count, result = line.fields
            text = f"WRITE {fd} {ANY_ADDRESS} {count} - return {result}"
        out.append(text)
    return out


# --- pairing and comparing ---------------------------------------------------

MATCHING, WRONG, MISSING, EXTRA = "matching", "wrong", "missing", "extra"


@dataclass
class Row:
    """One row of the side-by-side comparison."""
    expected: Line | None
    actual: Line | None
    verdict: str
    why: str = ""
    repeat: int = 1  # identical extra lines shown once

    @property
    def call(self):
        return (self.expected or self.actual).call


class FdRenaming:
    """The expected fd <-> actual fd correspondence, learnt from OPEN results.
    An fd that no OPEN returned (0, 1, 2, or a bogus one) must be the same number."""

    def __init__(self):
        self.to_actual, self.to_expected = {}, {}
        self.renamed = False  # some file had another number than expected

    def opened(self, expected, actual):
        """A new file: `expected` and `actual` now name it (older meanings are gone)."""
        self.to_expected.pop(self.to_actual.pop(expected, None), None)
        self.to_actual.pop(self.to_expected.pop(actual, None), None)
        self.to_actual[expected] = actual
        self.to_expected[actual] = expected
        self.renamed = self.renamed or expected != actual

    def same(self, expected, actual):
        if expected in self.to_actual:
            return self.to_actual[expected] == actual
        return actual not in self.to_expected and actual == expected

    def describe(self, expected):
        """The fd expected in the actual trace for `expected`, and why."""
        actual = self.to_actual.get(expected)
        if actual is None:
            return str(expected)
        if actual == expected:
            return f"{actual} (the fd OPEN returned for this file)"
        return (f"{actual} (the fd your OPEN returned for this file, which the expected trace "
                f"numbers {expected})")


def _compare(expected, actual, fds, who):
    """Why `actual` is not `expected`, or "" when it matches. Updates `fds`."""
    if actual.kind != expected.kind:
        if actual.kind == "UNDEFINED":
            number = actual.fields[0]
            return (f"{who} does not handle {syscalls.name(number)} (system call {number}): it "
                    f"printed `undefined syscall {number}` where the trace has a "
                    f"{expected.kind} line")
        if actual.kind == "OTHER":
            return "not a trace line (see the formats in the statement)"
        return f"a {actual.kind} line where the expected trace has a {expected.kind} line"
    e, a = expected.fields, actual.fields
    problems = list(actual.notes)

    def fd_ok(name, e_fd, a_fd):
        if not fds.same(e_fd, a_fd):
            problems.append(f"{name} {a_fd}, expected {fds.describe(e_fd)}")

    def equal(name, e_value, a_value, show=str):
        if e_value != a_value:
            problems.append(f"{name} {show(a_value)}, expected {show(e_value)}")

    def result(e_value, a_value, kind):
        equal("result", e_value, a_value, show=syscalls.result_text)
        if e_value != a_value and a_value == OWN_NUMBER.get(kind):
            problems.append(f"RAX still holds the call's own number ({a_value}): was the new "
                            "RAX written back to the vCPU? (vcpu.mark_regs_dirty())")

    if expected.kind == "OPEN":
        if e[0] != UNREADABLE_PATH:  # how an unreadable path is printed is not graded
            equal("path", e[0], a[0], show=repr)
        equal("flags", e[1], a[1])
        if e[1] & (os.O_CREAT | os.O_TMPFILE):  # otherwise open ignores the mode (and
            equal("mode", e[2], a[2])           # strace does not print it)
        if e[3] >= 0 and a[3] >= 0:
            fds.opened(e[3], a[3])  # any two fd numbers may stand for the same file
        else:
            result(e[3], a[3], "OPEN")
    elif expected.kind == "WRITE":
        fd_ok("fd", e[0], a[0])
        if e[1] != ANY_ADDRESS and a[1] != ANY_ADDRESS:
            equal("buffer", e[1], a[1], show=lambda v: f"{v:x}")
        equal("count", e[2], a[2])
        result(e[3], a[3], "WRITE")
    elif expected.kind == "CLOSE":
        fd_ok("fd", e[0], a[0])
        result(e[1], a[1], "CLOSE")  # a closed fd keeps its pairing until an OPEN reuses it
    elif expected.kind in ("EXIT", "UNDEFINED"):
        equal("status" if expected.kind == "EXIT" else "number", e[0], a[0])
    elif expected.kind != "OTHER":  # another call: its arguments and result as printed
        equal("arguments", " ".join(e[:-1]), " ".join(a[:-1]), show=repr)
        if expected.kind not in RESULT_VARIES:
            equal("result", e[-1], a[-1], show=lambda text: syscalls.result_text(int(text))
                  if re.fullmatch(r"-[0-9]+", text) else text)
    return "; ".join(problems)


def compare(expected_texts, actual_texts, who="your VMM"):
    """Pairs the lines of two traces and says, row by row, whether they match.
    `who` printed the actual trace, for the reasons."""
    expected, actual = parse_all(expected_texts), parse_all(actual_texts)
    matcher = difflib.SequenceMatcher(None, [l.call for l in expected],
                                      [l.call for l in actual], autojunk=False)
    pairs = []  # (expected or None, actual or None)
    for op, e0, e1, a0, a1 in matcher.get_opcodes():
        if op == "equal":
            pairs += zip(expected[e0:e1], actual[a0:a1])
        elif op == "delete":
            pairs += [(line, None) for line in expected[e0:e1]]
        elif op == "insert":
            pairs += [(None, line) for line in actual[a0:a1]]
        else:  # replace: pair in order with the actual trace lines; the rest is missing or extra
            # Only the lab's lines stand in for another call: a BRK is no WRITE.
            candidates = [line for line in actual[a0:a1] if line.kind in _PATTERNS]
            partners = candidates[:e1 - e0]
            pairs += [(line, partners[i] if i < len(partners) else None)
                      for i, line in enumerate(expected[e0:e1])]
            pairs += [(None, line) for line in actual[a0:a1]
                      if not any(line is p for p in partners)]
    fds = FdRenaming()
    rows = []
    for e_line, a_line in pairs:
        if e_line is None:
            rows.append(Row(None, a_line, EXTRA, "not in the expected trace"))
        elif a_line is None:
            rows.append(Row(e_line, None, MISSING, f"{who} printed no such line"))
        else:
            why = _compare(e_line, a_line, fds, who)
            rows.append(Row(e_line, a_line, WRONG if why else MATCHING, why))
    rows = _squeeze(rows)
    return rows, fds.renamed


def _squeeze(rows):
    """Runs of identical extra lines become one row with a count."""
    out = []
    for row in rows:
        last = out[-1] if out else None
        if (last and row.verdict == EXTRA and last.verdict == EXTRA
                and last.actual.text == row.actual.text):
            last.repeat += 1
        else:
            out.append(row)
    return out


# --- showing a comparison ---------------------------------------------------------

def shown(text):
    """A line as it may be shown: control characters escaped, so that a trace
    line holding some cannot break the table or the terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _clip(text, width):
    return text if len(text) <= width else text[:width - 1] + "…"


def side_by_side(rows, left="expected (reference)", right="your VMM", width=60, max_rows=40):
    """The rows as a table: expected line | actual line | verdict (at most
    `max_rows` rows: the first ones, then the last few)."""
    if len(rows) > max_rows:
        hidden = len(rows) - max_rows
        gap = Row(None, Line(f"... {hidden} more rows ...", "OTHER"), "")
        rows = rows[:max_rows - 5] + [gap] + rows[-5:]

    def cell(line, repeat=1):
        if line is None:
            return ""
        text = shown(line.text) if line.text.strip() else repr(line.text)
        return _clip(text + (f"   (x{repeat})" if repeat > 1 else ""), width)

    lw = min(width, max([len(left)] + [len(cell(r.expected)) for r in rows]))
    rw = min(width, max([len(right)] + [len(cell(r.actual, r.repeat)) for r in rows]))
    out = [f"{left:<{lw}} | {right:<{rw}} |"]
    for row in rows:
        verdict = row.verdict + (": " + shown(row.why) if row.why and row.verdict == WRONG
                                 else "")
        out.append(f"{cell(row.expected):<{lw}} | {cell(row.actual, row.repeat):<{rw}} | "
                   f"{verdict}")
    return "\n".join(out)
