"""Helpers of the tests that run the VMM: they run the real VMM on real KVM,
programs built with the real musl-gcc, and compare with the same programs run
natively under strace. The fixtures are in conftest.py."""
import os
import stat
import subprocess
import sys
from pathlib import Path


KIT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(KIT))
from grader.judge import strace as native_strace  # noqa: E402  (how the grader reads strace)
# What make built: build/, or where the Makefile says (build/sanitize/ under SANITIZE=1).
BUILD = KIT / os.environ.get("KIT_BUILD", "build")
REFERENCE = BUILD / "solutions" / "vm_manager"
REFERENCE_SOURCE = KIT / "solutions" / "lab2" / "vm_manager" / "manager.cpp"
# make test SANITIZE=...: the sanitized VMMs install no seccomp filter.
SANITIZED = BUILD.name.startswith("sanitize")
SKELETON = BUILD / "lab2" / "vm_manager"
LAB_APP = BUILD / "vm_src" / "app"
BOOT = BUILD / "vm_src" / "boot.bin"
PROGRAMS = KIT / "tests" / "e2e" / "programs"
# The reference's answer to arch_prctl: what the tests replace to build a VMM
# that keeps arch_prctl a no-op, or refuses it (the reference_variant fixture).
ARCH_PRCTL = "result = regs.rdi == ARCH_SET_FS ? set_thread_pointer(vcpu, regs.rsi) : -EINVAL;"


def build_vmm(source, out):
    """Builds the VMM whose manager.cpp is the text `source` in directory
    `out`, as the kit's Makefile builds build/lab2/vm_manager: the kit's flags,
    the kit's engine. Returns the path of the binary."""
    def make_variable(name):
        result = run(["make", "-s", "--no-print-directory", f"print-{name}"], cwd=KIT,
                     env=user_environment())
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    out = Path(out)
    (out / "manager.cpp").write_text(source)
    build = run(["g++", *make_variable("CXXFLAGS"), f"-I{KIT / 'vm_manager'}", "-o",
                 out / "vm_manager", out / "manager.cpp", BUILD / "engine" / "libvmm.a",
                 *make_variable("VMM_LDFLAGS")], cwd=out, timeout=300)
    assert build.returncode == 0, build.stderr
    return out / "vm_manager"


def edited(source, edits):
    """`source` with each (old, new) of `edits` made; each old text must be
    there exactly once, so that an edit never silently stops applying."""
    for old, new in edits:
        assert source.count(old) == 1, f"the source no longer says, once:\n{old}"
        source = source.replace(old, new)
    return source


def kvm_problem():
    """Why this machine cannot run the VM, or None if it can."""
    if not os.path.exists("/dev/kvm"):
        return "no /dev/kvm on this machine: the KVM tests need KVM"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm is not accessible: add yourself to the kvm group"
    return None


def on_pvm():
    return os.path.isdir("/sys/module/kvm_pvm")


def user_environment():
    """The environment of a user's shell: without what this make run adds (its
    flags, its nesting level, its build directory)."""
    return {k: v for k, v in os.environ.items()
            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "KIT_BUILD")}


def run(command, cwd, timeout=30, **kwargs):
    """Runs a command, never for longer than `timeout` seconds."""
    return subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, **kwargs)


# --- what the kernel says: the program run natively under strace -----------------

def native_run(program, args, cwd):
    """Runs `program` natively under strace, tracing the calls of the lab
    (open, write, close, exit): (strace's log, the CompletedProcess). Read the
    log with native_strace.calls() or native_strace.trace_lines()."""
    log = Path(cwd) / ".strace.log"
    result = run(["strace", *native_strace.OPTIONS, "-o", log, program, *args], cwd=cwd)
    text = log.read_text()
    log.unlink()
    return text, result


def without_buffer_addresses(lines):
    """Trace lines with WRITE's buffer address blanked: stack addresses differ
    between a native process and the guest."""
    return [" ".join(w if i != 2 else "*" for i, w in enumerate(line.split(" ")))
            if line.startswith("WRITE ") else line for line in lines]


def files_in(directory):
    """{name: bytes} of the regular files in a directory, strace's log aside."""
    return {p.name: p.read_bytes() for p in Path(directory).iterdir()
            if p.is_file() and not p.name.startswith(".strace")}


def run_natively_and_in_reference(program, args, tmp_path):
    """`program` run natively under strace and under the reference VMM, each
    in a fresh directory of its own: (native, vm) CompletedProcesses, the
    trace lines strace's log stands for and those the VMM printed, and the
    files each run left."""
    native_dir, vm_dir = tmp_path / "native", tmp_path / "vm"
    native_dir.mkdir()
    vm_dir.mkdir()
    log, native = native_run(program, args, native_dir)
    vm = run([REFERENCE, "--trace", ".trace", program, *args], cwd=vm_dir)
    trace = (vm_dir / ".trace").read_text().splitlines()
    (vm_dir / ".trace").unlink()
    return (native, vm, native_strace.trace_lines(log), trace, files_in(native_dir),
            files_in(vm_dir))


def tree(directory):
    """{path: (kind, mode, contents or target)} of everything under `directory`."""
    found = {}
    for root, directories, files in os.walk(directory):
        for name in directories + files:
            path = os.path.join(root, name)
            info = os.lstat(path)
            relative = os.path.relpath(path, directory)
            if stat.S_ISLNK(info.st_mode):
                found[relative] = ("link", None, os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                found[relative] = ("dir", stat.S_IMODE(info.st_mode), None)
            else:
                with open(path, "rb") as file:
                    found[relative] = ("file", stat.S_IMODE(info.st_mode), file.read())
    return found
