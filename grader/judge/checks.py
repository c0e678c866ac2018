"""What a graded test checks: one program run two ways, the expected run (by
the reference VMM, or natively under strace) and the actual one (by the
student's VMM, or the student's program), compared.

Each method passes, or raises Fail or Partial with a message that shows what
happened (expected and actual lines side by side) and what to look at.
"""
import os

from grader.judge import diagnose
from grader.judge import trace
from grader.session.plugin import Fail, Partial
from grader.judge.trace import EXTRA, MATCHING, MISSING, WRONG
from grader.machines.runs import RUN_LIMITS


class Comparison:
    def __init__(self, expected, actual, *, program, left="expected (reference)",
                 right="your VMM", compare_addresses=True, only_calls=None):
        self.expected, self.actual = expected, actual
        self.program, self.left, self.right = program, left, right
        expected_lines, actual_lines = expected.trace, actual.trace
        if only_calls is not None:  # the calls the expected run traces, and no others
            expected_lines = trace.only(expected_lines, only_calls)
            actual_lines = trace.only(actual_lines, only_calls)
        if not compare_addresses:
            expected_lines = trace.without_addresses(expected_lines)
            actual_lines = trace.without_addresses(actual_lines)
        self.rows, self.renamed_fds = trace.compare(expected_lines, actual_lines, who=right)
        self.compared_lines = expected_lines, actual_lines
        _check_effects(self.rows, expected, actual)

    # --- the pieces of a message -------------------------------------------------

    def table(self, rows=None):
        return trace.side_by_side(self.rows if rows is None else rows, self.left, self.right)

    def ending(self):
        """How the actual run ended, when that explains something, and why it
        made calls the expected run does not."""
        run = self.actual
        normal = (not run.timed_out and not run.flooded and not run.too_many_processes
                  and run.status == self.expected.status)
        stdio = diagnose.stdio_hint(*self.compared_lines)
        if normal and not diagnose.hints(run):
            return stdio
        return "\n".join(filter(None, [diagnose.explain(run), stdio]))

    def _fail(self, fraction, headline, body):
        message = headline[0].upper() + headline[1:] + ("\n" + body if body else "")
        if fraction > 0:
            raise Partial(fraction, message, self.ending())
        raise Fail(message, self.ending())

    # --- the checks -----------------------------------------------------------------

    def calls(self, kind):
        """The expected lines of one system call (OPEN, WRITE, ...) are there and
        right; each line is worth the same share of the points."""
        mine = [r for r in self.rows if r.expected is not None and r.expected.kind == kind]
        if not mine:
            raise RuntimeError(f"the expected trace has no {kind} line")
        good = sum(r.verdict == MATCHING for r in mine)
        if good == len(mine):
            return
        chosen = {id(r) for r in mine}
        shown = [r for r in self.rows if id(r) in chosen or (r.verdict == EXTRA and r.call == kind)]
        self._fail(good / len(mine), f"{good} of {len(mine)} {kind} line{'s' * (len(mine) > 1)} "
                   f"right in the trace of {self.program}:", self.table(shown))

    def exactly(self):
        """The whole trace, every line right and no other line, and the same
        standard output."""
        extra = sum(r.repeat for r in self.rows if r.verdict == EXTRA)
        wrong = sum(r.verdict in (WRONG, MISSING) for r in self.rows)
        problems = []
        if extra or wrong:
            problems.append(f"The trace is not exactly the expected one: {wrong} line"
                            f"{'s' * (wrong != 1)} missing or wrong, {extra} line"
                            f"{'s' * (extra != 1)} that should not be there."
                            + (" Every handled call prints one trace line, but arch_prctl and "
                               "set_tid_address, which only set up the C library, print none; "
                               "the call that ends the program (exit_group, or exit) prints the "
                               "one EXIT line." if extra else "") + "\n" + self.table())
        stdout = self._stdout_difference()
        if stdout:
            problems.append(stdout)
        if problems:
            self._fail(0, "\n".join(problems), "")

    def _stdout_difference(self):
        expected, actual = self.expected.stdout, self.actual.stdout
        if expected == actual and self.expected.stdout_size == self.actual.stdout_size:
            return ""
        return (f"The program's standard output differs: expected {_show_bytes(expected)}, "
                f"got {_show_bytes(actual)}"
                + (f" ({self.actual.stdout_size} bytes in all)"
                   if self.actual.stdout_size > len(actual) else "") + ".")

    def same_trace(self):
        """The whole trace; partial credit by line: matching lines out of the
        expected lines plus the extra ones. The EXIT line alone earns nothing:
        any program that returns 0 makes it."""
        good = sum(r.verdict == MATCHING for r in self.rows)
        extra = sum(r.repeat for r in self.rows if r.verdict == EXTRA)
        expected = sum(r.expected is not None for r in self.rows)
        if good == expected and not extra:
            return
        calls = sum(r.verdict == MATCHING and r.expected.kind != "EXIT" for r in self.rows)
        self._fail(good / (expected + extra) if calls else 0,
                   f"{good} of the {expected} expected trace lines are right"
                   + (f", and {extra} line{'s' * (extra > 1)} should not be there" if extra
                      else "") + ":", self.table())

    def only_exits(self):
        """Whether the actual run did nothing but exit with status 0 (an empty main)."""
        return (self.actual.status == 0 and len(self.actual.trace) == 1
                and self.actual.trace[0].startswith("EXIT ") and not self.actual.files)

    def _file_problems(self):
        problems = file_differences(self.expected.files, self.actual.files)
        if problems and self.actual.behaviour.too_many_files:
            problems.append(f"(it left more than {RUN_LIMITS.max_files} files: only the first "
                            f"{RUN_LIMITS.max_files}, by name, were compared)")
        return problems

    def same_files(self):
        """The program leaves the same files, byte for byte, with the same modes."""
        problems = self._file_problems()
        if problems:
            self._fail(0, f"{self.program} left other files than expected in its working "
                          "directory:", "\n".join("  - " + p for p in problems))

    def same_status(self):
        """The VMM exits with the program's own exit status."""
        if self.actual.status == self.expected.status and not self.actual.timed_out:
            return
        self._fail(0, f"Expected exit status {self.expected.status} (the program's own status, "
                      f"from its exit call), got {_status(self.actual)}.", "")

    def everything(self):
        """Trace, files, standard output and exit status all as expected."""
        problems = []
        if any(r.verdict != MATCHING for r in self.rows):
            problems.append("The trace differs:\n" + self.table())
        differences = self._file_problems()
        if differences:
            problems.append("The files differ:\n" + "\n".join("  - " + d for d in differences))
        stdout = self._stdout_difference()
        if stdout:
            problems.append(stdout)
        if self.actual.status != self.expected.status or self.actual.timed_out:
            problems.append(f"The exit status differs: expected {self.expected.status}, got "
                            f"{_status(self.actual)}.")
        if problems:
            self._fail(0, f"{self.right[0].upper() + self.right[1:]} does not run "
                          f"`{self.program}` as the reference does.", "\n".join(problems))


def _status(run):
    """A run's exit status in words, also when a limit stopped it."""
    if run.flooded:
        return "none: it was stopped for flooding its output"
    if run.too_many_processes:
        return "none: it was stopped for starting too many processes"
    if run.status is None:
        return "none: it was stopped at its time limit"
    return f"status {run.status}"


def _show_bytes(data, limit=60):
    text = repr(data[:limit])
    return text + ("..." if len(data) > limit else "")


def file_differences(expected, actual):
    """What differs between two {path: FileInfo}, in words."""
    out = []
    for key in sorted(set(expected) | set(actual)):
        e, a = expected.get(key), actual.get(key)
        name = trace.shown(key)  # a name a broken VMM made may hold any byte
        if a is None:
            out.append(f"{name}: missing ({e.kind}, {e.size} bytes expected)")
        elif e is None:
            out.append(f"{name}: not expected, but there ({a.kind}, {a.size} bytes)")
        elif e.kind != a.kind:
            out.append(f"{name}: a {a.kind}, expected a {e.kind}")
        elif e.kind == "file":
            if e.size != a.size or e.data != a.data:
                at = next((i for i, (x, y) in enumerate(zip(e.data, a.data)) if x != y),
                          min(len(e.data), len(a.data)))
                out.append(f"{name}: {a.size} bytes, expected {e.size}; they differ from byte "
                           f"{at}: expected {_show_bytes(e.data[at:], 40)}, got "
                           f"{_show_bytes(a.data[at:], 40)}")
            if e.mode != a.mode:
                out.append(f"{name}: mode {a.mode:04o}, expected {e.mode:04o} (the mode "
                           "argument of open, under the umask)")
    return out


def _check_effects(rows, expected, actual):
    """A trace line counts only if the call really happened: a matching OPEN,
    WRITE or CLOSE of a file the program creates must have left that file (and
    those bytes in it) in the actual run too."""
    fds, written, totals = {}, {}, {}
    for row in rows:  # first, what the program writes to each file in all
        e = row.expected
        if e is not None and e.kind == "OPEN" and e.fields[3] >= 0:
            fds[e.fields[3]] = _workdir_path(e.fields[0])
        elif e is not None and e.kind == "WRITE" and fds.get(e.fields[0]) and e.fields[3] > 0:
            path = fds[e.fields[0]]
            totals[path] = totals.get(path, 0) + e.fields[3]
    fds = {}
    for row in rows:
        e = row.expected
        if e is None:
            continue
        problem = ""
        if e.kind == "OPEN" and e.fields[3] >= 0:
            path = fds[e.fields[3]] = _workdir_path(e.fields[0])
            if path in expected.files and path not in actual.files:
                problem = f"no file {path} was left in the working directory"
        elif e.kind == "WRITE" and fds.get(e.fields[0]) and e.fields[3] > 0:
            path = fds[e.fields[0]]
            start = written.get(path, 0)
            end = written[path] = start + e.fields[3]
            want, got = expected.files.get(path), actual.files.get(path)
            if want is not None and want.size == totals.get(path) and end <= len(want.data):
                if got is None or got.data[start:end] != want.data[start:end]:
                    problem = f"bytes {start} to {end - 1} of {path} are not what the program wrote"
        elif e.kind == "CLOSE" and fds.get(e.fields[0]):
            path = fds[e.fields[0]]
            if path in expected.files and path not in actual.files:
                problem = f"the file {path} it closes was never created"
        if problem and row.verdict == MATCHING:
            row.verdict = WRONG
            row.why = (f"the line is right but {problem}: a trace line must come from a call "
                       "the VMM really made")


def _workdir_path(path):
    """The path of a file of the working directory, or None for one elsewhere."""
    if not path or path.startswith("/"):
        return None
    normal = os.path.normpath(path)
    return None if normal.startswith("..") else normal
