"""Running a program three ways, all giving the same kind of result (a Run):
its trace lines, the files it left in its working directory, its standard
output and its exit status.

- in the student's VMM;
- in the reference VMM (the ground truth when the kit has the reference);
- natively under strace (the ground truth in a handout, which has no
  reference: strace's calls are turned into the trace lines a VMM prints).

The rest of the grader never needs to know which way a Run was made.
"""
import base64
import os
import shlex
import shutil
import stat
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from grader.judge import strace
from grader.sandbox import Limits, Mount, killing_signal

VMM_TIMEOUT = 2  # seconds: the VMM's --timeout, for a guest that never exits
VMM_MAX_EXITS = 2000  # the VMM's --max-exits, for a guest that never stops calling
# The grader's own limit: it also stops a VMM that hangs outside the guest.
RUN_LIMITS = Limits(seconds=VMM_TIMEOUT + 3, file_size=64 << 20, memory=2048 << 20,
                    capture=1 << 20, output=16 << 20)
FILE_CAPTURE = 1 << 20  # bytes of each file kept for comparison and messages
MAX_FILES = 200


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


@dataclass
class FileInfo:
    kind: str  # "file", "dir", "symlink" or "other"
    mode: int
    size: int
    data: bytes = b""  # the first FILE_CAPTURE bytes of a file

    def to_json(self):
        return {**asdict(self), "data": base64.b64encode(self.data).decode()}


@dataclass
class Run:
    runner: str  # who ran it, for messages: "your VMM", "the reference VMM", ...
    command: str
    trace: list
    stdout: bytes
    stdout_size: int
    stderr: str
    status: int | None  # None: killed by the grader at the time limit
    timed_out: bool
    seconds: float
    files: dict = field(default_factory=dict)  # {relative path: FileInfo}
    trace_truncated: bool = False
    flooded: bool = False  # killed for writing more than RUN_LIMITS.output bytes

    @property
    def signal(self):
        return killing_signal(self.status)

    def to_json(self):
        data = asdict(self)
        data["stdout"] = base64.b64encode(self.stdout).decode()
        data["files"] = {name: info.to_json() for name, info in self.files.items()}
        return data

    @classmethod
    def from_json(cls, data):
        data = dict(data)
        data["stdout"] = base64.b64decode(data["stdout"])
        data["files"] = {name: FileInfo(**{**info, "data": base64.b64decode(info["data"])})
                         for name, info in data["files"].items()}
        return cls(**data)


def _read_head(path, limit):
    try:
        with open(path, "rb") as file:
            return file.read(limit), os.fstat(file.fileno()).st_size
    except OSError:
        return b"", 0


def collect_files(directory):
    """{relative path: FileInfo} of what a run left in its working directory."""
    found = {}
    for root, dirs, files in os.walk(directory):
        for name in sorted(dirs) + sorted(files):
            path = Path(root) / name
            relative = str(path.relative_to(directory))
            info = path.lstat()
            if stat.S_ISREG(info.st_mode):
                data, _ = _read_head(path, FILE_CAPTURE)
                found[relative] = FileInfo("file", stat.S_IMODE(info.st_mode), info.st_size, data)
            elif stat.S_ISDIR(info.st_mode):
                found[relative] = FileInfo("dir", stat.S_IMODE(info.st_mode), 0)
            elif stat.S_ISLNK(info.st_mode):
                found[relative] = FileInfo("symlink", 0, 0, os.readlink(path).encode())
            else:
                found[relative] = FileInfo("other", stat.S_IMODE(info.st_mode), 0)
            if len(found) >= MAX_FILES:
                return found
        dirs[:] = [d for d in dirs if not (Path(root) / d).is_symlink()]
    return found


def _remove(path):
    """Removes a run's scratch directory, whatever modes the run left in it."""
    def writable(function, failed, _):
        os.chmod(os.path.dirname(failed), 0o700)
        if os.path.isdir(failed) and not os.path.islink(failed):
            os.chmod(failed, 0o700)
        function(failed)
    shutil.rmtree(path, onerror=writable)


class _Runner:
    label = ""

    def __init__(self, sandbox):
        self.sandbox = sandbox

    def command(self, spec):
        raise NotImplementedError

    def mounts(self):
        return []

    def run(self, spec, program, scratch):
        """Runs `spec` (the binary `program`) in a fresh directory under `scratch`."""
        Path(scratch).mkdir(parents=True, exist_ok=True)
        base = Path(tempfile.mkdtemp(prefix=spec.key[:40] + ".", dir=scratch))
        try:
            (base / "work").mkdir()
            (base / "out").mkdir()
            os.chmod(base / "work", 0o777)  # the sandbox's uid writes there
            os.chmod(base / "out", 0o777)
            mounts = [*self.mounts(), Mount(Path(program), f"/run/prog/{spec.program}"),
                      Mount(base / "work", "/run/work", writable=True),
                      Mount(base / "out", "/run/out", writable=True)]
            argv = self.command(spec)
            outcome = self.sandbox.run(argv, mounts=mounts, cwd="/run/work", limits=RUN_LIMITS)
            trace, truncated = self.trace(spec, outcome, base / "out")
            trace_on_stdout = spec.trace_to == "stdout" and self.prints_trace
            return Run(runner=self.label, command=shlex.join(argv), trace=trace,
                       stdout=b"" if trace_on_stdout else outcome.stdout,
                       stdout_size=0 if trace_on_stdout else outcome.stdout_size,
                       stderr=outcome.stderr.decode(errors="replace"), status=outcome.status,
                       timed_out=outcome.timed_out, seconds=round(outcome.seconds, 4),
                       files=collect_files(base / "work"), trace_truncated=truncated,
                       flooded=outcome.flooded)
        finally:
            _remove(base)

    @staticmethod
    def _lines(data, size):
        return data.decode(errors="replace").splitlines(), size > len(data)


class VmmRunner(_Runner):
    """A vm_manager (the student's or the reference), with the batch's boot.bin."""
    prints_trace = True

    def __init__(self, binary, snapshot, sandbox, label):
        super().__init__(sandbox)
        self.binary, self.snapshot, self.label = Path(binary), snapshot, label

    def mounts(self):
        return [Mount(self.binary, "/run/vmm/vm_manager"), Mount(self.snapshot.boot, "/kit/boot.bin")]

    def command(self, spec):
        trace = ["--trace", "/run/out/trace"] if spec.trace_to == "file" else []
        return ["/run/vmm/vm_manager", "--boot", "/kit/boot.bin", "--workdir", "/run/work",
                *trace, "--timeout", str(VMM_TIMEOUT), "--max-exits", str(VMM_MAX_EXITS),
                f"/run/prog/{spec.program}", *spec.args]

    def trace(self, spec, outcome, out):
        if spec.trace_to == "stdout":
            return self._lines(outcome.stdout, outcome.stdout_size)
        return self._lines(*_read_head(out / "trace", RUN_LIMITS.capture))


class NativeRunner(_Runner):
    """The program itself on Linux, under strace: what the kernel says it calls."""
    label = "the program run natively (strace)"
    prints_trace = False

    def command(self, spec):
        return ["strace", *strace.OPTIONS, "-o", "/run/out/strace.log",
                f"/run/prog/{spec.program}", *spec.args]

    def trace(self, spec, outcome, out):
        log, size = _read_head(out / "strace.log", RUN_LIMITS.capture)
        return strace.trace_lines(log.decode(errors="replace")), size > len(log)
