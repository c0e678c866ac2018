"""Hostile guests: programs that attack the VMM through their system calls and
through the machine. Each must end as specified, the VMM must never die from a
signal, and nothing outside the guest's working directory may change."""
import hashlib
import os
import re
import shutil
import stat
from pathlib import Path

import pytest

from helpers import REFERENCE, run

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

    def run_hostile(name, *args, options=(), wrapper=()):
        """OPTIONS go to the VMM; WRAPPER is a command that runs it."""
        program = build_program(PROGRAMS / f"{name}.c")
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
    ("smash_page_tables", r"vm_manager: (the guest crashed|guest page fault)"),
    ("smash_stack_pointer", r"vm_manager: guest page fault: write to 0x7feffffffff8 "
                            r"\(not present\) at RIP 0x4"),
    ("port_io", r"vm_manager: (the guest used I/O port 0x60|guest general protection fault)"),
])
def test_guest_that_breaks_the_machine_is_reported(hostile, name, message):
    result = hostile(name)

    assert result.returncode == 125
    assert re.match(message, result.stderr), result.stderr
    assert "RIP" in result.stderr


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
