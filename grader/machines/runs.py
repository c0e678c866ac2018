"""What the grader runs, and what a run gives back.

A program is run three ways, all giving the same kind of result, a Run: its
trace lines, the files it left in its working directory, its standard output
and its exit status.

- in the student's VMM;
- in the reference VMM (the ground truth when the kit has the reference);
- natively under strace (the ground truth in a handout, which has no
  reference: strace's calls are turned into the trace lines a VMM prints).

Each is a Request; a machine (grader/machines/) carries requests out and the
sandbox's runner reports each Outcome, which becomes a Run here. The command
lines and the paths inside the sandbox are the same on every machine, so that
what a VMM prints does not depend on where it ran.
"""
import base64
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader.judge import strace
from grader.sandbox import Behaviour, FileInfo, Limits

VMM_TIMEOUT = 2  # seconds: the VMM's --timeout, for a guest that never exits
VMM_MAX_EXITS = 2000  # the VMM's --max-exits, for a guest that never stops calling
VMM_STOPPED = 124  # the VMM's status when one of those stopped the guest (kExitStopped)
# The runner's limits: it also stops a VMM that hangs outside the guest.
RUN_LIMITS = Limits(seconds=VMM_TIMEOUT + 3, processes=32, memory=1024 << 20,
                    file_size=64 << 20, capture=256 << 10, output=16 << 20, scratch=64 << 20,
                    file_capture=64 << 10, max_files=200)

# Inside the sandbox (or the emulated machine), every run sees the same paths.
WORK, OUT = "/run/work", "/run/out"  # the program's working directory; the trace's
VMM_INSIDE = "/run/vmm/vm_manager"
BOOT_INSIDE = "/kit/boot.bin"
PROGRAMS_INSIDE = "/run/prog"


@dataclass(frozen=True)
class Spec:
    """What to run: a program of the snapshot (or the student's app_guess), its
    arguments, and where the VMM's trace goes: "stdout" as `make run` shows it
    (used for the lab program, which prints nothing itself), or "file" (--trace)."""
    program: str
    args: tuple = ()
    trace_to: str = "file"

    @property
    def key(self):
        return "-".join([self.program, self.trace_to, *self.args]).replace("/", "_")[:120]

    def describe(self):
        return shlex.join([self.program, *self.args])


@dataclass(frozen=True)
class Request:
    """One run to make: `spec`, whose program is the file `program`, in the VMM
    `vmm` (a binary), or natively under strace when vmm is None. `label` names
    who runs it in messages: "your VMM", "the reference VMM", ..."""
    spec: Spec
    program: Path
    vmm: Path | None
    label: str

    def argv(self):
        """The command line, with the paths it sees inside the sandbox."""
        program = f"{PROGRAMS_INSIDE}/{self.spec.program}"
        if self.vmm is None:
            return ["strace", *strace.OPTIONS, "-o", f"{OUT}/strace.log", program,
                    *self.spec.args]
        trace = ["--trace", f"{OUT}/trace"] if self.spec.trace_to == "file" else []
        return [VMM_INSIDE, "--boot", BOOT_INSIDE, "--workdir", WORK, *trace,
                "--timeout", str(VMM_TIMEOUT), "--max-exits", str(VMM_MAX_EXITS), program,
                *self.spec.args]


@dataclass
class Run:
    runner: str  # who ran it, for messages: "your VMM", "the reference VMM", ...
    trace: list
    stdout: bytes
    stdout_size: int
    stderr: str
    status: int | None  # None: stopped by a limit (time, output)
    timed_out: bool
    seconds: float
    files: dict = field(default_factory=dict)  # {relative path: FileInfo}
    trace_truncated: bool = False
    flooded: bool = False  # killed for writing more than RUN_LIMITS.output bytes
    behaviour: Behaviour = field(default_factory=Behaviour)
    too_many_processes: bool = False  # stopped at RUN_LIMITS.processes processes
    note: str = ""  # where it ran, when not where the others ran (grader/machines/kvm.py)

    @property
    def signal(self):
        from grader.sandbox import killing_signal
        return killing_signal(self.status)

    def to_json(self):
        data = asdict(self)
        data["stdout"] = base64.b64encode(self.stdout).decode()
        data["files"] = {name: info.to_json() for name, info in self.files.items()}
        data["behaviour"] = self.behaviour.to_json()
        return data

    @classmethod
    def from_json(cls, data):
        data = dict(data)
        data["stdout"] = base64.b64decode(data["stdout"])
        data["files"] = {name: FileInfo.from_json(info) for name, info in data["files"].items()}
        data["behaviour"] = Behaviour.from_json(data["behaviour"])
        return cls(**data)


def _lines(data, size):
    return data.decode(errors="replace").splitlines(), size > len(data)


def run_of(request, outcome):
    """The Run a request's Outcome stands for."""
    spec = request.spec
    out = outcome.files.get(OUT, {})
    if request.vmm is None:
        log = out.get("strace.log")
        text = log.data.decode(errors="replace") if log else ""
        trace = strace.trace_lines(text, strace.program_segments(request.program))
        truncated = bool(log and log.size > len(log.data))
        stdout, stdout_size = outcome.stdout, outcome.stdout_size
    elif spec.trace_to == "stdout":
        trace, truncated = _lines(outcome.stdout, outcome.stdout_size)
        stdout, stdout_size = b"", 0
    else:
        log = out.get("trace")
        trace, truncated = _lines(log.data, log.size) if log else ([], False)
        stdout, stdout_size = outcome.stdout, outcome.stdout_size
    return Run(runner=request.label, trace=trace,
               stdout=stdout, stdout_size=stdout_size,
               stderr=outcome.stderr.decode(errors="replace"), status=outcome.status,
               timed_out=outcome.timed_out, seconds=round(outcome.seconds, 4),
               files=outcome.files.get(WORK, {}), trace_truncated=truncated,
               flooded=outcome.flooded, behaviour=outcome.behaviour,
               too_many_processes=outcome.too_many_processes)
