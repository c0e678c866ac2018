"""The ground truth: what a program is expected to do.

With the reference VMM in the kit, the expected run of a program is the
reference VMM's run of it. In a handout, without the reference, it is the
program run natively under strace, its calls written as trace lines. Either
way the expected run is a real run, made once per batch (per kit snapshot) and
shared by every submission of the batch; nothing expected is written by hand.
"""
import fcntl
import json

from grader.machines.runs import NativeRunner, Run, VmmRunner


def runner(snapshot, sandbox):
    """(runner, label) of this snapshot's ground truth."""
    if snapshot.has_reference:
        return VmmRunner(snapshot.reference, snapshot, sandbox, "the reference VMM"), \
            "the reference VMM"
    return NativeRunner(sandbox), ("the lab program run natively under strace (this kit has "
                                   "no reference VMM)")


class Expected:
    """The expected runs of a snapshot's programs, each made once and kept in
    the snapshot (as JSON), whichever grading process asks first."""

    def __init__(self, snapshot, sandbox, scratch):
        self.snapshot, self.scratch = snapshot, scratch
        self.runner, self.label = runner(snapshot, sandbox)
        self.needs_kvm = isinstance(self.runner, VmmRunner)

    def get(self, spec, on_run=None):
        path = self.snapshot.expected / f"{spec.key}.json"
        with open(self.snapshot.expected / f"{spec.key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if path.exists():
                return Run.from_json(json.loads(path.read_text()))
            run = self.runner.run(spec, self.snapshot.program(spec.program), self.scratch)
            if on_run:
                on_run(run)
            if run.timed_out or run.flooded or run.status is None:
                raise RuntimeError(f"{self.label} did not finish running {spec.describe()}: "
                                   f"{run.stderr.strip()[:500]}")
            path.write_text(json.dumps(run.to_json()))
            return run
