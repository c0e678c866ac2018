"""Running code we do not trust: a student's compiler run, a student's VMM, a
program under test.

Two layers, each doing what it does best:

- **The runner** (runner/, a static C++ program) starts the command and
  watches it to the end: a wall-clock limit, limits on processes
  (RLIMIT_NPROC), memory (RLIMIT_AS) and file size, output captured and
  stopped past a cap, every process the command left behind killed, the files
  it left listed, and, on request, the calls no VMM needs (network sockets,
  signals to other processes, writes outside its directories) refused and
  reported. Its JSON report becomes an Outcome.
- **The sandbox around it**: a bubblewrap sandbox ("bwrap") where one can be
  made, with the runner as its PID 1: no network, no other process in sight, a
  read-only view of /usr and of the few files it is given, fresh size-limited
  tmpfs directories to write in (the disk quota), no device but /dev/kvm and
  the harmless ones. Where bubblewrap cannot start (inside most containers),
  "none": the runner alone.

Under root, each command runs as a uid of its own (users.py), so that
RLIMIT_NPROC counts its processes alone and nothing of root's is in its reach;
not as root, bubblewrap gives it a user namespace of its own, in which
RLIMIT_NPROC counts only its processes. The emulated machine (grader/machines/emulated.py)
runs the same runner with the same Limits, so a submission meets the same
limits everywhere.
"""
import functools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.sandbox import bwrap, report, users
from grader.sandbox.report import Behaviour, FileInfo, Outcome, killing_signal  # noqa: F401

KiB, MiB = 1 << 10, 1 << 20
RUNNER_INSIDE = "/run/grader/runner"  # where the runner is, inside a bubblewrap sandbox
# Hard file-size limit: room for a VMM to set its own soft limit below it.
HARD_FILE_SIZE = 1024 * MiB


@dataclass(frozen=True)
class Mount:
    host: Path
    inside: str
    writable: bool = False


@dataclass(frozen=True)
class Limits:
    seconds: float
    processes: int = 32  # processes and threads (RLIMIT_NPROC)
    memory: int = 1024 * MiB  # address space of each process (RLIMIT_AS)
    file_size: int = 64 * MiB  # the most any file may grow to (RLIMIT_FSIZE)
    capture: int = 256 * KiB  # how much of standard output and error is kept
    output: int = 16 * MiB  # standard output and error together: more is a flood
    scratch: int = 64 * MiB  # each directory it may write in, and /tmp: the disk quota
    file_capture: int = 64 * KiB  # of each file left behind, the first bytes kept
    max_files: int = 200  # files left behind that are listed


class SandboxError(Exception):
    """The sandbox itself could not run the command: the grader's problem, not
    the student's."""


@dataclass
class Sandbox:
    """kind "bwrap" or "none" (see the module's docstring). `runner` is the
    runner's binary; `users`, when the grader is root, the uids its commands
    run under (users.claim())."""
    kind: str
    runner: Path
    users: "users.Users | None" = None
    mechanisms: list = field(default_factory=list)  # which limits hold, in words

    def run(self, argv, *, mounts, cwd, limits, scratch=(), collect=(), watch=False):
        """Runs argv (paths as seen inside the sandbox) and returns its Outcome.

        scratch: directories (inside) the command gets fresh and empty, where it
        may write up to limits.scratch bytes in each; collect: directories
        (inside) whose files the Outcome lists; watch: refuse and report the
        calls no VMM needs (watch.hpp)."""
        if self.users is None:
            return self._run(argv, mounts, cwd, limits, scratch, collect, watch, None)
        with self.users.lease() as uid:
            return self._run(argv, mounts, cwd, limits, scratch, collect, watch, uid)

    def _run(self, argv, mounts, cwd, limits, scratch, collect, watch, uid):
        user = (uid, uid) if uid is not None else None
        mounts = [Mount(Path(m.host).resolve(), m.inside, m.writable) for m in mounts]
        writable = [*scratch, "/tmp", *(m.inside for m in mounts if m.writable)]
        temporary = []
        try:
            if self.kind == "bwrap":
                inside = {}  # the runner sees the same paths as the caller
                options = runner_options(limits, cwd, scratch=scratch, collect=collect,
                                         watch=watch, writable=writable, user=user)
                kvm = self.users.kvm_device(uid) if user else None
                command = [*bwrap.command(mounts, scratch, limits, root=user is not None,
                                          kvm_device=kvm, runner=self.runner,
                                          runner_inside=RUNNER_INSIDE),
                           RUNNER_INSIDE, *options, "--", *argv]
            else:
                # No namespaces: the scratch directories are host directories,
                # and every path inside is the host path it stands for.
                for directory in [*scratch, "/tmp"]:
                    host = Path(tempfile.mkdtemp(prefix="scratch."))
                    temporary.append(host)
                    if user:
                        os.chown(host, *user)
                    mounts.append(Mount(host, directory, True))
                outside = functools.partial(_outside, mounts=mounts)
                inside = {outside(m.inside): m.inside for m in mounts}
                options = runner_options(
                    limits, outside(cwd), collect=[outside(c) for c in collect], watch=watch,
                    writable=[outside(w) for w in writable], user=user)
                options += ["--env", "PATH=/usr/bin:/bin", "--env", "LC_ALL=C",
                            "--env", f"HOME={outside('/tmp')}", "--env", f"TMPDIR={outside('/tmp')}"]
                command = [str(self.runner), *options, "--", *map(outside, argv)]
            return self._start(command, limits, inside)
        finally:
            for host in temporary:
                remove_tree(host)

    def _start(self, command, limits, inside):
        """Runs the runner (in its sandbox) and reads its report."""
        try:
            # The runner enforces the limits; this only stops a runner that hangs.
            done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=limits.seconds + 60, start_new_session=True,
                                  env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"}, cwd="/")
        except subprocess.TimeoutExpired:
            raise SandboxError("the sandbox's runner did not come back") from None
        if done.returncode != 0:
            said = done.stderr.decode(errors="replace").strip()
            if said.startswith("bwrap:"):
                raise SandboxError("bubblewrap could not start the sandbox: " + said)
            raise SandboxError(f"the sandbox's runner failed (status {done.returncode}): "
                               + (said or "no message"))
        return report.outcome(done.stdout, inside)


def runner_options(limits, cwd, *, scratch=(), collect=(), watch=False, writable=(), user=None):
    """The runner's options for these limits (runner.cpp): the same wherever it
    runs, so that a submission meets the same limits everywhere."""
    options = ["--seconds", str(limits.seconds), "--capture", str(limits.capture),
               "--output", str(limits.output), "--processes", str(limits.processes),
               "--memory", str(limits.memory), "--file-size", str(limits.file_size),
               "--file-size-hard", str(max(limits.file_size, HARD_FILE_SIZE)),
               "--file-capture", str(limits.file_capture), "--max-files", str(limits.max_files),
               "--cwd", cwd]
    if user:
        options += ["--user", f"{user[0]}:{user[1]}"]
        options += [item for directory in scratch for item in ("--own", directory)]
    options += [item for directory in collect for item in ("--collect", directory)]
    if watch:
        options += ["--watch", *[item for w in writable for item in ("--writable", w)]]
    return options


def _outside(path, mounts):
    """Without a sandbox, a path inside it is the host path it is mounted from
    (also in a compiler's -IDIR)."""
    option = "-I" if path.startswith("-I/") else ""
    rest = path[len(option):]
    for mount in sorted(mounts, key=lambda m: -len(m.inside)):
        if rest == mount.inside or rest.startswith(mount.inside + "/"):
            return option + str(mount.host) + rest[len(mount.inside):]
    return path


def remove_tree(path):
    """Removes a scratch directory, whatever modes the command left in it."""
    def writable(function, failed, _):
        os.chmod(os.path.dirname(failed), 0o700)
        if os.path.isdir(failed) and not os.path.islink(failed):
            os.chmod(failed, 0o700)
        function(failed)
    shutil.rmtree(path, onerror=writable)


@functools.cache
def bwrap_problem(runner):
    """Why a bubblewrap sandbox cannot run here, or None when it can."""
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    probe = Sandbox("bwrap", Path(runner), users.own())
    try:
        outcome = probe.run(["/bin/true"], mounts=[], cwd="/", limits=Limits(seconds=20))
    except SandboxError as error:
        return str(error)
    if outcome.status != 0:
        return ("bubblewrap could not run a command: "
                + outcome.stderr.decode(errors="replace").strip())
    return None


def choose(kind, runner):
    """The sandbox to use. kind: "bwrap" (required), "none", or "auto" (bwrap if it
    works here, else none). Returns (Sandbox, note or None)."""
    runner = Path(runner)
    own_users = users.own()
    if kind == "none":
        sandbox = Sandbox("none", runner, own_users)
        note = "runs are not sandboxed (sandbox: none)"
    else:
        problem = bwrap_problem(runner)
        if problem is None:
            sandbox, note = Sandbox("bwrap", runner, own_users), None
        elif kind == "bwrap":
            raise SandboxError(problem + ". To grade without a sandbox anyway, where the machine "
                               "itself is disposable, use SANDBOX=none.")
        else:
            sandbox = Sandbox("none", runner, own_users)
            note = f"runs are not sandboxed: {problem}"
    sandbox.mechanisms = users.mechanisms(sandbox.kind, own_users)
    return sandbox, note
