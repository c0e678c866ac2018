"""Gradescope's container, made here from real parts: a Debian root file system
made by debootstrap, the autograder zip unpacked into it and its setup.sh run
(the image), then one container per submission on top of that image.

- rootfs(): `debootstrap --variant=minbase` of Debian's archive, made once and
  kept under build/gradescope-test/rootfs/, by suite and architecture. It is
  made in a directory of its own and renamed into place only once whole, so a
  partial one is never taken for a whole one.
- image(): the zip unpacked into /autograder/source of a fresh layer over that
  root, Gradescope's copy of run_autograder to /autograder/run_autograder, and
  setup.sh run as root with the network. Kept by the SHA-256 of the zip and the
  root's identity, renamed into place only once setup.sh succeeded; any other
  image is removed then.
- run(): a command in a container (container.sh: Docker's namespaces, masked
  /proc, default capabilities, no /dev/kvm) over layers, in a cgroup capping
  its memory at 768 MiB and its CPUs at one (Limits).
"""
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONTAINER_SH = HERE / "container.sh"
SUITE, ARCH, VARIANT = "bookworm", "amd64", "minbase"
MIRROR = "http://deb.debian.org/debian"
MEMORY = 768 << 20  # bytes: Gradescope's smallest container
CGROUPS = Path("/sys/fs/cgroup")
SETUP_SECONDS = 1800  # setup.sh: apt-get and the kit's build, on one CPU
DEBOOTSTRAP_SECONDS = 1800


class ContainerError(Exception):
    """The container could not be made; the message says why."""


@contextmanager
def locked(path):
    """One make test-gradescope at a time on a build directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def remove(path):
    """Removes a directory tree if it is there (as root: whatever its modes)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


# --- the cgroup: Gradescope's memory and CPU ---------------------------------------


def _own(controller):
    """This process's path in a cgroup v1 hierarchy ("" for cgroup v2)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
    return None


class Limits:
    """The container's memory and CPU, held by cgroups where this machine lets
    root make them (cgroup v1's memory and cpuset hierarchies, or cgroup v2's),
    else by taskset for the CPU and nothing for the memory; `mechanisms` says
    which held, in words."""

    def __init__(self, name, cpu):
        self.cpu = cpu
        self.memory_group = self.cpuset_group = None
        self.mechanisms = []
        self._make(f"scratchvm-gradescope-test-{os.getpid()}-{name}")

    def _make(self, name):
        memory_path, cpuset_path = _own("memory"), _own("cpuset")
        if memory_path is not None and (CGROUPS / "memory").is_dir():
            group = CGROUPS / "memory" / memory_path.lstrip("/") / name
            try:
                group.mkdir()
                (group / "memory.limit_in_bytes").write_text(str(MEMORY))
                self.memory_group = group
                self.mechanisms.append(f"memory: {MEMORY >> 20} MiB, cgroup v1 ({group})")
            except OSError:
                _rmdir(group)
        if cpuset_path is not None and (CGROUPS / "cpuset").is_dir():
            group = CGROUPS / "cpuset" / cpuset_path.lstrip("/") / name
            try:
                group.mkdir()
                mems = (group.parent / "cpuset.mems").read_text().strip()
                (group / "cpuset.cpus").write_text(str(self.cpu))
                (group / "cpuset.mems").write_text(mems)
                self.cpuset_group = group
                self.mechanisms.append(f"CPU: number {self.cpu} only, cgroup v1 cpuset")
            except OSError:
                _rmdir(group)
        if self.memory_group is None or self.cpuset_group is None:
            self._make_v2(name)
        if self.memory_group is None:
            self.mechanisms.append("memory: NOT capped (no memory cgroup can be made here)")
        if self.cpuset_group is None:
            self.mechanisms.append(f"CPU: number {self.cpu} only, by taskset (no cpuset "
                                   "cgroup can be made here)")

    def _make_v2(self, name):
        own = _own("")
        if own is None or not (CGROUPS / "cgroup.controllers").exists():
            return
        group = CGROUPS / own.lstrip("/") / name
        try:
            enabled = (group.parent / "cgroup.subtree_control").read_text().split()
            wanted = [c for c in ("memory", "cpuset") if c not in enabled]
            if wanted:
                (group.parent / "cgroup.subtree_control").write_text(
                    " ".join("+" + c for c in wanted))
            group.mkdir()
            if self.memory_group is None:
                (group / "memory.max").write_text(str(MEMORY))
                self.memory_group = group
                self.mechanisms.append(f"memory: {MEMORY >> 20} MiB, cgroup v2 ({group})")
            if self.cpuset_group is None:
                (group / "cpuset.cpus").write_text(str(self.cpu))
                self.cpuset_group = group
                self.mechanisms.append(f"CPU: number {self.cpu} only, cgroup v2 cpuset")
        except OSError:
            _rmdir(group)

    def groups(self):
        return list(dict.fromkeys(g for g in (self.memory_group, self.cpuset_group) if g))

    def join(self):
        """In the child, before it becomes the container: into the groups, on the CPU."""
        for group in self.groups():
            (group / "cgroup.procs").write_text(str(os.getpid()))
        os.sched_setaffinity(0, {self.cpu})

    def report(self):
        """What the memory cgroup saw: peak bytes, processes killed for memory,
        processes still in it."""
        data = {"mechanisms": self.mechanisms, "peak": None, "oom_kills": None, "left": []}
        group = self.memory_group
        if group is None:
            return data
        for name in ("memory.max_usage_in_bytes", "memory.peak"):
            if (group / name).exists():
                data["peak"] = int((group / name).read_text())
        for name in ("memory.oom_control", "memory.events"):
            if (group / name).exists():
                fields = dict(line.split() for line in (group / name).read_text().splitlines())
                data["oom_kills"] = int(fields.get("oom_kill", 0))
        data["left"] = (group / "cgroup.procs").read_text().split()
        return data

    def remove(self):
        for group in self.groups():
            _rmdir(group)


def _rmdir(group):
    for _ in range(50):  # a group empties a moment after its last process exits
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)


def container_cpu():
    """The CPU the containers get: the last this process may use."""
    return max(os.sched_getaffinity(0))


# --- running a container ------------------------------------------------------------


@dataclass
class Ran:
    status: int
    seconds: float
    log: str
    limits: dict = field(default_factory=dict)


def run(lowers, scratch, command, *, name, network=False, timeout):
    """Runs `command` (argv, inside) as PID 1 of a container whose root is the
    read-only `lowers` (the first on top) under a fresh writable layer
    scratch/upper (kept afterwards: the container's changes), in the limits.
    Its output goes to scratch/container.log."""
    upper, work, root = scratch / "upper", scratch / "work", scratch / "root"
    for directory in (upper, work, root):
        directory.mkdir(parents=True, exist_ok=True)
    argv = [str(CONTAINER_SH), *(["--network"] if network else [])]
    for lower in lowers:
        argv += ["--lower", str(lower)]
    argv += ["--upper", str(upper), "--work", str(work), "--root", str(root), "--", *command]
    limits = Limits(name, container_cpu())
    started = time.monotonic()
    try:
        with open(scratch / "container.log", "wb") as log:
            try:
                status = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, timeout=timeout,
                                        preexec_fn=limits.join).returncode
            except subprocess.TimeoutExpired:
                status = None
        seconds = time.monotonic() - started
        report = limits.report()
    finally:
        limits.remove()
    remove(work)
    text = (scratch / "container.log").read_text(errors="replace")
    if status is None:
        raise ContainerError(f"the container '{name}' did not finish within {timeout} s; its "
                             f"output ends:\n{text[-3000:]}")
    return Ran(status, seconds, text, report)


# --- the root file system -----------------------------------------------------------


def rootfs(build):
    """The debootstrap'd root, made once: (its directory, its identity)."""
    base = build / "rootfs"
    final = base / f"{SUITE}-{ARCH}-{VARIANT}"
    if (final / "made.json").exists():
        return final / "root", (final / "made.json").read_text()
    if shutil.which("debootstrap") is None:
        raise ContainerError("debootstrap is not installed (make test-gradescope installs it: "
                             "apt-get install debootstrap)")
    partial = base / f"{final.name}.partial"
    remove(partial)
    partial.mkdir(parents=True)
    started = time.monotonic()
    with open(partial / "debootstrap.log", "wb") as log:
        made = subprocess.run(["debootstrap", f"--variant={VARIANT}", f"--arch={ARCH}", SUITE,
                               str(partial / "root"), MIRROR], stdin=subprocess.DEVNULL,
                              stdout=log, stderr=subprocess.STDOUT, timeout=DEBOOTSTRAP_SECONDS)
    if made.returncode != 0:
        said = (partial / "debootstrap.log").read_text(errors="replace").strip().splitlines()
        raise ContainerError(
            f"debootstrap could not make a {SUITE} {ARCH} root from {MIRROR} (status "
            f"{made.returncode}): is the Debian archive reachable from this machine? Its last "
            "lines:\n" + "\n".join(said[-8:]) + f"\n(whole log: {partial / 'debootstrap.log'})")
    packages = subprocess.run(["chroot", str(partial / "root"), "dpkg-query", "-W"],
                              capture_output=True, text=True, check=True).stdout
    identity = json.dumps({"suite": SUITE, "arch": ARCH, "variant": VARIANT, "mirror": MIRROR,
                           "made": time.time(), "seconds": round(time.monotonic() - started, 1),
                           "packages": hashlib.sha256(packages.encode()).hexdigest()}, indent=1)
    (partial / "made.json").write_text(identity + "\n")
    os.rename(partial, final)
    return final / "root", (final / "made.json").read_text()


# --- the image: setup.sh's work -----------------------------------------------------


def unpack(zip_path, destination):
    """Unpacks the zip as unzip does, with each file's mode from the zip."""
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            path = archive.extract(info, destination)
            mode = info.external_attr >> 16 & 0o7777
            if mode and not info.is_dir():
                os.chmod(path, mode)


@dataclass
class Image:
    layers: list  # read-only layers, the top first
    key: str
    setup_seconds: float | None  # None: taken from the cache
    setup_log: str


def image_key(root_identity, zip_path):
    """What an image is made of: the zip, the root, and how it is made and run."""
    digest = hashlib.sha256(Path(zip_path).read_bytes())
    digest.update(root_identity.encode())
    for made_by in (CONTAINER_SH, Path(__file__)):
        digest.update(made_by.read_bytes())
    return digest.hexdigest()[:24]


def image_made(build, root_identity, zip_path):
    """Whether this zip's image on this root was made already."""
    return (build / "images" / image_key(root_identity, zip_path) / "made.json").exists()


def image(build, root, root_identity, zip_path):
    """The autograder's image: the root with setup.sh's work on top."""
    key = image_key(root_identity, zip_path)
    images = build / "images"
    final = images / key
    if (final / "made.json").exists():
        return Image([final / "upper", root], key, None, (final / "setup.log").read_text())
    partial = images / f"{key}.partial"
    remove(partial)
    source = partial / "upper" / "autograder" / "source"
    source.mkdir(parents=True)
    unpack(zip_path, source)
    # Gradescope's own step: run_autograder is run from /autograder.
    shutil.copy2(source / "run_autograder", partial / "upper" / "autograder" / "run_autograder")
    ran = run([root], partial, ["/bin/bash", "-c", "cd /autograder/source && bash ./setup.sh"],
              name="setup", network=True, timeout=SETUP_SECONDS)
    (partial / "setup.log").write_text(ran.log)
    if ran.status != 0:
        raise ContainerError(f"setup.sh failed in the container (status {ran.status}); its "
                             f"output ends:\n{ran.log[-3000:]}\n(whole log: "
                             f"{partial / 'setup.log'})")
    made = {"zip": str(zip_path), "key": key, "setup_seconds": round(ran.seconds, 1),
            "limits": ran.limits}
    (partial / "made.json").write_text(json.dumps(made, indent=1) + "\n")
    remove(partial / "root")
    os.rename(partial, final)
    for other in images.iterdir():  # older zips' images: never used again
        if other != final:
            remove(other)
    return Image([final / "upper", root], key, ran.seconds, ran.log)
