#!/usr/bin/env python3
"""Writes the hand-made seed inputs of fuzz/corpus/ (the formats are described
at the top of each fuzz target). Run it from anywhere; it replaces the files it
writes and leaves others alone. The ELF target is also seeded at run time with
the lab program, build/vm_src/app (fuzz/run.sh)."""
import struct
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"

# Linux x86-64.
SYS_WRITE, SYS_OPEN, SYS_CLOSE, SYS_GETPID, SYS_EXIT = 1, 2, 3, 39, 60
SYS_ARCH_PRCTL, SYS_SET_TID_ADDRESS, SYS_EXIT_GROUP = 158, 218, 231
O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC = 0, 0o1, 0o2, 0o100, 0o200, 0o1000
O_LARGEFILE, O_DIRECTORY, O_NOFOLLOW, O_PATH = 0o100000, 0o200000, 0o400000, 0o10000000
O_TMPFILE = 0o20200000


def write(target, name, data):
    path = CORPUS / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


# --- syscall: header, calls of 7 registers, guest memory -------------------------

def syscall_input(pages, calls, memory):
    data = bytes([pages - 1, len(calls) - 1])
    for call in calls:
        data += struct.pack("<7Q", *(list(call) + [0] * (7 - len(call))))
    return data + memory


def lab_program():
    """The calls of vm_src/src/app.c as musl makes them, the strings in guest memory."""
    memory = b"./ay_caramba\0Hello World !!!\n\0Bye Bye !!!\n\0"
    hello, bye = memory.index(b"Hello"), memory.index(b"Bye")
    return syscall_input(1, [
        (SYS_SET_TID_ADDRESS, 0x100),
        (SYS_ARCH_PRCTL, 0x1002, 0x200),
        (SYS_OPEN, 0, O_LARGEFILE | O_CREAT | O_RDWR, 0o777),
        (SYS_WRITE, 3, hello, 16),
        (SYS_WRITE, 3, bye, 12),
        (SYS_CLOSE, 3),
        (SYS_EXIT_GROUP, 0),
        (SYS_EXIT, 0),
    ], memory)


def standard_streams():
    """Writes to the guest's stdout and stderr, an unknown call, a closed stdout."""
    memory = b"Hello\n\0"
    return syscall_input(1, [
        (SYS_WRITE, 1, 0, 6),
        (SYS_WRITE, 2, 0, 6),
        (SYS_GETPID,),
        (SYS_CLOSE, 1),
        (SYS_WRITE, 1, 0, 6),
        (SYS_CLOSE, 1),
        (SYS_EXIT, 3),
    ], memory)


def bad_pointers():
    """A path of PATH_MAX bytes, one that runs off the end of guest memory,
    pointers and lengths outside it, fds out of range."""
    memory = b"a" * 4096
    return syscall_input(1, [
        (SYS_OPEN, 0, O_RDONLY, 0),  # ENAMETOOLONG
        (SYS_OPEN, 100, 0, 0),                       # EFAULT: no NUL before the end
        (SYS_OPEN, 1 << 63, 0, 0),                   # EFAULT
        (SYS_WRITE, 1, 4000, 200),                   # EFAULT: past the end
        (SYS_WRITE, 1, (1 << 64) - 1, 2),            # EFAULT: wraps around
        (SYS_WRITE, 1 << 32 | 1, 0, 1),              # EBADF, not fd 1
        (SYS_CLOSE, (1 << 64) - 1),                  # EBADF
        (SYS_EXIT, 0x1ff),
    ], memory)


def files_in_the_working_directory():
    memory = b"sub/x\0../escaped\0link-out\0\0"
    escaped, link = memory.index(b"../"), memory.index(b"link-out")
    return syscall_input(1, [
        (SYS_OPEN, 0, O_CREAT | O_EXCL | O_WRONLY, 0o644),
        (SYS_OPEN, 0, O_CREAT | O_EXCL | O_WRONLY, 0o644),  # EEXIST
        (SYS_WRITE, 3, 0, 5),
        (SYS_OPEN, escaped, O_CREAT | O_WRONLY, 0o644),     # EXDEV
        (SYS_OPEN, link, O_RDONLY, 0),      # EXDEV
        (SYS_OPEN, len(memory) - 1, O_PATH | O_DIRECTORY, 0),  # "": ENOENT
        (SYS_CLOSE, 3),
        (SYS_CLOSE, 3),
    ], memory)


# --- guest_files: records of flags, mode, path ---------------------------------

def opens(*records):
    data = b""
    for flags, mode, path in records:
        data += struct.pack("<QQB", flags, mode, len(path)) + path
    return data


# --- elf_loader: ELF files ---------------------------------------------------------

PF_X, PF_W, PF_R = 1, 2, 4


def elf(e_type=2, segments=((1, 0x400000, 0x1000),), entry=0x400078, machine=62):
    """A tiny x86-64 ELF: its header, program headers (type, address, memsz
    [, flags: r-x if not given]), each PT_LOAD loading the whole file."""
    phoff, count = 64, len(segments)
    size = phoff + 56 * count + 16
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header += struct.pack("<HHIQQQIHHHHHH", e_type, machine, 1, entry, phoff, 0, 0, 64, 56,
                          count, 0, 0, 0)
    headers = b""
    for p_type, address, memsz, *flags in segments:
        headers += struct.pack("<IIQQQQQQ", p_type, flags[0] if flags else PF_R | PF_X, 0, address,
                               address, size, memsz, 0x1000)
    return header + headers + b"\x90" * 15 + b"\xf4"


def main():
    write("syscall", "lab_program", lab_program())
    write("syscall", "standard_streams", standard_streams())
    write("syscall", "bad_pointers", bad_pointers())
    write("syscall", "working_directory", files_in_the_working_directory())

    write("guest_files", "create", opens((O_CREAT | O_WRONLY | O_TRUNC, 0o777, b"ay_caramba"),
                                         (O_CREAT | O_EXCL | O_RDWR, 0o600, b"sub/new"),
                                         (O_TMPFILE | O_RDWR, 0o600, b"sub"),
                                         (O_PATH | O_DIRECTORY, 0, b"."),
                                         (O_RDONLY, 0, b"sub/../file")))
    escapes = [b"../escaped", b"/tmp/escaped-from-vm", b"link-out", b"dir-out/escaped",
               b"./../work/../escaped", b"abs-out/etc/passwd", b"sub/../../outside/precious"]
    write("guest_files", "escapes", opens(*[(O_CREAT | O_WRONLY, 0o644, path) for path in escapes],
                                          (O_PATH | O_NOFOLLOW, 0, b"link-out")))

    write("elf_loader", "tiny", elf())
    write("elf_loader", "bss_and_note", elf(segments=((1, 0x400000, 0x3000), (4, 0, 0))))
    write("elf_loader", "interpreter", elf(segments=((3, 0, 0), (1, 0x400000, 0x1000))))
    write("elf_loader", "pie", elf(e_type=3))
    # Code and data sharing a page; a segment ending where the stack's area starts.
    write("elf_loader", "shared_page", elf(segments=((1, 0x400000, 0x800, PF_R | PF_X),
                                                     (1, 0x400800, 0x800, PF_R | PF_W))))
    write("elf_loader", "top_of_memory", elf(segments=((1, 0x400000, 0x1000),
                                                       (1, 0x7bf000, 0x1000, PF_R | PF_W))))


if __name__ == "__main__":
    main()
