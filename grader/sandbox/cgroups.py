"""A control group per submission, where the machine gives us one.

The runner's limits hold everywhere (grader/sandbox/); a cgroup adds a ceiling
on a whole submission's grading, every process and every byte of memory of
every build and run together, and counts what it refused. `make grade` puts
each submission's grading process in a group of its own when it can create
one: cgroup v2 (where the grader's own group is delegated to it, with the pids
and memory controllers), or cgroup v1 (the pids and memory hierarchies,
writable by root). Where it cannot, nothing changes but the report, which says
which mechanisms held. GRADER_CGROUPS=0 turns them off (to test without).
"""
import os
import signal
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PROCESSES = 1024  # every process and thread of a submission's grading at once
MEMORY = 3 << 30  # bytes: a submission's grading, builds and runs together


def _own_paths():
    """{controller or "": this process's cgroup path} from /proc/self/cgroup."""
    paths = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


class Group:
    """One submission's cgroup: its directories (one per hierarchy), joined by
    writing a pid to their cgroup.procs."""

    def __init__(self, version, directories):
        self.version, self.directories = version, directories

    def wrap(self, argv):
        """argv, started in this group: a shell joins it, then becomes argv."""
        procs = ":".join(str(d / "cgroup.procs") for d in self.directories)
        return ["/bin/sh", "-c", 'IFS=:; for f in $1; do echo $$ > "$f" || exit 111; done; '
                'shift; exec "$@"', "sh", procs, *argv]

    def events(self):
        """What the group refused, in words."""
        out = []
        for directory in self.directories:
            for name, key, words in [("pids.events", "max", "forks refused at its limit of "
                                      f"{PROCESSES} processes"),
                                     ("memory.events", "oom_kill", "processes killed for memory"),
                                     ("memory.oom_control", "oom_kill", "processes killed for "
                                      "memory")]:
                try:
                    fields = dict(line.split() for line in (directory / name).read_text()
                                  .splitlines() if len(line.split()) == 2)
                except OSError:
                    continue
                if int(fields.get(key, 0)):
                    out.append(f"its cgroup: {fields[key]} {words}")
        return out

    def kill(self):
        """Kills every process left in the group (one that outlived its grading)."""
        for directory in self.directories:
            try:
                pids = (directory / "cgroup.procs").read_text().split()
            except OSError:
                continue
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    def remove(self):
        for directory in self.directories:
            try:
                directory.rmdir()
            except OSError:
                pass


def _v2(name):
    own = _own_paths().get("")
    if own is None or not (ROOT / "cgroup.controllers").exists():
        return None
    parent = ROOT / own.lstrip("/")
    try:
        # Fails (EBUSY) where the grader's group holds processes of its own and
        # is not the root: cgroup v2 lets only a group without processes hand
        # controllers to children. `systemd-run --scope -p Delegate=yes make
        # grade ...` gives the grader a group it may divide.
        enabled = (parent / "cgroup.subtree_control").read_text().split()
        if not {"pids", "memory"} <= set(enabled):
            (parent / "cgroup.subtree_control").write_text("+pids +memory")
        group = parent / name
        group.mkdir()
    except OSError:
        return None
    try:
        (group / "pids.max").write_text(str(PROCESSES))
        (group / "memory.max").write_text(str(MEMORY))
    except OSError:
        Group(2, [group]).remove()
        return None
    return Group(2, [group])


def _v1(name):
    own = _own_paths()
    directories = []
    try:
        for controller, settings in [("pids", {"pids.max": PROCESSES}),
                                     ("memory", {"memory.limit_in_bytes": MEMORY})]:
            if controller not in own or not (ROOT / controller).is_dir():
                raise OSError(f"no {controller} hierarchy")
            group = ROOT / controller / own[controller].lstrip("/") / name
            group.mkdir()
            directories.append(group)
            for setting, value in settings.items():
                (group / setting).write_text(str(value))
    except OSError:
        Group(1, directories).remove()
        return None
    return Group(1, directories)


def create(name):
    """A new cgroup for one submission, or None where none can be made."""
    if os.environ.get("GRADER_CGROUPS") == "0":
        return None
    name = f"scratchvm-{os.getpid()}-{name}"
    return _v2(name) or _v1(name)


def mechanism(group):
    """How the cgroup held, in words, for the reports."""
    if group is None:
        return None
    return (f"whole submission: cgroup v{group.version} ({PROCESSES} processes, "
            f"{MEMORY >> 30} GiB of memory)")

