"""Under root, the command runs as a uid of its own.

Root's processes are exempt from RLIMIT_NPROC, and root may read anything: so
a grader running as root (in a container, on Gradescope) drops what a
submission brings to an unprivileged uid. Each grading process claims one uid
for its whole life (a lock file held open), so that two submissions graded
side by side never share a uid, and one's processes count apart from the
other's.
"""
import fcntl
import os
import stat
import tempfile
from pathlib import Path

FIRST_UID = 200_000
UIDS = 10_000
LOCKS = Path(tempfile.gettempdir()) / "scratchvm-grader-uids"
DEVICES = Path(__file__).resolve().parents[2] / "build" / "grader" / "devices"

_claimed = {}  # this process's uid, and its lock file kept open


def claim():
    """(uid, gid) of this process's own unprivileged user."""
    if "user" not in _claimed:
        LOCKS.mkdir(mode=0o700, exist_ok=True)
        for uid in range(FIRST_UID, FIRST_UID + UIDS):
            lock = open(LOCKS / str(uid), "w")
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.close()
                continue
            _claimed.update(user=(uid, uid), lock=lock)
            break
        else:
            raise RuntimeError(f"no free uid between {FIRST_UID} and {FIRST_UID + UIDS}")
    return _claimed["user"]


def kvm_device(user):
    """A /dev/kvm node that `user` may open, to bind into its sandbox (the
    machine's own /dev/kvm may be root's only), or None without /dev/kvm. It
    lives in the kit's build directory, on a file system that allows devices."""
    try:
        device = os.stat("/dev/kvm")
    except OSError:
        return None
    DEVICES.mkdir(parents=True, exist_ok=True)
    node = DEVICES / f"kvm-{user[0]}"
    try:
        if node.exists():
            node.unlink()
        os.mknod(node, stat.S_IFCHR | 0o600, device.st_rdev)
        os.chown(node, *user)
    except OSError:
        return None
    return node


def mechanisms(kind, user):
    """How each limit holds here, in words, for the reports."""
    if user:
        processes = f"RLIMIT_NPROC under uid {user[0]}, its own"
    elif kind == "bwrap":
        processes = "RLIMIT_NPROC in a user namespace of its own"
    else:
        processes = "RLIMIT_NPROC, shared with the grader's own uid (no sandbox)"
    disk = ("a size-limited tmpfs for each directory it writes" if kind == "bwrap"
            else "a size limit on each file, but none on their total (no sandbox)")
    return [f"processes: {processes}", f"disk: {disk}"]
