"""The bubblewrap command line around the runner (see the package's docstring).

As root, bubblewrap itself runs privileged, without a user namespace, and the
runner (PID 1 of the sandbox) drops the command to a uid of its own; the few
capabilities the runner needs for that are kept, and nothing else. Not as root,
bubblewrap makes a user namespace in which the runner and the command are
uid 1000.
"""
import functools
import os
import subprocess
from pathlib import Path, PurePosixPath

SANDBOX_UID = 1000  # not as root: the uid inside the sandbox's user namespace
# What the runner needs as root: drop the command to its uid (SETUID, SETGID),
# give it its directories (CHOWN, FOWNER), stop it (KILL), read its calls'
# arguments (SYS_PTRACE) and the files it leaves, whatever their modes
# (DAC_OVERRIDE). The command itself has none of them.
RUNNER_CAPABILITIES = ["CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_FOWNER", "CAP_KILL",
                       "CAP_SYS_PTRACE", "CAP_DAC_OVERRIDE"]
# How the VMM knows it runs on PVM (vm_manager/ring_mode.cpp).
PVM_MODULE = "/sys/module/kvm_pvm"


@functools.cache
def _features():
    return subprocess.run(["bwrap", "--help"], capture_output=True, text=True).stdout


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


def _parent_directories(destinations):
    """--dir for every directory above the destinations, readable by all: as
    root, bubblewrap would make them mode 0700."""
    made = {"/", "/usr", "/dev", "/proc", "/tmp"}
    args = []
    for destination in destinations:
        for parent in reversed(PurePosixPath(destination).parents):
            if str(parent) not in made:
                made.add(str(parent))
                args += ["--perms", "0755", "--dir", str(parent)]
    return args


def command(mounts, scratch, limits, *, root, kvm_device, runner, runner_inside):
    """bwrap's argv, up to the runner's path inside (the caller adds it and its options)."""
    args = ["bwrap", "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net",
            "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--as-pid-1", "--clearenv"]
    if root:
        for capability in RUNNER_CAPABILITIES:
            args += ["--cap-add", capability]
    else:
        args += ["--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
        if "--disable-userns" in _features():
            args.append("--disable-userns")
    args += _system_mounts()
    args += ["--proc", "/proc", "--dev", "/dev"]
    if root:
        if kvm_device is not None:
            args += ["--dev-bind", str(kvm_device), "/dev/kvm"]
    else:
        args += ["--dev-bind-try", "/dev/kvm", "/dev/kvm"]
    destinations = [m.inside for m in mounts] + list(scratch) + [runner_inside, PVM_MODULE]
    args += _parent_directories(destinations)
    args += ["--ro-bind-try", PVM_MODULE, PVM_MODULE]
    for directory in ["/tmp", *scratch]:
        args += ["--size", str(limits.scratch), "--perms", "01777" if directory == "/tmp" else
                 "0755", "--tmpfs", directory]
    for mount in mounts:
        args += ["--bind" if mount.writable else "--ro-bind", str(mount.host), mount.inside]
    args += ["--ro-bind", str(runner), runner_inside, "--chdir", "/", "--remount-ro", "/"]
    return args
