"""Under root, each command runs as a uid of its own.

Root's processes are exempt from RLIMIT_NPROC, and root may read anything: so
a grader running as root (in a container, on Gradescope) drops what a
submission brings to an unprivileged uid. RLIMIT_NPROC counts a uid's
processes wherever they are, so two commands that run at once must not share
one: each grading process claims a block of uids for its whole life (a lock
file held open, so that two processes never share a block), and each command
leases one of them while it runs.
"""
import contextlib
import fcntl
import os
import stat
import threading
from pathlib import Path

from grader import BUILD

FIRST_UID = 200_000
BLOCK = 16  # commands a grading process runs at once, at most (its runs, side by side)
BLOCKS = 1_000
UIDS = BLOCK * BLOCKS  # the grader's uids: FIRST_UID and the UIDS - 1 after it
# Uids are the machine's, so their locks are too: in a fixed directory, never
# one that follows $TMPDIR (two graders with different TMPDIRs would share uids).
LOCKS = Path("/run/lock" if os.access("/run/lock", os.W_OK) else "/tmp") / "scratchvm-grader-uids"
DEVICES = BUILD / "grader" / "devices"


class Users:
    """This process's block of unprivileged uids (a uid is its own gid too)."""

    def __init__(self, first, lock):
        self.first, self._lock_file = first, lock
        self._free = list(range(first, first + BLOCK))
        self._guard = threading.Condition()
        self._devices = {}

    @contextlib.contextmanager
    def lease(self):
        """A uid no other command of the block runs under, for one command."""
        with self._guard:
            self._guard.wait_for(lambda: self._free)
            uid = self._free.pop()
        try:
            yield uid
        finally:
            with self._guard:
                self._free.append(uid)
                self._guard.notify()

    def kvm_device(self, uid):
        """A /dev/kvm node that `uid` may open, to bind into its sandbox (the
        machine's own /dev/kvm may be root's only), or None without /dev/kvm.
        It lives in the kit's build directory, on a file system that allows
        devices; one per uid, made once."""
        if uid not in self._devices:
            self._devices[uid] = _make_kvm_node(uid)
        return self._devices[uid]


_claimed = {}


def _mapped(map_file, first, count):
    """Whether ids [first, first + count) all exist in this user namespace
    (/proc/self/uid_map: inside, outside, length)."""
    try:
        lines = Path(map_file).read_text().splitlines()
        ranges = [tuple(map(int, line.split())) for line in lines]
    except (OSError, ValueError):
        return False
    return any(inside <= first and first + count <= inside + length
               for inside, _, length in ranges)


def own():
    """This process's Users where it may become other users: as root, with the
    grader's uids there (a user namespace that maps root alone, as some
    container runners make, has none). Otherwise None: commands run as the
    grader's own uid."""
    if os.geteuid() != 0:
        return None
    if not all(_mapped(f"/proc/self/{ids}_map", FIRST_UID, UIDS) for ids in ("uid", "gid")):
        return None
    return claim()


def claim():
    """This process's Users, claimed once."""
    if "users" not in _claimed:
        LOCKS.mkdir(mode=0o700, exist_ok=True)
        for block in range(BLOCKS):
            lock = open(LOCKS / str(block), "w")
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.close()
                continue
            _claimed["users"] = Users(FIRST_UID + block * BLOCK, lock)
            break
        else:
            raise RuntimeError(f"every block of uids from {FIRST_UID} is in use")
    return _claimed["users"]


def _make_kvm_node(uid):
    try:
        device = os.stat("/dev/kvm")
    except OSError:
        return None
    DEVICES.mkdir(parents=True, exist_ok=True)
    node = DEVICES / f"kvm-{uid}"
    try:
        if node.exists():
            node.unlink()
        os.mknod(node, stat.S_IFCHR | 0o600, device.st_rdev)
        os.chown(node, uid, uid)
    except OSError:
        return None
    return node


def mechanisms(kind, users):
    """How each limit holds here, in words, for the reports."""
    if users:
        processes = f"RLIMIT_NPROC, each command under a uid of its own (from {users.first})"
    elif kind == "bwrap":
        processes = "RLIMIT_NPROC in a user namespace of its own"
    else:
        processes = "RLIMIT_NPROC, shared with the grader's own uid (no sandbox)"
    disk = ("a size-limited tmpfs for each directory it writes" if kind == "bwrap"
            else "a size limit on each file, but none on their total (no sandbox)")
    return [f"processes: {processes}", f"disk: {disk}"]
