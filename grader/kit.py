"""The kit a submission is graded against, frozen for the whole batch.

`prepare()` builds the kit's engine, guest and (when the kit has it) reference
VMM with the kit's own Makefile, then copies what grading needs into a
snapshot directory: the engine's headers and library, boot.bin, the lab
program, the reference VMM, the hidden test programs (built with musl-gcc),
and the kit's compiler flags. Every submission of a batch is built and run
against the same snapshot, even if the kit's tree changes meanwhile.
"""
import hashlib
import json
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from grader import KIT, build

PROGRAMS = Path(__file__).resolve().parent / "programs"  # the hidden test programs
REFERENCE_SOURCE = Path("solutions/lab2/vm_manager/manager.cpp")
RUNNER_TARGET = "build/grader/runner"  # the sandbox's runner (grader/sandbox/runner/)
KIT_TARGETS = ["build/engine/libvmm.a", "build/vm_src/boot.bin", "build/vm_src/app", RUNNER_TARGET]
REFERENCE_TARGET = "build/solutions/vm_manager"
# If `make print-CXXFLAGS` does not work (an old handout), the kit's flags as documented.
DEFAULT_CXXFLAGS = "-std=c++20 -O2 -g -Wall -Wextra -Werror -MMD -MP"
# What the Makefile's rule for build/lab2/vm_manager adds after the engine, if anything.
LDFLAGS_VARIABLE = "VMM_LDFLAGS"


class KitError(Exception):
    """The kit itself does not build: nothing can be graded."""


def make(kit, targets):
    result = subprocess.run(["make", "-C", str(kit), "--no-print-directory", "-s", *targets],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise KitError(f"the kit does not build (make {' '.join(targets)}):\n"
                       + (result.stdout + result.stderr)[-3000:])


def make_variable(kit, name, default=""):
    """A variable of the kit's Makefile (`make -s print-NAME`)."""
    result = subprocess.run(["make", "-C", str(kit), "--no-print-directory", "-s",
                             f"print-{name}"], capture_output=True, text=True)
    value = result.stdout.strip() if result.returncode == 0 else ""
    return shlex.split(value or default)


def runner(kit=KIT):
    """The sandbox's runner, built (the sandbox is chosen before the kit is frozen)."""
    make(kit, [RUNNER_TARGET])
    return Path(kit) / RUNNER_TARGET


# In a Gradescope autograder (make gradescope): what students may not see,
# prebuilt, without its sources: the reference VMM and the hidden programs.
PRIVATE = Path("private")
PRIVATE_REFERENCE = PRIVATE / "reference" / "vm_manager"
PRIVATE_PROGRAMS = PRIVATE / "programs"
PRIVATE_HIDDEN = PRIVATE_PROGRAMS / "hidden.json"  # {name: arguments}


def program_arguments(source_text):
    """The command-line arguments a test program's source asks for, on a line
    `// arguments: 3 "two words"` (shell quoting); none without that line."""
    for line in source_text.splitlines():
        if line.startswith("// arguments:"):
            try:
                return shlex.split(line.split(":", 1)[1])
            except ValueError:  # unbalanced quotes: taken as words
                return line.split(":", 1)[1].split()
    return []


def hidden_programs(kit=KIT):
    """{name: arguments} of the hidden test programs: the sources' `// arguments:`
    lines, or the prebuilt programs' list in an autograder."""
    if (Path(kit) / PRIVATE_HIDDEN).exists():
        return json.loads((Path(kit) / PRIVATE_HIDDEN).read_text())
    return {source.stem: program_arguments(source.read_text())
            for source in sorted(PROGRAMS.glob("*.c"))}


@dataclass
class Snapshot:
    root: Path
    cxxflags: list
    ldflags: list
    fingerprint: str  # changes when anything a student's build depends on changes
    grading_version: str  # changes when anything a grade depends on changes
    has_reference: bool
    hidden: dict  # {program name: arguments}

    headers = property(lambda self: self.root / "vm_manager")
    engine = property(lambda self: self.root / "libvmm.a")
    boot = property(lambda self: self.root / "boot.bin")
    runner = property(lambda self: self.root / "runner")
    reference = property(lambda self: self.root / "reference" / "vm_manager")
    expected = property(lambda self: self.root / "expected")  # the oracle's runs

    def program(self, name):
        """The lab program ("app"), or a hidden program."""
        return self.root / ("programs" if name == "app" else "hidden") / name

    @classmethod
    def open(cls, root):
        info = json.loads((Path(root) / "snapshot.json").read_text())
        return cls(Path(root), info["cxxflags"], info["ldflags"], info["fingerprint"],
                   info["grading_version"], info["has_reference"], info["hidden"])


def prepare(dest, *, kit=KIT, with_hidden=True, reference=True, sandbox=None, cache=None):
    """Builds the kit and freezes it in `dest`. Returns the Snapshot. Without the
    reference (reference=False, or a handout without solutions/), the ground
    truth is the program run natively."""
    kit, dest = Path(kit), Path(dest)
    from_source = (kit / REFERENCE_SOURCE).exists()
    has_reference = reference and (from_source or (kit / PRIVATE_REFERENCE).exists())
    make(kit, KIT_TARGETS + ([REFERENCE_TARGET] if has_reference and from_source else []))
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "vm_manager").mkdir(parents=True)
    (dest / "programs").mkdir()
    (dest / "hidden").mkdir()
    (dest / "expected").mkdir()
    for header in sorted((kit / "vm_manager").glob("*.hpp")):
        shutil.copy2(header, dest / "vm_manager")
    shutil.copy2(kit / "build/engine/libvmm.a", dest / "libvmm.a")
    shutil.copy2(kit / "build/vm_src/boot.bin", dest / "boot.bin")
    shutil.copy2(kit / "build/vm_src/app", dest / "programs" / "app")
    shutil.copy2(kit / RUNNER_TARGET, dest / "runner")
    if has_reference:
        (dest / "reference").mkdir()
        shutil.copy2(kit / (REFERENCE_TARGET if from_source else PRIVATE_REFERENCE),
                     dest / "reference" / "vm_manager")
    hidden = hidden_programs(kit) if with_hidden else {}
    for name in hidden:
        if (kit / PRIVATE_PROGRAMS / name).exists():
            shutil.copy2(kit / PRIVATE_PROGRAMS / name, dest / "hidden" / name)
        else:
            build.musl_program(PROGRAMS / f"{name}.c", dest / "hidden" / name, strict=True)
    # What a submission must not read, though its compiler and, without a
    # sandbox, its VMM run on this machine (as a uid of their own, under root):
    # the reference and the hidden programs, in directories only root may
    # enter. A run gets its own program and VMM bound into its sandbox, or
    # copied into the emulated machine, by the grader.
    for private in ["reference", "hidden"]:
        if (dest / private).exists():
            os.chmod(dest / private, 0o700)
    cxxflags = make_variable(kit, "CXXFLAGS", DEFAULT_CXXFLAGS)
    ldflags = make_variable(kit, LDFLAGS_VARIABLE)
    digest = hashlib.sha256(json.dumps([cxxflags, ldflags]).encode())
    digest.update(subprocess.run(["g++", "--version"], capture_output=True).stdout)
    for path in sorted((dest / "vm_manager").iterdir()) + [dest / "libvmm.a"]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    # What a grade depends on besides the submission: the kit's files above
    # and the grader's own code. A class graded again keeps the results of the
    # submissions that did not change only while this stays the same.
    grading = hashlib.sha256(digest.digest())
    for path in sorted(p for p in dest.rglob("*") if p.is_file()):
        grading.update(path.name.encode() + b"\0" + path.read_bytes())
    for path in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        grading.update(path.read_bytes())
    info = {"cxxflags": cxxflags, "ldflags": ldflags, "fingerprint": digest.hexdigest()[:24],
            "grading_version": grading.hexdigest()[:24], "has_reference": has_reference,
            "hidden": hidden}
    (dest / "snapshot.json").write_text(json.dumps(info, indent=1))
    snapshot = Snapshot.open(dest)
    if sandbox is not None and cache is not None:
        build.precompiled_header(snapshot, sandbox, cache)
    return snapshot
