"""The ground truth without a reference VMM: the program run natively under
strace. Its open/write/close/exit calls, written as the trace lines a VMM
prints for them (the same formats as vm_manager/trace.hpp).

Natively the program's thread pointer and thread id are set up by Linux, so
arch_prctl and set_tid_address are not traced, as the reference prints no line
for them; the call that ends the program (exit_group, or exit) is the one EXIT
line, as in the reference's trace.
"""
import errno
import re
import struct
from pathlib import Path

from grader.judge import trace

# strace's options: raw numbers for write/close/exit, symbolic nothing.
OPTIONS = ["-X", "raw", "-s", "4096", "-e", "raw=write,close,exit,exit_group",
           "-e", "trace=open,write,close,exit,exit_group", "-e", "signal=none"]

_LINE = re.compile(r"^(\w+)\((.*)\)\s+= (\S+)(?: (E[A-Z0-9]+) )?")
_OPEN_ARGUMENTS = re.compile(r'("(?:[^"\\]|\\.)*"|\S+), (\S+)(?:, (\S+))?')

# Without the program's segments: native addresses above this are the native
# stack or mappings, which are elsewhere in the VM, and are not compared.
_NATIVE_ONLY_ADDRESSES = 1 << 32
_PT_LOAD = 1


def program_segments(path):
    """[(start, end)] of a static program's PT_LOAD segments: where its own
    bytes (code, strings, data) are, at the same addresses natively and in
    the VM; None when the file is no 64-bit ELF program."""
    try:
        data = Path(path).read_bytes()
        if data[:5] != b"\x7fELF\x02":
            return None
        phoff, = struct.unpack_from("<Q", data, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
        segments = []
        for i in range(phnum):
            kind, _, _, vaddr, _, _, memsz, _ = struct.unpack_from(
                "<IIQQQQQQ", data, phoff + i * phentsize)
            if kind == _PT_LOAD:
                segments.append((vaddr, vaddr + memsz))
        return segments
    except (OSError, struct.error):
        return None


def _number(text):
    """A number as strace prints it: decimal, 0x hex, or 0-prefixed octal."""
    if re.fullmatch(r"0[0-7]+", text):
        return int(text, 8)
    return int(text, 0)


def _signed(value):
    return value - (1 << 64) if value >= 1 << 63 else value


def calls(log_text):
    """[(name, arguments, result)] of a strace log, numbers as numbers; the
    result is None for a call that did not return (exit, or a killed process).
    A line this cannot read (a program's own odd call) is left out."""
    out = []
    for line in log_text.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        name, arguments, value, error = match.groups()
        try:
            out.append((name, _arguments(name, arguments), _result(value, error)))
        except (ValueError, AttributeError):
            continue
    return out


def _result(value, error):
    if value == "?":
        return None
    if error:  # -1 ENOENT: the kernel's -2; an errno Python does not name, from strace's
        number = getattr(errno, error, None)
        if number is None:
            raise ValueError(f"unknown errno {error}")
        return -number
    return _number(value)


def _arguments(name, arguments):
    if name == "open":
        # open("path", flags[, mode]): strace leaves the mode out without O_CREAT,
        # and prints an address instead of the path when it cannot read it.
        path, flags, mode = _OPEN_ARGUMENTS.fullmatch(arguments).groups()
        path = (path[1:-1].encode("latin-1").decode("unicode_escape")
                if path.startswith('"') else trace.UNREADABLE_PATH)
        return path, _number(flags), _number(mode or "0")
    return tuple(_number(a) for a in arguments.split(", "))


_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f",
            "\r": "\\r"}


def escaped(path):
    """A path as the VMM's trace prints it (Trace::open, vm_manager/trace.cpp):
    as strace escapes a string, without quotes; each byte a character here."""
    return "".join(_ESCAPES.get(c) or (c if " " <= c <= "~" else f"\\x{ord(c):02x}")
                   for c in path)


def trace_lines(log_text, segments=None):
    """The trace lines a VMM prints for the calls of this strace log. A write's
    buffer address is compared only inside the program's `segments`
    (program_segments()): elsewhere (the stack, the heap, a mapping) it is
    where the native kernel put it."""
    lines = []
    for name, args, result in calls(log_text):
        if result is None and name not in ("exit", "exit_group"):
            continue  # killed in the call: no VMM prints a line for it either
        if name == "open":
            path = args[0] if args[0] == trace.UNREADABLE_PATH else escaped(args[0])
            lines.append(f"OPEN {path} {args[1]} {args[2]} - return {result}")
        elif name == "write":
            if segments is None:
                same = args[1] < _NATIVE_ONLY_ADDRESSES
            else:
                same = any(start <= args[1] < end for start, end in segments)
            address = f"{args[1]:x}" if same else trace.ANY_ADDRESS
            lines.append(f"WRITE {_signed(args[0])} {address} {_signed(args[2])} "
                         f"- return {_signed(result)}")
        elif name == "close":
            lines.append(f"CLOSE {_signed(args[0])} - return {_signed(result)}")
        elif name in ("exit", "exit_group"):
            lines.append(f"EXIT {_signed(args[0])}")
    return lines
