"""Building a submission: the student's VMM with the kit's flags, and the
student's Step 3 program with musl-gcc -static, both in the sandbox.

The VMM is built exactly as the kit's Makefile builds build/lab2/vm_manager:

    g++ $(CXXFLAGS) -MF OUT.d -Ivm_manager -o OUT manager.cpp build/engine/libvmm.a $(VMM_LDFLAGS)

against the batch's snapshot of the engine. Two things make a batch fast
without changing what is built: a precompiled vm_manager/vmm.hpp (made once
per kit with the same flags; g++ uses it where manager.cpp includes vmm.hpp
first, as the skeleton does, and otherwise reads the header as usual), and a
cache of builds by the SHA-256 of manager.cpp and of the kit: identical files
are compiled once.
"""
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from grader.sandbox import Limits, Mount

BUILD_LIMITS = Limits(seconds=90, processes=32, memory=4096 << 20, file_size=256 << 20,
                      capture=64 << 10, scratch=256 << 20)
MUSL_FLAGS = ["-static", "-O2"]
MUSL_COMMAND = " ".join(["musl-gcc", *MUSL_FLAGS])  # as messages name it
# What a submission's sources may include: their own files, the engine's
# headers and the system's. Anything else (the reference's source, the
# answers, ...) fails the build, saying so.
INCLUDE_RULE = ("a submission may include only its own files, the engine's headers "
                "(vm_manager/*.hpp) and the system's headers")
_MISSING_INCLUDE = re.compile(r"fatal error: ([^:\n]*): (?:No such file or directory|Permission denied)")


@dataclass
class BuildResult:
    ok: bool
    binary: str | None  # host path of what was built
    log: str  # the compiler's messages
    status: int | None
    timed_out: bool
    seconds: float
    cached: bool = False
    problem: str = ""  # what is wrong beyond the compiler's messages (a forbidden include)


@contextmanager
def _locked(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _scratch(parent):
    Path(parent).mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=parent))
    # Under root, the sandbox's user must reach the files in it by name: without
    # a sandbox (SANDBOX=none, a Gradescope container) its paths are these.
    os.chmod(path, 0o711)
    return path


def precompiled_header(snapshot, sandbox, cache):
    """The directory holding vmm.hpp.gch for this kit, built once; None if g++
    cannot make one (builds then simply go without)."""
    directory = Path(cache).resolve() / "pch" / snapshot.fingerprint
    gch = directory / "vmm.hpp.gch"
    with _locked(directory.parent / (snapshot.fingerprint + ".lock")):
        if gch.exists():
            return directory
        if (directory / "failed").exists():
            return None
        out = _scratch(Path(cache) / "tmp")
        os.chmod(out, 0o777)  # the sandbox's user writes the header there
        try:
            # A one-line header that includes vmm.hpp, so that vmm.hpp's
            # `#pragma once` is not in the main file (a warning, so an error).
            (out / "pch.hpp").write_text('#include "vmm.hpp"\n')
            argv = ["g++", *snapshot.cxxflags, "-MF", "/out/pch.d", "-I/kit/vm_manager",
                    "-x", "c++-header", "-o", "/out/vmm.hpp.gch", "/out/pch.hpp"]
            outcome = sandbox.run(argv, cwd="/out", limits=BUILD_LIMITS, mounts=[
                Mount(snapshot.headers, "/kit/vm_manager"), Mount(out, "/out", writable=True)])
            directory.mkdir(parents=True, exist_ok=True)
            if outcome.status != 0:
                (directory / "failed").write_bytes(outcome.stderr)
                return None
            os.replace(out / "vmm.hpp.gch", gch)
            return directory
        finally:
            shutil.rmtree(out, ignore_errors=True)


def _cached(path):
    """A kept BuildResult, or None (none kept, or kept by another version)."""
    try:
        data = json.loads(path.read_text())
        result = BuildResult(**{f.name: data[f.name] for f in fields(BuildResult)})
    except (OSError, ValueError, KeyError):
        return None
    result.cached = True
    return result


def vmm(source, snapshot, sandbox, cache):
    """Builds a student's manager.cpp (bytes). Returns a BuildResult."""
    key = hashlib.sha256(snapshot.fingerprint.encode() + b"\0" + source).hexdigest()[:32]
    cache = Path(cache).resolve()
    entry = cache / "vmm" / key
    with _locked(Path(cache) / "vmm" / (key + ".lock")):
        result = _cached(entry / "result.json")
        if result is not None:
            return result
        result = _compile_vmm(source, snapshot, sandbox, cache, entry)
        # Kept: a build that worked, or that the compiler refused (status 1). Not
        # a timeout (a busy machine?) nor a compiler that could not start.
        if result.ok or (result.status == 1 and not result.timed_out):
            (entry / "result.json").write_text(json.dumps(asdict(result)))
        return result


def _compile_vmm(source, snapshot, sandbox, cache, entry):
    pch = precompiled_header(snapshot, sandbox, cache)
    work = _scratch(Path(cache) / "tmp")
    try:
        (work / "src" / "vm_manager").mkdir(parents=True)
        (work / "src" / "vm_manager" / "manager.cpp").write_bytes(source)
        (work / "out").mkdir(mode=0o777)
        os.chmod(work / "out", 0o777)  # the sandbox's user writes there
        mounts = [Mount(work / "src", "/submission"), Mount(work / "out", "/out", writable=True),
                  Mount(snapshot.headers, "/kit/vm_manager"), Mount(snapshot.engine, "/kit/libvmm.a")]
        include_pch = []
        if pch is not None:
            mounts.append(Mount(pch, "/kit/pch"))
            include_pch = ["-I/kit/pch"]
        # -MD, not the kit's -MMD: the dependency file then lists every file the
        # compiler read, system headers included (the object code is the same).
        flags = ["-MD" if flag == "-MMD" else flag for flag in snapshot.cxxflags]
        argv = ["g++", *flags, "-MF", "/out/vm_manager.d", *include_pch,
                "-I/kit/vm_manager", "-o", "/out/vm_manager", "vm_manager/manager.cpp",
                "/kit/libvmm.a", *snapshot.ldflags]
        outcome = sandbox.run(argv, mounts=mounts, cwd="/submission", limits=BUILD_LIMITS)
        built = work / "out" / "vm_manager"
        log = outcome.stderr.decode(errors="replace")
        own = [work / "src", snapshot.headers] + ([pch] if pch else [])
        problem = include_problem(log, work / "out" / "vm_manager.d",
                                  ["/submission", "/kit/vm_manager", "/kit/pch", *own])
        ok = (outcome.status == 0 and not problem and built.is_file()
              and not built.is_symlink())
        entry.mkdir(parents=True, exist_ok=True)
        if ok:
            os.replace(built, entry / "vm_manager")
        return BuildResult(ok=ok, binary=str(entry / "vm_manager") if ok else None, log=log,
                           status=outcome.status, timed_out=outcome.timed_out,
                           seconds=round(outcome.seconds, 3), problem=problem)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def guess(source, out_dir, sandbox):
    """Builds a student's app_guess.c (bytes) with musl-gcc -static, in the sandbox."""
    return c_program(source, "app_guess", out_dir, sandbox)


def c_program(source, name, out_dir, sandbox):
    """Builds a student's C program `name`.c (bytes: app_guess.c, or a sample)
    with musl-gcc -static, in the sandbox, into out_dir/out/`name`."""
    out_dir = Path(out_dir).resolve()
    (out_dir / "src").mkdir(parents=True, exist_ok=True)
    (out_dir / "out").mkdir(exist_ok=True)
    os.chmod(out_dir / "out", 0o777)  # the sandbox's user writes there
    (out_dir / "src" / f"{name}.c").write_bytes(source)
    dependencies = ["-MD", "-MF", f"/out/{name}.d"]
    argv = ["musl-gcc", *MUSL_FLAGS, *dependencies, "-o", f"/out/{name}", f"{name}.c"]
    outcome = sandbox.run(argv, cwd="/src", limits=BUILD_LIMITS, mounts=[
        Mount(out_dir / "src", "/src"), Mount(out_dir / "out", "/out", writable=True)])
    built = out_dir / "out" / name
    log = outcome.stderr.decode(errors="replace")
    problem = include_problem(log, out_dir / "out" / f"{name}.d", ["/src", out_dir / "src"])
    ok = outcome.status == 0 and not problem and built.is_file() and not built.is_symlink()
    return BuildResult(ok=ok, binary=str(built) if ok else None, log=log,
                       status=outcome.status, timed_out=outcome.timed_out,
                       seconds=round(outcome.seconds, 3), problem=problem)


def include_problem(log, dependencies, own):
    """Why a build must fail for what it included, or "": a file that is not
    the submission's own (under `own`, sandbox or host paths), the engine's
    headers or the system's (under /usr), whether the compiler found it (the
    dependency file lists it) or not (it says so)."""
    allowed = [str(root).rstrip("/") + "/" for root in [*own, "/usr"]]
    read = []
    if Path(dependencies).exists():
        text = Path(dependencies).read_text(errors="replace").replace("\\\n", " ")
        read = text.split("\n", 1)[0].partition(":")[2].split()
    read += _MISSING_INCLUDE.findall(log)
    foreign = [path for path in read
               if (path.startswith("/") or ".." in Path(path).parts)
               and not any(os.path.normpath(path).startswith(root) for root in allowed)]
    if not foreign:
        return ""
    return (f"It includes {foreign[0]}, which is outside the submission: {INCLUDE_RULE}. "
            "Remove that #include.")


def musl_program(source, out, *, strict=False):
    """Builds one of the grader's own test programs (trusted code)."""
    flags = MUSL_FLAGS + (["-Wall", "-Wextra", "-Werror"] if strict else [])
    result = subprocess.run(["musl-gcc", *flags, "-o", str(out), str(source)],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{source} does not build:\n{result.stderr}")
