"""The fixtures the rubric's tests use, and the Grading object behind them:
one submission, graded against one kit snapshot.

The ground truth ("oracle") is the reference VMM when the kit has it, and the
same program run natively under strace when it does not (a student handout).
Both produce the same kind of Run, so every test works with either.
"""
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path

import pytest

from grader import build, kit
from grader.machines import kvm
from grader import oracle, sandbox
from grader.intake import submission
from grader.judge.checks import Comparison
from grader.session.plugin import Fail, NotGraded, NotSubmitted
from grader.machines.runs import Spec, VmmRunner

LAB = Spec("app", (), "stdout")  # Step 2: the lab program, trace on stdout as `make run` shows
LAB_TRACED = Spec("app", (), "file")  # Step 3's model: the lab program, trace in a file
GUESS = Spec("app_guess", (), "file")  # Step 3: the student's program


class Grading:
    def __init__(self, config):
        option = config.getoption
        self.mode = option("mode")
        self.submission = submission.load(option("submission"), option("student"))
        self.snapshot = kit.Snapshot.open(option("snapshot"))
        self.sandbox, sandbox_note = sandbox.choose(option("sandbox"))
        self.work = Path(option("work") or Path(option("out")) / "work").resolve()
        self.cache = Path(option("cache") or self.work / "cache").resolve()
        self.notes = list(self.submission.notes) + ([sandbox_note] if sandbox_note else [])
        self.kvm_problem = kvm.problem()
        if self.kvm_problem:
            self.notes.append(f"No usable /dev/kvm on the grading machine ({self.kvm_problem}): "
                              "the tests that run a VMM were not graded.")
        self.timing = {"build": 0.0, "run": 0.0, "compare": 0.0}
        self.timing_lock = threading.Lock()  # runs finish in the pool's threads
        self.pool = ThreadPoolExecutor(max_workers=8)  # all of a submission's runs at once
        self.futures = {}
        self.expectations = oracle.Expected(self.snapshot, self.sandbox, self.work / "runs")
        self.oracle, self.oracle_label = self.expectations.runner, self.expectations.label
        self.expected_label = ("expected (reference)" if self.expectations.needs_kvm
                               else "expected (native run)")

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.work / "runs", ignore_errors=True)
        shutil.rmtree(self.work / "guess", ignore_errors=True)

    def extra_data(self):
        return {"student": self.submission.name, "mode": self.mode, "oracle": self.oracle_label,
                "sandbox": self.sandbox.kind, "kvm_problem": self.kvm_problem,
                "timing": {k: round(v, 3) for k, v in self.timing.items()},
                "build_cached": bool(self.__dict__.get("vmm_build") and self.vmm_build.cached),
                "answers": self.submission.answers is not None, "notes": self.notes}

    # --- building -------------------------------------------------------------------

    @cached_property
    def vmm_build(self):
        if self.submission.problem:
            return build.BuildResult(False, None, self.submission.problem, None, False, 0.0)
        result = build.vmm(self.submission.manager, self.snapshot, self.sandbox, self.cache)
        self.timing["build"] += 0 if result.cached else result.seconds
        return result

    @cached_property
    def guess_build(self):
        if self.submission.guess is None:
            return None
        result = build.guess(self.submission.guess, self.work / "guess", self.sandbox)
        self.timing["build"] += result.seconds
        return result

    def student_vmm(self):
        if not self.vmm_build.ok:
            raise Fail("Not run: your VMM did not build (see the build test above).")
        self.need_kvm()
        return VmmRunner(self.vmm_build.binary, self.snapshot, self.sandbox, "your VMM")

    def need_kvm(self):
        if self.kvm_problem:
            raise NotGraded(self.kvm_problem)

    # --- running ----------------------------------------------------------------------

    def _timed_run(self, runner, spec, program, where):
        run = runner.run(spec, program, self.work / "runs" / where)
        self._count(run)
        return run

    def expected(self, spec):
        """The oracle's run of a program of the snapshot (made once per snapshot)."""
        if self.expectations.needs_kvm:
            self.need_kvm()
        return self.expectations.get(spec, on_run=lambda run: self._count(run))

    def _count(self, run):
        with self.timing_lock:
            self.timing["run"] += run.seconds

    def _future(self, spec):
        if spec not in self.futures:
            runner = self.student_vmm()
            self.futures[spec] = self.pool.submit(
                self._timed_run, runner, spec, self.snapshot.program(spec.program), "student")
        return self.futures[spec]

    def start(self, specs):
        """Starts the student's runs of these programs, side by side."""
        for spec in specs:
            self._future(spec)

    def actual(self, spec):
        """The student's VMM's run of a program of the snapshot."""
        return self._future(spec).result()

    def hidden_specs(self):
        return [Spec(name, tuple(args), "file") for name, args in self.snapshot.hidden.items()]

    def compared(self, expected, actual, **labels):
        started = time.monotonic()
        comparison = Comparison(expected, actual, **labels)
        self.timing["compare"] += time.monotonic() - started
        return comparison


def pytest_configure(config):
    if config.getoption("submission", None) is not None:
        config.grading = Grading(config)


def pytest_unconfigure(config):
    grading = getattr(config, "grading", None)
    if grading is not None:
        grading.close()


# --- the fixtures ------------------------------------------------------------------------

@pytest.fixture(scope="session")
def grading(request):
    return request.config.grading


@pytest.fixture(scope="session")
def vmm_build(grading):
    return grading.vmm_build


@pytest.fixture(scope="session")
def step2(grading):
    """The lab program in the student's VMM, against the oracle."""
    grading.student_vmm()
    grading.start([LAB] + (grading.hidden_specs() if grading.mode == "grade" else []))
    return grading.compared(grading.expected(LAB), grading.actual(LAB),
                            program="the lab program", left=grading.expected_label)


@pytest.fixture(scope="session")
def step3(grading):
    """The student's app_guess.c run by the oracle, against the lab program."""
    result = grading.guess_build
    if result is None:
        raise NotSubmitted("There is no app_guess.c: Step 3 asks you to write the program you "
                           "think the lab program is, in app_guess.c beside vm_manager/.")
    if not result.ok:
        raise Fail("app_guess.c does not build with `musl-gcc -static -O2`:\n"
                   + compiler_messages(result))
    if grading.expectations.needs_kvm:
        grading.need_kvm()
    actual = grading._timed_run(grading.oracle, GUESS, result.binary, "guess")
    expected = grading.expected(LAB_TRACED)
    comparison = grading.compared(expected, actual, program="your app_guess.c",
                                  left="the lab program", right="your app_guess.c",
                                  compare_addresses=False)
    if comparison.only_exits():
        raise NotSubmitted("Your app_guess.c does nothing yet but exit (an empty main): Step 3 "
                           "asks you to write the program you think the lab program is.")
    return comparison


@pytest.fixture(scope="session")
def hidden(grading):
    """hidden(name): program `name` of grader/programs in the student's VMM, against the oracle."""
    grading.student_vmm()
    specs = {spec.program: spec for spec in grading.hidden_specs()}
    grading.start(specs.values())

    def compare(name):
        if name not in specs:
            raise RuntimeError(f"there is no hidden program {name}.c in grader/programs/")
        spec = specs[name]
        return grading.compared(grading.expected(spec), grading.actual(spec),
                                program=spec.describe(), left=grading.expected_label)
    return compare


def compiler_messages(result, lines=30):
    if result.timed_out:
        return f"    the compiler did not finish within {build.BUILD_LIMITS.seconds:g} s"
    text = [line for line in result.log.splitlines() if line.strip()]
    shown = text[:lines] + ([f"... ({len(text) - lines} more lines)"] if len(text) > lines else [])
    return "\n".join("    " + line for line in shown) or f"    (exit status {result.status})"

