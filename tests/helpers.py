"""Helpers of the tests that run the VMM: they run the real VMM on real KVM,
programs built with the real musl-gcc, and compare with the same programs run
natively under strace. The fixtures are in conftest.py."""
import errno
import os
import re
import subprocess
from pathlib import Path


KIT = Path(__file__).resolve().parents[1]
# What make built: build/, or where the Makefile says (build/sanitize/ under SANITIZE=1).
BUILD = KIT / os.environ.get("KIT_BUILD", "build")
REFERENCE = BUILD / "solutions" / "vm_manager"
SKELETON = BUILD / "lab2" / "vm_manager"
LAB_APP = BUILD / "vm_src" / "app"
BOOT = BUILD / "vm_src" / "boot.bin"
PROGRAMS = KIT / "tests" / "e2e" / "programs"


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

STRACE_LINE = re.compile(r"^(\w+)\((.*)\)\s+= (\S+)(?: (E[A-Z0-9]+) )?")


def number(text):
    """A number as strace prints it: decimal, 0x hex, or 0-prefixed octal."""
    if re.fullmatch(r"0[0-7]+", text):
        return int(text, 8)
    return int(text, 0)


def native_calls(program, args, cwd):
    """The open/write/close/exit calls `program` makes natively, in order, as
    (name, arguments, result) with numbers as numbers, the path as a string."""
    log = Path(cwd) / ".strace.log"
    result = run(["strace", "-X", "raw", "-e", "raw=write,close,exit,exit_group",
                  "-e", "trace=open,write,close,exit,exit_group", "-e", "signal=none",
                  "-o", log, program, *args], cwd=cwd)
    calls = []
    for line in log.read_text().splitlines():
        match = STRACE_LINE.match(line)
        if not match:
            continue
        name, arguments, value, error = match.groups()
        # A failed call prints as "-1 EBADF (...)": the system call returned -EBADF.
        value = None if value == "?" else -getattr(errno, error) if error else number(value)
        if name == "open":
            path, flags, mode = re.fullmatch(r'"(.*)", (\S+), (\S+)', arguments).groups()
            calls.append((name, (path, number(flags), number(mode)), value))
        else:
            calls.append((name, tuple(number(a) for a in arguments.split(", ")), value))
    log.unlink()
    return calls, result


def signed(value):
    return value - (1 << 64) if value >= 1 << 63 else value


def trace_lines(calls):
    """The trace lines a VMM prints for these calls (formats: lab2-facts.md)."""
    lines = []
    for name, args, result in calls:
        if name == "open":
            lines.append(f"OPEN {args[0]} {args[1]} {args[2]} - return {result}")
        elif name == "write":
            lines.append(f"WRITE {args[0]} {args[1]:x} {args[2]} - return {signed(result)}")
        elif name == "close":
            lines.append(f"CLOSE {args[0]} - return {signed(result)}")
        elif name in ("exit", "exit_group"):
            lines.append(f"EXIT {args[0]}")
    return lines


def without_buffer_addresses(lines):
    """Trace lines with WRITE's buffer address blanked: stack addresses differ
    between a native process and the guest."""
    return [" ".join(w if i != 2 else "*" for i, w in enumerate(line.split(" ")))
            if line.startswith("WRITE ") else line for line in lines]


def files_in(directory):
    """{name: bytes} of the regular files in a directory, strace's log aside."""
    return {p.name: p.read_bytes() for p in Path(directory).iterdir()
            if p.is_file() and not p.name.startswith(".strace")}
