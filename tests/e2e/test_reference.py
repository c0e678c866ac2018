"""The reference VMM runs the lab program: the trace and the file match what
the same static binary does natively, as strace reports it."""
import os

from helpers import (BOOT, LAB_APP, REFERENCE, REFERENCE_SOURCE, build_vmm, edited, files_in,
                     native_run, native_strace, run)


def test_lab_program_makes_the_same_calls_as_natively(kvm, tmp_path):
    native_dir, vm_dir = tmp_path / "native", tmp_path / "vm"
    native_dir.mkdir()
    vm_dir.mkdir()
    log, native = native_run(LAB_APP, [], native_dir)
    assert native.returncode == 0
    assert [name for name, _, _ in native_strace.calls(log)] == [
        "open", "write", "write", "close", "exit_group"]

    vm = run([REFERENCE], cwd=vm_dir)

    assert vm.returncode == 0, vm.stderr
    assert vm.stdout.splitlines() == native_strace.trace_lines(log)
    assert vm.stderr == ""


def test_lab_program_writes_the_same_file_as_natively(kvm, tmp_path):
    native_dir, vm_dir = tmp_path / "native", tmp_path / "vm"
    native_dir.mkdir()
    vm_dir.mkdir()
    native_run(LAB_APP, [], native_dir)

    run([REFERENCE], cwd=vm_dir)

    assert files_in(vm_dir) == files_in(native_dir)
    assert files_in(vm_dir)["ay_caramba"] == b"Hello World !!!\nBye Bye !!!\n"
    # open(..., 0777) under the umask, as natively
    assert (vm_dir / "ay_caramba").stat().st_mode == (native_dir / "ay_caramba").stat().st_mode


def test_a_vmm_that_lets_exit_group_return_prints_the_same_trace(kvm, tmp_path):
    # The original course's answer: exit_group returns 0, musl's _Exit then
    # calls exit, and the run ends there.
    source = edited(REFERENCE_SOURCE.read_text(), [(
        "    case SYS_exit_group:\n    case SYS_exit:\n",
        "    case SYS_exit_group:\n        result = 0;\n        break;\n    case SYS_exit:\n")])
    vmm = build_vmm(source, tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()

    lenient = run([vmm, "--boot", BOOT, LAB_APP], cwd=tmp_path / "a")
    reference = run([REFERENCE], cwd=tmp_path / "b")

    assert lenient.returncode == reference.returncode == 0, lenient.stderr
    assert lenient.stdout == reference.stdout
    assert files_in(tmp_path / "a") == files_in(tmp_path / "b")


def test_trace_option_writes_the_trace_to_the_file_only(kvm, tmp_path):
    vm = run([REFERENCE, "--trace", "t.txt"], cwd=tmp_path)
    reference = run([REFERENCE], cwd=tmp_path)

    assert vm.returncode == 0
    assert vm.stdout == ""
    assert (tmp_path / "t.txt").read_text() == reference.stdout


def test_workdir_option_decides_where_files_appear(kvm, tmp_path):
    (tmp_path / "work").mkdir()
    vm = run([REFERENCE, "--workdir", "work"], cwd=tmp_path)

    assert vm.returncode == 0
    assert os.listdir(tmp_path / "work") == ["ay_caramba"]
    assert not (tmp_path / "ay_caramba").exists()


def test_ring_0_and_the_default_ring_give_the_same_trace_and_file(kvm, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    default = run([REFERENCE], cwd=tmp_path / "a")
    ring0 = run([REFERENCE, "--ring", "0"], cwd=tmp_path / "b")

    assert ring0.returncode == default.returncode == 0
    assert ring0.stdout == default.stdout
    assert files_in(tmp_path / "a") == files_in(tmp_path / "b")


def test_program_runs_in_the_ring_the_vmm_chose(kvm, build_program, tmp_path):
    # The program exits with the privilege level it reads from CS.
    vm = run([REFERENCE, "--verbose", build_program("privilege_level")], cwd=tmp_path)

    chosen = int(vm.stderr.split("vm_manager: ring ")[1][0])
    assert vm.returncode == chosen


def test_verbose_says_which_ring_and_why(kvm, tmp_path):
    vm = run([REFERENCE, "--verbose"], cwd=tmp_path)

    assert vm.returncode == 0
    ring_lines = [line for line in vm.stderr.splitlines() if "ring" in line]
    assert ring_lines and ring_lines[0].startswith("vm_manager: ring ")


def elf_load_segments(path):
    """(start, end, access) of each PT_LOAD segment, read from the ELF file itself."""
    import struct
    data = path.read_bytes()
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    segments = []
    for i in range(phnum):
        p_type, flags, _, vaddr, _, _, memsz, _ = struct.unpack_from("<IIQQQQQQ", data,
                                                                     phoff + i * phentsize)
        if p_type == 1:  # PT_LOAD; PF_X = 1, PF_W = 2, PF_R = 4
            access = "".join(c if flags & bit else "-" for c, bit in zip("rwx", (4, 2, 1)))
            segments.append((vaddr, vaddr + memsz, access + " user"))
    return segments


def test_memory_map_shows_where_everything_was_loaded_and_its_access(kvm, tmp_path):
    result = run([REFERENCE, "--memory-map"], cwd=tmp_path)

    assert result.returncode == 0
    regions = [(int(start, 16), int(end, 16), f"{permissions} {who}", what) for
               start, end, permissions, who, what in
               (line.split(None, 4) for line in result.stdout.splitlines()
                if not line.startswith("#"))]
    assert [(s, e, access) for s, e, access, what in regions if what == "program segment"] == \
        elf_load_segments(LAB_APP)
    assert [(s, e, access) for s, e, access, what in regions if what.startswith("boot image")] \
        == [(0x8000, 0x8000 + BOOT.stat().st_size, "rwx kernel")]
    assert [access for _, _, access, what in regions if what.startswith("page 0")] == ["rw- user"]
    assert [access for _, _, access, what in regions if what.startswith("page tables")] == \
        ["--- unmapped"]
    assert all(a[1] <= b[0] for a, b in zip(regions, regions[1:])), "regions overlap"
    assert regions[-1][1] == 8 << 20  # the stack ends at the end of guest memory
    assert regions[-1][2] == "rw- user"
    assert not (tmp_path / "ay_caramba").exists()  # nothing ran
