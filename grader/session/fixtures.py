"""The fixtures the rubric's tests use, and the Grading object behind them:
one submission, graded against one kit snapshot, on one machine.

The ground truth (the oracle, grader/oracle.py) is the reference VMM when the
kit has it, and the same program run natively under strace when it does not
(a student handout). The runs are all made in one go, on the machine chosen
once for this grading process (grader/machines/): the student's VMM on the
lab program (and, when grading, on the hidden programs), the student's
app_guess in the oracle, and whatever expected run the snapshot does not hold
yet. The tests only compare Runs.
"""
import shutil
import time
from pathlib import Path, PurePosixPath

import pytest

from grader import build, kit, machines, sandbox
from grader.intake import submission
from grader.judge import trace
from grader.judge.checks import Comparison
from grader.machines.runs import Request, Spec
from grader.oracle import Oracle
from grader.session.plugin import Fail, NotSubmitted

LAB = Spec("app", (), "stdout")  # Step 2: the lab program, trace on stdout as `make run` shows
LAB_TRACED = Spec("app", (), "file")  # Step 3's model: the lab program, trace in a file
GUESS = Spec("app_guess", (), "file")  # Step 3: the student's program
YOUR_VMM = "your VMM"
# Step 4's practice with a program nobody wrote for the lab: Debian's
# busybox-static (glibc's start-up, then stdio).
BUSYBOX = Path("/bin/busybox")
BUSYBOX_ARGS = ("seq", "3")
BUSYBOX_CASE = "busybox " + " ".join(BUSYBOX_ARGS)
HOST_FDS = ("Your VMM gives the program other file descriptor numbers than Linux would (the "
            "host's own?). That is graded as right, but a program could then reach the VMM's "
            "own files, such as /dev/kvm's: GuestFiles (guest.files) gives it numbers of its "
            "own, as Linux does.")


def hidden_specs(snapshot):
    """The runs of the snapshot's hidden programs, each with its arguments."""
    return [Spec(name, tuple(args), "file") for name, args in snapshot.hidden.items()]


def once(method):
    """A property computed once, like functools.cached_property, that also keeps
    the exception it raised: a build or a boot that failed fails each test that
    needs it at once, never again and again (a failing emulated machine would
    otherwise boot once per test, past the submission's time limit)."""
    name = method.__name__

    def get(self):
        kept = self.__dict__.get(name)
        if kept is None:
            try:
                kept = ("value", method(self))
            except Exception as error:  # kept, and raised for every test that needs it
                kept = ("error", error)
            self.__dict__[name] = kept
        if kept[0] == "error":
            raise kept[1]
        return kept[1]
    return property(get, doc=method.__doc__)


class Grading:
    def __init__(self, config):
        option = config.getoption
        self.mode = option("mode")
        self.submission = submission.load(option("submission"), option("student"))
        self.snapshot = kit.Snapshot.open(option("snapshot"))
        self.work = Path(option("work") or Path(option("out")) / "work").resolve()
        self.cache = Path(option("cache") or self.work / "cache").resolve()
        self.sandbox, sandbox_note = sandbox.choose(option("sandbox"), self.snapshot.runner)
        self.machine = machines.choose(self.sandbox, self.snapshot, sandbox_note=sandbox_note)
        self.oracle = Oracle(self.snapshot)
        self.notes = list(self.submission.notes) + ([sandbox_note] if sandbox_note else [])
        # The student's own lab program (a variant), or the kit's.
        self.lab_program = Path(option("program")) if option("program") else None
        if self.lab_program:
            self.notes.append("Graded against your own lab program, the one in your handout.")
        if self.mode == "check":
            self.notes += self.submission.practice_notes
        self.timing = {"build": 0.0, "run": 0.0, "compare": 0.0}

    def where(self):
        """Which machine graded, and why: every report says it."""
        return f"Graded on {self.machine.describe()}: {self.machine.why}."

    def close(self):
        shutil.rmtree(self.work / "guess", ignore_errors=True)
        shutil.rmtree(self.work / "practice", ignore_errors=True)

    def made(self, name):
        """What the @once property `name` gave, if it was computed and did not fail."""
        kept = self.__dict__.get(name)
        return kept[1] if kept and kept[0] == "value" else None

    def extra_data(self):
        runs = self.made("runs") or {}
        behaviour = sorted({note for (who, _), run in runs.items() if who == "student"
                            for note in run.behaviour.notes()})
        return {"student": self.submission.name, "mode": self.mode,
                "oracle": self.oracle.description, "machine": self.machine.name,
                "where": self.where(), "sandbox": self.sandbox.kind,
                "containment": self.sandbox.mechanisms, "behaviour": behaviour,
                "timing": {k: round(v, 3) for k, v in self.timing.items()},
                "build_cached": bool(self.made("vmm_build") and self.vmm_build.cached),
                "answers": self.submission.answers is not None, "notes": self.notes}

    # --- building -------------------------------------------------------------------

    @once
    def vmm_build(self):
        if self.submission.problem:
            return build.BuildResult(False, None, self.submission.problem, None, False, 0.0)
        result = build.vmm(self.submission.manager, self.snapshot, self.sandbox, self.cache)
        self.timing["build"] += 0 if result.cached else result.seconds
        return result

    @once
    def guess_build(self):
        if self.submission.guess is None:
            return None
        result = build.guess(self.submission.guess, self.work / "guess", self.sandbox)
        self.timing["build"] += result.seconds
        return result

    def practice_cases(self):
        """make check's practice, by name: the programs of the student's
        samples/ and challenge/ folders ("samples/journal.c"), and Step 4's
        busybox where Debian's busybox-static is installed. None when grading."""
        if self.mode != "check":
            return []
        return sorted(self.submission.practice) + ([BUSYBOX_CASE] if BUSYBOX.exists() else [])

    @once
    def practice(self):
        """{case: (Spec, BuildResult or None, program file or None)}: the
        student's programs built as app_guess.c is; busybox as it is."""
        cases = {}
        for name in self.practice_cases():
            if name == BUSYBOX_CASE:
                # Named busybox inside: busybox picks its command by its own name.
                cases[name] = (Spec("busybox", BUSYBOX_ARGS, "file"), None, BUSYBOX)
                continue
            source, path = self.submission.practice[name], PurePosixPath(name)
            # Named apart from the snapshot's programs (a sample may be called app.c).
            spec = Spec(f"{path.parent}-{path.stem}", tuple(kit.program_arguments(
                source.decode(errors="replace"))), "file")
            result = build.c_program(source, path.stem, self.work / "practice" / spec.program,
                                     self.sandbox)
            self.timing["build"] += result.seconds
            cases[name] = (spec, result, Path(result.binary) if result.ok else None)
        return cases

    def practice_programs(self):
        """{Spec: program file} of the practice cases that can run."""
        return {spec: program for spec, _, program in self.practice.values() if program}

    def student_vmm(self):
        if not self.vmm_build.ok:
            raise Fail("Not run: your VMM did not build (see the build test above).")

    # --- running ----------------------------------------------------------------------

    def hidden_specs(self):
        return hidden_specs(self.snapshot)

    def program(self, spec):
        """The file of a spec's program: the student's own lab program where
        they have one, a practice program, otherwise the snapshot's."""
        if spec.program == LAB.program and self.lab_program:
            return self.lab_program
        practice = self.practice_programs()
        if spec in practice:
            return practice[spec]
        return self.snapshot.program(spec.program)

    @once
    def runs(self):
        """Every run this grading needs, made in one go on the machine:
        {("student" | "guess" | "expected", spec): Run}. The practice's
        expected runs are made each time, never kept: its programs are the student's."""
        student = [LAB] + (self.hidden_specs() if self.mode == "grade" else [])
        practice = list(self.practice_programs()) if self.vmm_build.ok else []
        guess = self.guess_build
        expected = [LAB] + ([LAB_TRACED] if guess and guess.ok else []) + student[1:]
        requests = {}
        if self.vmm_build.ok:
            for spec in student:
                requests[("student", spec)] = Request(spec, self.program(spec),
                                                      Path(self.vmm_build.binary), YOUR_VMM)
        if guess and guess.ok:
            requests[("guess", GUESS)] = self.oracle.request(GUESS, Path(guess.binary))
        for spec in practice:
            requests[("student", spec)] = Request(spec, self.program(spec),
                                                  Path(self.vmm_build.binary), YOUR_VMM)
            requests[("expected", spec)] = self.oracle.request(spec, self.program(spec))
        cached = {spec: self.oracle.cached(spec, self.program(spec)) for spec in expected}
        for spec, run in cached.items():
            if run is None:
                requests[("expected", spec)] = self.oracle.request(spec, self.program(spec))
        started = time.monotonic()
        made = dict(zip(requests, self.machine.run(list(requests.values()))))
        self.timing["run"] += time.monotonic() - started
        for spec, run in cached.items():
            if run is None:
                self.oracle.keep(spec, made[("expected", spec)], self.program(spec))
            else:
                made[("expected", spec)] = run
        for run in made.values():
            if run.note and run.note not in self.notes:
                self.notes.append(run.note)
        return made

    def expected(self, spec):
        """The oracle's run of a program of the snapshot."""
        return self.runs[("expected", spec)]

    def actual(self, spec):
        """The student's VMM's run of a program of the snapshot."""
        self.student_vmm()
        return self.runs[("student", spec)]

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
    comparison = grading.compared(grading.expected(LAB), grading.actual(LAB),
                                  program="the lab program", left=grading.oracle.column)
    if comparison.renamed_fds:
        grading.notes.append(HOST_FDS)
    return comparison


@pytest.fixture(scope="session")
def step3(grading):
    """The student's app_guess.c run by the oracle, against the lab program."""
    result = grading.guess_build
    if result is None:
        raise NotSubmitted("There is no app_guess.c: Step 3 asks you to write the program you "
                           "think the lab program is, in app_guess.c beside vm_manager/.")
    if not result.ok:
        raise Fail((f"app_guess.c cannot be graded: {result.problem} " if result.problem else "")
                   + f"app_guess.c does not build with `{build.MUSL_COMMAND}`:\n"
                   + compiler_messages(result))
    comparison = grading.compared(grading.expected(LAB_TRACED),
                                  grading.runs[("guess", GUESS)], program="your app_guess.c",
                                  left="the lab program", right="your app_guess.c",
                                  compare_addresses=False)
    if comparison.only_exits():
        raise NotSubmitted("Your app_guess.c does nothing yet but exit (an empty main): Step 3 "
                           "asks you to write the program you think the lab program is.")
    return comparison


@pytest.fixture(scope="session")
def hidden(grading):
    """hidden(name): program `name` of grader/programs in the student's VMM, against the oracle."""
    specs = {spec.program: spec for spec in grading.hidden_specs()}

    def compare(name):
        if name not in specs:
            raise RuntimeError(f"there is no hidden program {name}.c in grader/programs/")
        spec = specs[name]
        return grading.compared(grading.expected(spec), grading.actual(spec),
                                program=spec.describe(), left=grading.oracle.column)
    return compare


@pytest.fixture
def practice(grading, request):
    """A practice case: its program in the student's VMM, against the oracle."""
    name = request.param
    spec, result, _ = grading.practice[name]
    if result is not None and not result.ok:
        raise Fail((f"{name} cannot be run: {result.problem} " if result.problem else "")
                   + f"{name} does not build with `{build.MUSL_COMMAND}`:\n"
                   + compiler_messages(result))
    grading.student_vmm()
    expected = grading.expected(spec)
    if not grading.oracle.finished(expected):
        raise Fail(f"{name} did not end by itself in the expected run "
                   f"({grading.oracle.label}): a practice program must finish, so that there "
                   "is something to compare your VMM's run with.")
    # A native run traces the lab's calls only (strace.py): the others are
    # judged by what they do (standard output, files, status).
    return grading.compared(expected, grading.actual(spec), program=name,
                            left=grading.oracle.column,
                            only_calls=None if grading.oracle.vmm else trace.LAB_CALLS)


def pytest_generate_tests(metafunc):
    """One practice test per case (none when grading)."""
    if "practice" in metafunc.fixturenames:
        grading = getattr(metafunc.config, "grading", None)
        names = grading.practice_cases() if grading is not None else []
        metafunc.parametrize("practice", names, indirect=True, ids=names)


def compiler_messages(result, lines=30):
    if result.timed_out:
        return f"    the compiler did not finish within {build.BUILD_LIMITS.seconds:g} s"
    text = [line for line in result.log.splitlines() if line.strip()]
    shown = text[:lines] + ([f"... ({len(text) - lines} more lines)"] if len(text) > lines else [])
    return "\n".join("    " + line for line in shown) or f"    (exit status {result.status})"
