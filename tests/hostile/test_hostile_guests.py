"""Hostile guests: programs that attack the VMM through their system calls and
through the machine. Each must end as specified, the VMM must never die from a
signal, and nothing outside the guest's working directory may change."""
import hashlib
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from helpers import KIT, REFERENCE, on_pvm, run

PROGRAMS = Path(__file__).resolve().parent / "programs"


@pytest.fixture
def hostile(kvm, build_program, tmp_path):
    """run_hostile(NAME, ARG...) runs programs/NAME.c under the reference VMM
    with --workdir tmp_path/outside/work, next to a file and symlinks that lead
    out of it, and checks that nothing outside work/ changed. Its trace is
    result.trace."""
    outside = tmp_path / "outside"
    work = outside / "work"
    work.mkdir(parents=True)
    (outside / "precious").write_text("do not touch\n")
    os.symlink(outside / "precious", work / "link-out")
    os.symlink(outside, work / "dir-out")

    def snapshot():
        return {str(p.relative_to(outside)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in outside.rglob("*") if p.is_file() and work not in p.parents}

    before = snapshot()

    def run_hostile(name, *args, options=(), wrapper=(), flags=()):
        """OPTIONS go to the VMM; WRAPPER is a command that runs it; FLAGS to musl-gcc."""
        program = build_program(PROGRAMS / f"{name}.c", *flags)
        result = run([*wrapper, REFERENCE, "--workdir", work, "--trace", tmp_path / "trace",
                      "--timeout", "2", *options, program, *args], cwd=tmp_path, timeout=60)
        assert result.returncode >= 0, f"the VMM died from signal {-result.returncode}"
        assert snapshot() == before, "a file outside the working directory changed"
        assert "seccomp" not in result.stderr, result.stderr
        trace = tmp_path / "trace"
        result.trace = trace.read_text().splitlines() if trace.exists() else []
        return result

    return run_hostile


def test_wild_pointers_and_lengths_get_efault(hostile):
    result = hostile("wild_pointers")

    assert result.returncode == 0, "some calls did not fail with EFAULT"
    assert result.trace[-1] == "EXIT 0"


def test_paths_cannot_escape_the_working_directory(hostile, tmp_path):
    escapes = ["../escaped", "/tmp/escaped-from-vm", "link-out", "dir-out/escaped",
               "./../work/../escaped"]
    result = hostile("path_escape", *escapes, "inside")

    assert result.returncode == 1  # only "inside" was opened
    assert not Path("/tmp/escaped-from-vm").exists()
    assert (tmp_path / "outside" / "work" / "inside").read_text() == "escaped\n"
    opens = [line for line in result.trace if line.startswith("OPEN ")]
    assert [line.rsplit(" ", 1)[1] for line in opens] == ["-18"] * len(escapes) + ["3"]


def test_closing_every_fd_leaves_the_vmm_working(hostile, tmp_path):
    result = hostile("close_everything")

    assert result.returncode == 0
    assert (tmp_path / "outside" / "work" / "still-works").read_text() == "ok\n"


def test_fd_table_has_a_limit_and_recovers(hostile):
    result = hostile("exhaust_fds")

    assert result.returncode == 61  # 64 guest fds, 0-2 taken by the standard streams
    assert "OPEN f 32832 420 - return -24" in result.trace  # EMFILE (32832: O_CREAT, O_LARGEFILE)


def test_other_calls_cannot_escape_the_working_directory_or_guest_memory(hostile):
    # mkdir, rename, link, chmod, stat, chdir, openat from a directory fd, mmap
    # over boot.asm's pages, ... (programs/escape_by_other_calls.c).
    result = hostile("escape_by_other_calls", flags=("-mgeneral-regs-only",))

    assert result.returncode == 0, (f"{result.returncode} calls succeeded:\n" +
                                    "\n".join(l for l in result.trace if "return -" not in l))
    assert result.trace[-1] == "EXIT 0"


def test_the_files_behind_the_standard_streams_stay_the_vmms(kvm, build_program, tmp_path):
    # stdin a directory outside the working directory, stdout a file outside it.
    outside, work = tmp_path / "outside", tmp_path / "outside" / "work"
    work.mkdir(parents=True)
    (outside / "precious").write_text("do not touch\n")
    output = outside / "output"
    output.write_text("")
    output.chmod(0o600)
    program = build_program(PROGRAMS / "standard_stream_files.c", "-mgeneral-regs-only")
    directory = os.open(outside, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with open(output, "a") as stdout:
            result = subprocess.run([REFERENCE, "--workdir", work, "--trace", tmp_path / "trace",
                                     program], stdin=directory, stdout=stdout,
                                    stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(directory)
    trace = (tmp_path / "trace").read_text()
    assert result.returncode == 0, f"{result.returncode} calls succeeded: {result.stderr}\n{trace}"
    after = os.stat(output)
    assert stat.S_IMODE(after.st_mode) == 0o600
    assert after.st_mtime > 1_000_000_000, "futimens set its time"
    assert output.read_text() == "written\n"
    assert sorted(p.name for p in outside.iterdir()) == ["output", "precious", "work"]
    assert list(work.iterdir()) == []


def test_thousands_of_unknown_calls_get_enosys(hostile):
    result = hostile("unknown_calls")

    assert result.returncode == 0
    undefined = [line for line in result.trace if line.startswith("undefined syscall ")]
    assert len(undefined) == 5000


def test_file_size_is_limited(hostile, tmp_path):
    result = hostile("huge_file")

    assert result.returncode == 0, "the guest could write 256 MiB"
    assert (tmp_path / "outside" / "work" / "big").stat().st_size == 64 << 20
    assert result.trace[-2].endswith("- return -27")  # EFBIG


@pytest.mark.parametrize("name, message", [
    ("smash_page_tables", r"vm_manager: guest page fault: write to 0x10000 \(not present\).*"
                          r"the page tables 0x10000-"),
    ("smash_stack_pointer", r"vm_manager: guest page fault: write to 0x7feffffffff8 "
                            r"\(not present\) at RIP 0x4"),
    ("port_io", r"vm_manager: (the guest used I/O port 0x60|guest general protection fault)"),
])
def test_guest_that_breaks_the_machine_is_reported(hostile, name, message):
    result = hostile(name)

    assert result.returncode == 125
    assert re.match(message, result.stderr), result.stderr
    assert "RIP" in result.stderr


# --- memory as Linux gives it, and crash reports the program cannot forge ---------

def ring():
    """The ring the reference VMM runs programs in on this machine's KVM."""
    return 0 if on_pvm() else 3


def crash_line(result):
    assert result.returncode == 125, result.stderr
    assert result.stderr.startswith("vm_manager: "), result.stderr
    return result.stderr.splitlines()[0][len("vm_manager: "):]


def test_null_pointer_write_faults_as_on_linux(hostile):
    result = hostile("null_write")

    assert re.match(r"guest page fault: write to 0x0 \(not present\) at RIP 0x40[0-9a-f]+ .*"
                    r"; a NULL pointer", crash_line(result))
    # The dump shows every register: here the store went through RAX.
    for shown in ["RAX 0x0", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "R8", "R9", "R10", "R11",
                  "R12", "R13", "R14", "R15", "RSP", "RFLAGS", "CS 0x", "SS", "DS", "ES",
                  "FS 0x0 (base 0x40", "GS", "CR0", "CR2 0x0", "CR3", "CR4", "EFER"]:
        assert shown in result.stderr, f"{shown} is missing from the dump:\n{result.stderr}"


def test_write_to_rodata_faults_and_names_the_segment(hostile):
    result = hostile("rodata_write")

    assert re.match(r"guest page fault: write to 0x402[0-9a-f]{3} \(protection violation\) .*"
                    r"; the address is in a program segment 0x402000-0x402[0-9a-f]{3} \(r-- user\), "
                    r"which is read-only$", crash_line(result))


def test_null_function_pointer_is_explained(hostile):
    result = hostile("null_call")

    assert crash_line(result).startswith("guest page fault: instruction fetch from 0x0 "
                                         "(not present) at RIP 0x0")
    assert "hint: RIP is in page 0: the program called a NULL function pointer" in result.stderr


def test_stack_overflow_is_named(hostile):
    result = hostile("stack_overflow")

    assert re.match(r"guest page fault: write to 0x7b[0-9a-f]{4} \(not present\) .*"
                    r"just below the stack \(0x7c0000\): a stack overflow\?$", crash_line(result))


def test_programs_own_hlt_is_not_a_system_call(hostile):
    result = hostile("own_hlt")  # hlt with the registers of write(1, "forged\n", 7)

    line = crash_line(result)
    assert "forged" not in result.stdout
    assert not any(entry.startswith("WRITE") for entry in result.trace)
    if ring() == 0:
        assert re.match(r"the guest executed hlt at 0x40[0-9a-f]+, outside boot.asm's system-call "
                        r"entry point \(0x8[0-9a-f]+\): it is not a system call$", line)
    else:  # hlt is privileged
        assert line.startswith("guest general protection fault (#GP)"), line
    assert "musl's a_crash()" in result.stderr


def test_programs_own_int3_is_an_explained_crash(hostile):
    result = hostile("own_int3")

    line = crash_line(result)
    assert result.returncode == 125
    if ring() == 0:  # KVM's emulator (PVM) cannot run int3 outside real mode
        assert line.startswith("KVM failed inside the guest (KVM_EXIT_INTERNAL_ERROR"), line
        assert "hint: the instruction is int3 (0xcc)" in result.stderr
    else:  # boot.asm's #BP gate lets ring 3 in: a trap, RIP past the int3
        assert re.match(r"guest breakpoint \(#BP, int3\) at RIP 0x40[0-9a-f]+ in user mode",
                        line), line
        assert re.search(r"hint: the guest executed int3 at 0x40[0-9a-f]+, a breakpoint "
                         r"instruction, where no debugger had put one", result.stderr)


def test_forged_exception_report_with_its_own_out_is_refused(hostile):
    result = hostile("forge_exception", "out")

    line = crash_line(result)
    if ring() == 0:
        assert line.endswith("boot.asm's exception port, but not from boot.asm's exception report "
                             "with a frame that makes sense: a forged report, refused"), line
    else:  # out is privileged
        assert line.startswith("guest general protection fault (#GP)"), line
    assert "0x1234" not in line


def test_forged_exception_report_through_boot_asm_says_who_wrote_it(hostile):
    result = hostile("forge_exception", "jump")

    line = crash_line(result)
    if ring() == 0:  # the program may run boot.asm's code: the report cannot be trusted
        assert line.startswith("guest page fault"), line
        assert ("note: the program runs in ring 0 here, as boot.asm does: it could have written "
                "this report itself, so its details come from the guest") in result.stderr
    else:  # ring 3 cannot even read boot.asm's pages
        assert re.match(r"guest page fault: read from 0x8020 \(protection violation\) .* "
                        r"in user mode \(ring 3\); the address is in the boot image .*"
                        r"\(rwx kernel\), which only ring 0 may use$", line)


@pytest.mark.parametrize("elf", sorted((KIT / "fuzz" / "corpus" / "elf_loader").iterdir()),
                         ids=lambda path: path.name)
def test_crafted_elf_files_end_with_one_clear_message(kvm, tmp_path, elf):
    result = run([REFERENCE, "--timeout", "2", elf], cwd=tmp_path)

    assert result.returncode == 125, (result.returncode, result.stderr)
    assert result.stderr.startswith("vm_manager: ") and "\nvm_manager: " not in result.stderr
    assert result.stdout == ""  # no system call was made


@pytest.mark.parametrize("size, status", [("2M", 125), ("6M", 0), ("1G", 0)])
def test_smallest_and_largest_memory_run_or_say_why(kvm, tmp_path, size, status):
    result = run([REFERENCE, "--mem", size], cwd=tmp_path)

    assert result.returncode == status, result.stderr
    if status:  # the program is linked at 4 MiB
        assert "does not fit" in result.stderr and "--mem" in result.stderr
    else:
        assert result.stdout.splitlines()[-1] == "EXIT 0"
        assert (tmp_path / "ay_caramba").read_bytes() == b"Hello World !!!\nBye Bye !!!\n"


def test_guest_that_spins_forever_is_stopped(hostile):
    result = hostile("spin_forever")

    assert result.returncode == 124
    assert result.stderr.startswith("vm_manager: stopped by --timeout")


def test_created_files_are_never_set_uid(hostile, tmp_path):
    result = hostile("set_uid_file")

    assert result.returncode == 0
    assert result.trace[0] == "OPEN f 32833 3565 - return 3"  # mode 06755, as the guest asked
    mode = (tmp_path / "outside" / "work" / "f").stat().st_mode
    assert mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX) == 0, oct(mode)


@pytest.mark.parametrize("call", ["exit_group", "exit"])
def test_call_that_ends_the_program_ends_the_run(hostile, call):
    result = hostile("end_here", call, "7")

    assert result.stderr == ""  # the ud2 after the call never ran
    assert result.returncode == 7
    assert result.trace == ["EXIT 7"]


def test_a_path_cannot_forge_trace_lines_or_reach_the_terminal(hostile, tmp_path):
    result = hostile("forged_trace")

    assert result.returncode == 42
    assert result.trace == ["OPEN x\\nEXIT 0\\n\\x1b[2J 32833 420 - return 3", "EXIT 42"]
    assert (tmp_path / "outside" / "work" / "x\nEXIT 0\n\x1b[2J").exists()


def test_disk_quota_stops_writes_with_edquot(hostile, tmp_path):
    result = hostile("fill_disk", options=["--disk-quota", "3M"])

    assert result.returncode == 3, "MiB written before EDQUOT"
    work = tmp_path / "outside" / "work"
    assert sum(p.stat().st_size for p in work.glob("f?")) == 3 << 20
    assert result.trace[-2].endswith("- return -122")  # EDQUOT


def test_paths_never_cross_a_mount_point_in_the_working_directory(hostile, tmp_path):
    # A procfs mounted in the working directory (in a mount namespace of its
    # own) would lead to the VMM's /proc/self/mem.
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    work = tmp_path / "outside" / "work"
    (work / "proc").mkdir()
    result = hostile("mount_points", wrapper=[bwrap, "--bind", "/", "/", "--dev-bind", "/dev",
                                              "/dev", "--proc", work / "proc"])
    if "bwrap:" in result.stderr:
        pytest.skip(f"bubblewrap cannot mount a procfs here: {result.stderr.strip()}")

    assert result.returncode == 0, "an open crossed into the procfs (or O_PATH failed)"
    assert [line.rsplit(" ", 1)[1] for line in result.trace[:3]] == ["-18", "-18", "3"]
