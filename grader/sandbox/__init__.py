"""Running code we do not trust: a student's compiler run, a student's VMM, a
program under test.

Each command runs in a bubblewrap sandbox: no network, no other processes in
sight, a read-only view of the system (/usr and the few files the dynamic
loader needs), only the files it is given (`mounts`, read-only unless said
otherwise), a private /tmp, and no device but /dev/kvm and the harmless ones
(null, zero, random, ...). It runs under a uid of its own inside the sandbox,
so it owns none of the grader's files, and cannot start user namespaces.

Every command has a time limit (it is killed, with everything it started, when
the limit is reached), a limit on the size of any file it writes (RLIMIT_FSIZE),
a memory limit, and no core dumps. Its standard output and error go through
pipes: only their first `capture` bytes are kept, and a command that writes
more than `output` bytes in all is killed as a flood.
"""
import functools
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SANDBOX_UID = 1000  # the uid the command runs under, inside the sandbox
MiB = 1 << 20


@dataclass(frozen=True)
class Mount:
    host: Path
    inside: str
    writable: bool = False


HARD_FILE_SIZE = 1024 * MiB


@dataclass(frozen=True)
class Limits:
    seconds: float
    file_size: int = 64 * MiB  # RLIMIT_FSIZE: the most any file may grow to
    memory: int = 4096 * MiB  # RLIMIT_AS
    capture: int = 256 * 1024  # how much of standard output and error is kept
    output: int = 16 * MiB  # standard output and error together: more is a flood
    tmp_size: int = 64 * MiB  # the private /tmp


@dataclass
class Outcome:
    status: int | None  # 0-255 as a shell reports it: 128+N when killed by signal N
    timed_out: bool  # killed by the grader at the time limit (status is None)
    stdout: bytes
    stdout_size: int  # bytes written in all (only the first `capture` are kept)
    stderr: bytes
    stderr_size: int
    seconds: float
    flooded: bool = False  # killed by the grader for writing more than `output` bytes

    @property
    def signal(self):
        return killing_signal(self.status)


def killing_signal(status):
    """The signal that killed a command, from its exit status as a shell reports
    it (128 + the signal), or None."""
    if status is not None and 128 < status < 160:
        return status - 128
    return None


class SandboxError(Exception):
    """The sandbox itself could not start: the grader's problem, not the student's."""


class Sandbox:
    """kind "bwrap": the sandbox above. kind "none": the command runs as the
    grader itself, with the same limits; only for machines where bubblewrap
    cannot work (some containers), where the machine is the sandbox."""

    def __init__(self, kind):
        if kind not in ("bwrap", "none"):
            raise ValueError(kind)
        self.kind = kind

    def run(self, argv, *, mounts, cwd, limits):
        """Runs argv (paths as seen inside the sandbox) and returns its Outcome."""
        mounts = [Mount(Path(m.host).resolve(), m.inside, m.writable) for m in mounts]
        if self.kind == "bwrap":
            command = _bwrap_command(argv, mounts, cwd, limits)
            host_cwd = "/"
        else:
            command = [_outside(a, mounts) for a in argv]
            host_cwd = _outside(cwd, mounts)
        # The hard file-size limit leaves room for the VMM to set its own soft one
        # (vm_manager/confinement.cpp does).
        command = ["prlimit", f"--fsize={limits.file_size}:{HARD_FILE_SIZE}", "--core=0",
                   f"--as={limits.memory}", "--", *command]
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C", "HOME": "/tmp"}
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=host_cwd, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   start_new_session=True, umask=0o022)
        output = _Output(process, limits)
        timed_out = False
        try:
            process.wait(timeout=limits.seconds)
        except subprocess.TimeoutExpired:
            timed_out = not output.flooded.is_set()
        finally:
            _kill_group(process)  # also what it left running behind it
            output.join()
        seconds = time.monotonic() - started
        status = None if timed_out else process.returncode
        if status is not None and status < 0:
            status = 128 - status
        if output.flooded.is_set():
            status = None
        stdout, stderr = output.kept
        if self.kind == "bwrap" and status == 1 and stderr.startswith(b"bwrap: "):
            raise SandboxError("bubblewrap could not start the sandbox: "
                               + stderr.decode(errors="replace").strip())
        return Outcome(status, timed_out, bytes(stdout), output.sizes[0], bytes(stderr),
                       output.sizes[1], seconds, output.flooded.is_set())


class _Output:
    """Reads a process's standard output and error as it writes them, keeps the
    first `capture` bytes of each, and kills it once it has written more than
    `output` bytes in all."""

    def __init__(self, process, limits):
        self.kept, self.sizes = [bytearray(), bytearray()], [0, 0]
        self.flooded = threading.Event()
        self.threads = [threading.Thread(target=self._read, args=(process, pipe, i, limits),
                                         daemon=True)
                        for i, pipe in enumerate((process.stdout, process.stderr))]
        for thread in self.threads:
            thread.start()

    def _read(self, process, pipe, index, limits):
        while chunk := pipe.read1(1 << 16):
            room = limits.capture - len(self.kept[index])
            if room > 0:
                self.kept[index].extend(chunk[:room])
            self.sizes[index] += len(chunk)
            if sum(self.sizes) > limits.output and not self.flooded.is_set():
                self.flooded.set()
                _kill_group(process, wait=False)
        pipe.close()

    def join(self):
        for thread in self.threads:  # a process out of reach may still hold a pipe
            thread.join(timeout=5)


def _kill_group(process, wait=True):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if wait:
        process.wait()


def _outside(argument, mounts):
    """Without a sandbox, a path inside it is the host path it is mounted from
    (also in a compiler's -IDIR)."""
    option = "-I" if argument.startswith("-I/") else ""
    path = argument[len(option):]
    for mount in sorted(mounts, key=lambda m: -len(m.inside)):
        if path == mount.inside or path.startswith(mount.inside + "/"):
            return option + str(mount.host) + path[len(mount.inside):]
    return argument


def _system_mounts():
    """/usr read-only, and the merged-/usr symlinks (or directories) beside it."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for path in ("/etc/ld.so.cache", "/etc/alternatives"):
        args += ["--ro-bind-try", path, path]
    return args


@functools.cache
def _bwrap_features():
    help_text = subprocess.run(["bwrap", "--help"], capture_output=True, text=True).stdout
    return help_text


def _bwrap_command(argv, mounts, cwd, limits):
    args = ["bwrap", "--unshare-all", "--unshare-user", "--uid", str(SANDBOX_UID),
            "--gid", str(SANDBOX_UID), "--die-with-parent", "--new-session",
            "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "LC_ALL", "C",
            "--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp"]
    if "--disable-userns" in _bwrap_features():
        args.append("--disable-userns")
    args += _system_mounts()
    args += ["--dev", "/dev", "--dev-bind-try", "/dev/kvm", "/dev/kvm", "--proc", "/proc",
             # how the VMM knows it runs on PVM (vm_manager/ring_mode.cpp)
             "--ro-bind-try", "/sys/module/kvm_pvm", "/sys/module/kvm_pvm"]
    if "--size" in _bwrap_features():
        args += ["--size", str(limits.tmp_size)]
    args += ["--tmpfs", "/tmp"]
    for mount in mounts:
        args += ["--bind" if mount.writable else "--ro-bind", str(mount.host), mount.inside]
    args += ["--chdir", cwd, "--remount-ro", "/dev", "--remount-ro", "/", "--", *argv]
    return args


@functools.cache
def bwrap_problem():
    """Why bubblewrap cannot run a sandbox here, or None when it can."""
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    if shutil.which("prlimit") is None:
        return "prlimit is not installed (apt-get install util-linux)"
    try:
        outcome = Sandbox("bwrap").run(["true"], mounts=[], cwd="/", limits=Limits(seconds=20))
    except SandboxError as error:
        return str(error)
    if outcome.status != 0:
        return ("bubblewrap could not run a command: "
                + outcome.stderr.decode(errors="replace").strip())
    return None


def choose(kind):
    """The sandbox to use. kind: "bwrap" (required), "none", or "auto" (bwrap if it
    works here, else none). Returns (Sandbox, note or None)."""
    if kind == "none":
        return Sandbox("none"), "runs are not sandboxed (sandbox: none)"
    problem = bwrap_problem()
    if problem is None:
        return Sandbox("bwrap"), None
    if kind == "bwrap":
        raise SandboxError(problem + ". To grade without a sandbox anyway, where the machine "
                           "itself is disposable, use SANDBOX=none.")
    return Sandbox("none"), f"runs are not sandboxed: {problem}"
