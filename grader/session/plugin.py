"""The grader's pytest plugin: points and visibility on each test, and the
result files.

A graded test is a plain pytest test with one decorator:

    @graded(8, "Step 2: the OPEN call")
    def test_step2_open(step2):
        step2.calls("OPEN")

It earns its points when it passes. It says why it failed by raising Fail
(nothing), Partial (a fraction of the points) or NotSubmitted (the file it
grades was not handed in); each carries a message for the student. Any other
exception is a grader error, reported as such, for 0 points.

A practice test (@practice) is checked the same way, by make check only, and
counts for nothing: its results are listed apart, never in the score.
"""
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.reports import results

VISIBLE, AFTER_PUBLISHED = "visible", "after_published"


class Fail(Exception):
    """The test failed; the message says what happened and what to do. `details`
    (how the run ended, hints) is shared by the tests of one run: make check
    shows it once."""

    def __init__(self, message, details=""):
        super().__init__(message)
        self.details = details


class Partial(Fail):
    """Part of the points: `fraction` of them."""

    def __init__(self, fraction, message, details=""):
        super().__init__(message, details)
        self.fraction = max(0.0, min(1.0, fraction))


class NotSubmitted(Exception):
    """The file this test grades was not handed in."""


@dataclass(frozen=True)
class Graded:
    points: float
    title: str
    visibility: str
    practice: bool = False


def graded(points, title, *, hidden=False):
    """Marks a test as graded: its points, its title for students, and whether it
    is hidden (shown to students only once grades are published, and not run by
    make check)."""
    def mark(function):
        function.graded = Graded(points, title, AFTER_PUBLISHED if hidden else VISIBLE)
        return function
    return mark


def practice(title):
    """Marks a test as practice: make check runs it, for no points. The test
    is parametrized, one case each; `{case}` in `title` is the case's id."""
    def mark(function):
        function.graded = Graded(0, title, VISIBLE, practice=True)
        return function
    return mark


@dataclass
class Result:
    number: int
    name: str
    title: str
    points: float
    score: float
    status: str  # passed, partial, failed, not checked, error
    message: str  # what happened, what to do
    visibility: str
    seconds: float = 0.0
    details: str = ""  # how the run ended: shared by the tests of one run

    @property
    def output(self):
        return "\n".join(filter(None, [self.message, self.details]))


def pytest_addoption(parser):
    group = parser.getgroup("grader", "Lab 2 grader")
    group.addoption("--submission", help="the submission: a folder, .tar.gz or .zip")
    group.addoption("--student", help="the student's name in the results")
    group.addoption("--snapshot", help="the kit snapshot to grade against (grader.kit)")
    group.addoption("--out", help="where results.json and feedback.txt go")
    group.addoption("--mode", choices=["check", "grade"], default="grade",
                    help="check: a student's own check (no hidden tests, progress on screen)")
    group.addoption("--sandbox", choices=["bwrap", "none", "auto"], default="bwrap")
    group.addoption("--cache", help="the build cache directory")
    group.addoption("--work", help="a scratch directory for builds and runs")
    group.addoption("--program", help="the student's own lab program (a variant), if any")


MAX_OUTPUT = 12000  # characters of a test's message


def _clip(text):
    if len(text) <= MAX_OUTPUT:
        return text
    return text[:MAX_OUTPUT] + f"\n... ({len(text) - MAX_OUTPUT} more characters)"


def rubric_items(module):
    """[{name, title, points, visibility}] of the graded tests of a module, in order."""
    items = []
    for name, function in vars(module).items():
        info = getattr(function, "graded", None)
        if name.startswith("test_") and info is not None and not info.practice:
            items.append({"name": name.removeprefix("test_"), "title": info.title,
                          "points": info.points, "visibility": info.visibility})
    return items


def _graded(item):
    return getattr(getattr(item, "obj", None), "graded", None)


class Recorder:
    """Collects each test's Result and writes the result files at the end."""

    def __init__(self, config):
        self.config = config
        self.mode = config.getoption("mode")
        self.results = []
        self.practice = []  # make check's practice results: never scored
        self.shown_details = set()  # make check shows the same details once
        self.quiet = False
        self.hidden_points = 0.0
        self.started = time.monotonic()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items):
        kept, dropped = [], []
        for item in items:
            info = _graded(item)
            # A practice test with no case is pytest's one skipped item.
            no_case = item.get_closest_marker("skip") is not None
            if (info is None or (self.mode == "check" and info.visibility == AFTER_PUBLISHED)
                    or (info is not None and info.practice
                        and (self.mode != "check" or no_case))):
                dropped.append(item)
                if info is not None and not info.practice:
                    self.hidden_points += info.points
            else:
                kept.append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = kept
        if self.mode == "check":
            self._say(results.check_banner(config))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        info = _graded(item)
        if info is None or call.when == "teardown":
            return
        if call.when == "setup" and call.excinfo is None:
            return  # the call phase decides
        result = self._result(item, info, call)
        if info.practice:
            self._practised(result)
            return
        self.results.append(result)
        if result.status in ("failed", "partial", "error"):
            report.outcome = "failed"
            report.longrepr = f"{result.status}: {result.score:g}/{result.points:g}\n{result.output}"
        elif result.status == "not checked":
            report.outcome = "skipped"
            report.longrepr = (str(item.path), item.location[1] or 0, result.output)
        report.user_properties += [("points", result.points), ("score", result.score)]
        if self.mode == "check":
            repeated = result.details in self.shown_details
            self.shown_details.add(result.details)
            self._say(results.entry(result, repeated_details=repeated))

    def _practised(self, result):
        """A practice result: listed, never scored (make check's exit status is
        the score's, pytest_sessionfinish)."""
        if not self.practice:
            grading = getattr(self.config, "grading", None)
            self._say(results.practice_banner(grading))
        self.practice.append(result)
        repeated = result.details in self.shown_details
        self.shown_details.add(result.details)
        self._say(results.practice_entry(result, repeated_details=repeated))

    def _result(self, item, info, call):
        error = call.excinfo.value if call.excinfo else None
        score, status, message, details = info.points, "passed", "", ""
        if isinstance(error, Fail):  # Partial is a Fail with a fraction of the points
            fraction = getattr(error, "fraction", 0.0)
            score, status = round(info.points * fraction, 2), "partial" if fraction else "failed"
            message, details = _clip(str(error)), _clip(error.details)
        elif isinstance(error, NotSubmitted):
            score, message = 0, str(error)
            status = "not checked" if self.mode == "check" else "failed"
        elif error is not None:
            score, status = 0, "error"
            where = "".join(traceback.format_exception_only(type(error), error)).strip()
            message = ("The grader itself failed on this test, so it could not judge your work: "
                       f"tell your instructor.\n    {_clip(where)}")
        title = info.title.format(case=item.callspec.id) if info.practice else info.title
        return Result(len(self.results) + 1, item.name.removeprefix("test_"), title,
                      info.points, score, status, message, info.visibility,
                      round(call.duration, 3), details)

    def _say(self, text):
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and not self.quiet:
            try:
                reporter.write_line(text)
            except BrokenPipeError:  # make check | head
                self.quiet = True

    def pytest_report_teststatus(self, report, config):
        if self.mode == "check":
            return report.outcome, "", ""  # the recorder prints its own lines

    def pytest_sessionfinish(self, session, exitstatus):
        grading = getattr(self.config, "grading", None)
        extra = grading.extra_data() if grading else {}
        extra["seconds"] = round(time.monotonic() - self.started, 2)
        out = self.config.getoption("out")
        if out:
            results.write_student_files(Path(out), self.results, extra, self.practice)
        if self.mode == "check":
            self._say(results.check_summary(self.results, self.hidden_points, extra))
            full = all(r.status in ("passed", "not checked") for r in self.results)
            session.exitstatus = 0 if full and self.results else 1


def pytest_configure(config):
    if config.getoption("submission", None) is not None:
        config.pluginmanager.register(Recorder(config), "grader-recorder")
