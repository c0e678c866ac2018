"""The calls beyond the lab's (vm_manager/linux_calls.hpp) on this machine's
KVM: programs that make them and print each result (programs/report.h) run
natively, then under the reference VMM, in a fresh directory of the same
path; their output, their exit status and the files they leave must be the
same. Busybox and musl's stdio cannot run in ring 0 on PVM (SSE2 integer
instructions): they run in ring 3 in the emulated machine (tests/hw)."""
import re

import pytest

from helpers import REFERENCE, run

@pytest.mark.parametrize("name", ["file_calls", "path_calls", "memory_calls", "process_calls"])
def test_calls_give_the_results_linux_gives(both, name):
    native, vm, native_files, vm_files, trace = both(name)

    assert native.returncode == 0, native.stderr
    assert vm.returncode == 0, vm.stderr + "\n".join(trace[-10:])
    assert vm.stdout == native.stdout
    assert vm_files == native_files
    assert trace[-1] == "EXIT 0"
    assert not [line for line in trace if line.startswith("undefined")], "every call is handled"


def test_file_calls_are_traced_in_the_labs_style(both):
    _, vm, _, _, trace = both("file_calls")

    for pattern in [
        r"OPEN data\.txt 33346 416 - return 3",  # the lab's own line (musl adds O_LARGEFILE)
        r"WRITEV 3 [0-9a-f]+ 3 - return 8",
        r"PWRITE64 3 [0-9a-f]+ 2 4 - return 2",
        r"LSEEK 3 2 0 - return 2",
        r"READ 3 [0-9a-f]+ 5 - return 5",
        r"FTRUNCATE 3 4 - return 0",
        r"IOCTL 3 21505 [0-9a-f]+ - return -25",                # TCGETS: ENOTTY
        r"FCNTL 3 1030 0 - return [0-9]+",                      # F_DUPFD_CLOEXEC
        r"DUP2 3 20 - return 20",
        r"DUP 50 - return -9",
        r"GETDENTS64 [0-9]+ [0-9a-f]+ 1024 - return [1-9][0-9]*",
        r"OPENAT [0-9]+ data\.txt 32768 0 - return [0-9]+",
        r"READ 3 [0-9a-f]+ 1 - return -9",                      # read after close: EBADF
    ]:
        assert any(re.fullmatch(pattern, line) for line in trace), (pattern, trace)


def test_memory_calls_are_traced_with_addresses_in_hex(both):
    _, _, _, _, trace = both("memory_calls")

    assert re.fullmatch(r"BRK 0 - return [0-9a-f]+", trace[0]), trace[:3]
    assert any(re.fullmatch(r"MMAP 0 12288 3 34 -1 0 - return [0-9a-f]+", t) for t in trace)
    assert any(re.fullmatch(r"MMAP 0 0 1 34 -1 0 - return -22", t) for t in trace)
    assert any(re.fullmatch(r"MREMAP [0-9a-f]+ 4096 262144 1 0 - return [0-9a-f]+", t)
               for t in trace)
    assert any(re.fullmatch(r"MPROTECT [0-9a-f]+ 4096 1 - return 0", t) for t in trace)


def test_path_calls_trace_their_paths(both):
    _, _, _, _, trace = both("path_calls")

    for line in ["MKDIR tree 488 - return 0", "MKDIR tree 488 - return -17",
                 "SYMLINK tree/shortcut top-link - return 0",
                 "RENAME hard3.txt tree/renamed.txt - return 0", "CHDIR tree/branch - return 0",
                 "UNLINK tree - return -21", "RMDIR tree - return -39"]:
        assert line in trace, (line, trace)


@pytest.mark.parametrize("touch, fault", [
    ("unmapped", r"read from 0x[0-9a-f]+ \(not present\)"),
    ("read-only", r"write to 0x[0-9a-f]+ \(protection violation\)"),
])
def test_memory_given_back_or_made_read_only_faults_as_on_linux(both, touch, fault):
    native, vm, _, _, trace = both("memory_calls", touch)

    assert native.returncode == -11, "natively: SIGSEGV"
    assert vm.returncode == 125, vm.stderr
    assert re.match(r"vm_manager: guest page fault: " + fault, vm.stderr), vm.stderr


def test_the_labs_calls_stay_the_labs(kvm, tmp_path):
    # The lab program makes no call of the module: its trace is the lab's five lines.
    result = run([REFERENCE], cwd=tmp_path)
    assert result.stdout.splitlines() == [
        "OPEN ./ay_caramba 32834 511 - return 3", "WRITE 3 40200d 16 - return 16",
        "WRITE 3 40201e 12 - return 12", "CLOSE 3 - return 0", "EXIT 0"]
