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
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from grader.sandbox import Limits, Mount

BUILD_LIMITS = Limits(seconds=90, file_size=256 << 20, memory=4096 << 20, capture=64 << 10)
MUSL_FLAGS = ["-static", "-O2"]


@dataclass
class BuildResult:
    ok: bool
    binary: str | None  # host path of what was built
    log: str  # the compiler's messages
    status: int | None
    timed_out: bool
    seconds: float
    cached: bool = False
    command: str = ""


@contextmanager
def _locked(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _scratch(parent):
    Path(parent).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=parent))


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


def vmm(source, snapshot, sandbox, cache):
    """Builds a student's manager.cpp (bytes). Returns a BuildResult."""
    key = hashlib.sha256(snapshot.fingerprint.encode() + b"\0" + source).hexdigest()[:32]
    cache = Path(cache).resolve()
    entry = cache / "vmm" / key
    with _locked(Path(cache) / "vmm" / (key + ".lock")):
        if (entry / "result.json").exists():
            result = BuildResult(**json.loads((entry / "result.json").read_text()))
            result.cached = True
            return result
        result = _compile_vmm(source, snapshot, sandbox, cache, entry)
        if not result.timed_out:  # a timeout may come from a busy machine: do not keep it
            (entry / "result.json").write_text(json.dumps(asdict(result)))
        return result


def _compile_vmm(source, snapshot, sandbox, cache, entry):
    pch = precompiled_header(snapshot, sandbox, cache)
    work = _scratch(Path(cache) / "tmp")
    try:
        (work / "src" / "vm_manager").mkdir(parents=True)
        (work / "src" / "vm_manager" / "manager.cpp").write_bytes(source)
        (work / "out").mkdir()
        mounts = [Mount(work / "src", "/submission"), Mount(work / "out", "/out", writable=True),
                  Mount(snapshot.headers, "/kit/vm_manager"), Mount(snapshot.engine, "/kit/libvmm.a")]
        include_pch = []
        if pch is not None:
            mounts.append(Mount(pch, "/kit/pch"))
            include_pch = ["-I/kit/pch"]
        argv = ["g++", *snapshot.cxxflags, "-MF", "/out/vm_manager.d", *include_pch,
                "-I/kit/vm_manager", "-o", "/out/vm_manager", "vm_manager/manager.cpp",
                "/kit/libvmm.a", *snapshot.ldflags]
        outcome = sandbox.run(argv, mounts=mounts, cwd="/submission", limits=BUILD_LIMITS)
        built = work / "out" / "vm_manager"
        ok = outcome.status == 0 and built.is_file() and not built.is_symlink()
        entry.mkdir(parents=True, exist_ok=True)
        if ok:
            os.replace(built, entry / "vm_manager")
        shown = [a for a in argv if a not in include_pch]
        return BuildResult(ok=ok, binary=str(entry / "vm_manager") if ok else None,
                           log=outcome.stderr.decode(errors="replace"), status=outcome.status,
                           timed_out=outcome.timed_out, seconds=round(outcome.seconds, 3),
                           command=" ".join(shown))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def guess(source, out_dir, sandbox):
    """Builds a student's app_guess.c (bytes) with musl-gcc -static, in the sandbox."""
    out_dir = Path(out_dir).resolve()
    (out_dir / "src").mkdir(parents=True, exist_ok=True)
    (out_dir / "src" / "app_guess.c").write_bytes(source)
    argv = ["musl-gcc", *MUSL_FLAGS, "-o", "/out/app_guess", "app_guess.c"]
    outcome = sandbox.run(argv, cwd="/src", limits=BUILD_LIMITS, mounts=[
        Mount(out_dir / "src", "/src"), Mount(out_dir, "/out", writable=True)])
    built = out_dir / "app_guess"
    ok = outcome.status == 0 and built.is_file() and not built.is_symlink()
    return BuildResult(ok=ok, binary=str(built) if ok else None,
                       log=outcome.stderr.decode(errors="replace"), status=outcome.status,
                       timed_out=outcome.timed_out, seconds=round(outcome.seconds, 3),
                       command=" ".join(argv))


def musl_program(source, out, *, strict=False):
    """Builds one of the grader's own test programs (trusted code)."""
    flags = MUSL_FLAGS + (["-Wall", "-Wextra", "-Werror"] if strict else [])
    started = time.monotonic()
    result = subprocess.run(["musl-gcc", *flags, "-o", str(out), str(source)],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{source} does not build:\n{result.stderr}")
    return time.monotonic() - started
