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
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from grader import build

KIT = Path(__file__).resolve().parents[1]
PROGRAMS = Path(__file__).resolve().parent / "programs"  # the hidden test programs
REFERENCE_SOURCE = Path("solutions/lab2/vm_manager/manager.cpp")
KIT_TARGETS = ["build/engine/libvmm.a", "build/vm_src/boot.bin", "build/vm_src/app"]
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


def hidden_programs():
    """{name: arguments} of the hidden test programs. A program's arguments are
    on its `// arguments:` line."""
    programs = {}
    for source in sorted(PROGRAMS.glob("*.c")):
        arguments = []
        for line in source.read_text().splitlines():
            if line.startswith("// arguments:"):
                arguments = shlex.split(line.split(":", 1)[1])
        programs[source.stem] = arguments
    return programs


@dataclass
class Snapshot:
    root: Path
    cxxflags: list
    ldflags: list
    fingerprint: str  # changes when anything a student's build depends on changes
    has_reference: bool
    hidden: dict  # {program name: arguments}

    headers = property(lambda self: self.root / "vm_manager")
    engine = property(lambda self: self.root / "libvmm.a")
    boot = property(lambda self: self.root / "boot.bin")
    reference = property(lambda self: self.root / "reference" / "vm_manager")
    expected = property(lambda self: self.root / "expected")  # the oracle's runs

    def program(self, name):
        return self.root / "programs" / name

    @classmethod
    def open(cls, root):
        info = json.loads((Path(root) / "snapshot.json").read_text())
        return cls(Path(root), info["cxxflags"], info["ldflags"], info["fingerprint"],
                   info["has_reference"], info["hidden"])


def prepare(dest, *, kit=KIT, with_hidden=True, reference=True, sandbox=None, cache=None):
    """Builds the kit and freezes it in `dest`. Returns the Snapshot. Without the
    reference (reference=False, or a handout without solutions/), the ground
    truth is the program run natively."""
    kit, dest = Path(kit), Path(dest)
    has_reference = reference and (kit / REFERENCE_SOURCE).exists()
    make(kit, KIT_TARGETS + ([REFERENCE_TARGET] if has_reference else []))
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "vm_manager").mkdir(parents=True)
    (dest / "programs").mkdir()
    (dest / "expected").mkdir()
    for header in sorted((kit / "vm_manager").glob("*.hpp")):
        shutil.copy2(header, dest / "vm_manager")
    shutil.copy2(kit / "build/engine/libvmm.a", dest / "libvmm.a")
    shutil.copy2(kit / "build/vm_src/boot.bin", dest / "boot.bin")
    shutil.copy2(kit / "build/vm_src/app", dest / "programs" / "app")
    if has_reference:
        (dest / "reference").mkdir()
        shutil.copy2(kit / REFERENCE_TARGET, dest / "reference" / "vm_manager")
    hidden = hidden_programs() if with_hidden else {}
    for name in hidden:
        build.musl_program(PROGRAMS / f"{name}.c", dest / "programs" / name, strict=True)
    cxxflags = make_variable(kit, "CXXFLAGS", DEFAULT_CXXFLAGS)
    ldflags = make_variable(kit, LDFLAGS_VARIABLE)
    digest = hashlib.sha256(json.dumps([cxxflags, ldflags]).encode())
    digest.update(subprocess.run(["g++", "--version"], capture_output=True).stdout)
    for path in sorted((dest / "vm_manager").iterdir()) + [dest / "libvmm.a"]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    info = {"cxxflags": cxxflags, "ldflags": ldflags, "fingerprint": digest.hexdigest()[:24],
            "has_reference": has_reference, "hidden": hidden}
    (dest / "snapshot.json").write_text(json.dumps(info, indent=1))
    snapshot = Snapshot.open(dest)
    if sandbox is not None and cache is not None:
        build.precompiled_header(snapshot, sandbox, cache)
    return snapshot
