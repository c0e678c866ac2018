"""The ground truth: what a program is expected to do.

With the reference VMM in the kit, the expected run of a program is the
reference VMM's run of it. In a handout, without the reference, it is the
program run natively under strace, its calls written as trace lines. Either
way the expected run is a real run, made once per kit snapshot and shared by
every submission graded against it; nothing expected is written by hand.
"""
import hashlib
import json
import os

from pathlib import Path

from grader.build import MUSL_COMMAND
from grader.machines.runs import VMM_STOPPED, Request, Run

REFERENCE_LABEL = "the reference VMM"
NATIVE_LABEL = "the program run natively (strace)"


class Oracle:
    """Where a snapshot's expected runs come from, and the runs already made
    (kept in the snapshot as JSON, by whichever grading process made them
    first; two that make the same one at once write the same run)."""

    def __init__(self, snapshot):
        self.snapshot = snapshot
        self.vmm = snapshot.reference if snapshot.has_reference else None
        self.label = REFERENCE_LABEL if self.vmm else NATIVE_LABEL
        self.column = "expected (reference)" if self.vmm else "expected (native run)"
        self.description = (REFERENCE_LABEL if self.vmm else
                            "the lab program run natively under strace (this kit has no "
                            "reference VMM)")
        # How Step 3 runs app_guess.c: in the oracle, as the lab program's model.
        built = f"Step 3: your app_guess.c is built with {MUSL_COMMAND} and run"
        self.step3 = (f"{built} by the reference VMM" if self.vmm else
                      f"{built} natively under strace, not under your VMM (this kit has no "
                      "reference VMM)") + (", and its open, write, close and exit calls and the files it "
                                 "writes are compared with the lab program's, run the same "
                                 "way, buffer addresses aside.")

    def request(self, spec, program=None):
        """The request for the oracle's run of `spec` (a program of the
        snapshot, or `program`: a student's own lab program, or app_guess)."""
        return Request(spec, program or self.snapshot.program(spec.program), self.vmm,
                       self.label)

    def _path(self, spec, program):
        """Kept by spec and by program: students with a lab program of their own
        (grader/intake/variants.py) each have their own expected runs."""
        digest = hashlib.sha256(Path(program or self.snapshot.program(spec.program))
                                .read_bytes()).hexdigest()[:16]
        return self.snapshot.expected / f"{spec.key}-{digest}.json"

    def cached(self, spec, program=None):
        """The expected run of `spec`, if it was made already."""
        path = self._path(spec, program)
        return Run.from_json(json.loads(path.read_text())) if path.exists() else None

    def finished(self, run):
        """Whether the program ended by itself: not stopped by the runner's
        limits, nor by the reference VMM's --timeout or --max-exits."""
        return run.status is not None and not (self.vmm and run.status == VMM_STOPPED)

    def keep(self, spec, run, program=None):
        """Keeps an expected run for the others; a run that did not finish is
        the grader's problem, never an expectation."""
        if not self.finished(run):
            raise RuntimeError(f"{self.label} did not finish running {spec.describe()}: "
                               f"{run.stderr.strip()[:500]}")
        # Written whole, then renamed: a process reading it never sees half of it.
        path = self._path(spec, program)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_text(json.dumps(run.to_json()))
        os.replace(partial, path)
