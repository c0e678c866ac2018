"""vm_manager --gdb: a real gdb (gdb -batch) debugging the lab program on real
KVM. The expected values come from the reference run without gdb and from
the kernel (the system-call numbers strace shows)."""
import re
import signal
import socket
import struct
import subprocess
import time

import pytest

from gdb_session import SYSTEM_CALLS_SESSION, free_port, gdb_command, printed_values, \
    run_under_gdb
from helpers import KIT, LAB_APP, REFERENCE, files_in, on_pvm, run


@pytest.fixture
def without_gdb(kvm, tmp_path_factory):
    """The reference's trace and files for the lab program, no debugger."""
    directory = tmp_path_factory.mktemp("without_gdb")
    result = run([REFERENCE], cwd=directory)
    assert result.returncode == 0, result.stderr
    return result.stdout, files_in(directory)


def test_break_at_syscall_entry_reads_each_system_call_then_the_program_finishes(
        without_gdb, tmp_path):
    gdb, vmm = run_under_gdb([REFERENCE], SYSTEM_CALLS_SESSION, tmp_path)

    # musl's start-up: arch_prctl (158), set_tid_address (218); then open (2).
    assert printed_values(gdb.stdout) == ["158", "218", "2"], gdb.stdout + gdb.stderr
    assert "exited normally" in gdb.stdout, gdb.stdout
    # System calls went on being handled while gdb was attached: same trace, same file.
    trace, files = without_gdb
    assert vmm.returncode == 0, vmm.stderr
    assert vmm.stdout == trace
    assert files_in(tmp_path)["ay_caramba"] == files["ay_caramba"]


def test_control_registers_name_the_bits_boot_asm_set(kvm, tmp_path):
    gdb, vmm = run_under_gdb([REFERENCE], [
        "mode", "break start64", "continue", "info registers cr0 cr4 efer", "mode", "kill"],
        tmp_path)

    output = gdb.stdout + gdb.stderr  # gdb -batch prints monitor output on stderr
    assert "real mode (16-bit), ring 0" in output, output
    assert "Breakpoint 1, start64 () at boot.asm" in output
    assert "long mode (64-bit), ring 0" in output
    cr0 = next(line for line in output.splitlines() if line.startswith("cr0"))
    cr4 = next(line for line in output.splitlines() if line.startswith("cr4"))
    efer = next(line for line in output.splitlines() if line.startswith("efer"))
    assert {"PE", "PG", "MP", "NE"} <= set(cr0.split("[")[1].split()), cr0
    assert {"PAE", "OSFXSR", "OSXMMEXCPT"} <= set(cr4.split("[")[1].split()), cr4
    assert {"LME", "LMA", "SCE"} <= set(efer.split("[")[1].split()), efer
    assert vmm.returncode == 137 and "killed from gdb" in vmm.stderr


def test_stepping_over_the_hlt_of_a_system_call_carries_the_call_out(without_gdb, tmp_path):
    gdb, vmm = run_under_gdb([REFERENCE], [
        "break syscall_entry", "continue", "delete", "stepi", "stepi", "info registers rip",
        "continue"], tmp_path)

    # hlt, then `jmp [syscall_return]`, then the ring-0 or ring-3 return path.
    assert "jmp [syscall_return]" in gdb.stdout, gdb.stdout + gdb.stderr
    assert "return_to_ring" in gdb.stdout
    assert vmm.returncode == 0 and vmm.stdout == without_gdb[0], vmm.stderr


def test_three_steps_from_syscall_entry_return_after_the_programs_syscall(without_gdb,
                                                                          tmp_path):
    # hlt, jmp [syscall_return], then jmp rcx (ring 0) or o64 sysret (ring 3):
    # the first system call, arch_prctl, comes from __set_thread_area.
    gdb, vmm = run_under_gdb([REFERENCE], [
        "break syscall_entry", "continue", "delete", "stepi", "stepi", "stepi", "print/x $pc",
        "mode", "continue"], tmp_path)

    disassembly = run(["objdump", "-d", LAB_APP], cwd=tmp_path).stdout
    function = disassembly.split("<__set_thread_area>:", 1)[1].split("\n\n", 1)[0]
    syscall = int(re.search(r"^ +([0-9a-f]+):\t0f 05 ", function, flags=re.M).group(1), 16)
    assert printed_values(gdb.stdout) == [hex(syscall + 2)], gdb.stdout + gdb.stderr
    assert f"ring {0 if on_pvm() else 3}" in gdb.stderr
    assert vmm.returncode == 0 and vmm.stdout == without_gdb[0], vmm.stderr


def test_hardware_breakpoint_stops_at_each_system_call_too(without_gdb, tmp_path):
    gdb, vmm = run_under_gdb([REFERENCE], [
        "hbreak syscall_entry", "continue", "print $rax", "continue", "print $rax", "delete",
        "continue"], tmp_path)

    assert printed_values(gdb.stdout) == ["158", "218"], gdb.stdout + gdb.stderr
    assert "Hardware assisted breakpoint 1 at" in gdb.stdout
    assert "Breakpoint 1, syscall_entry ()" in gdb.stdout
    assert vmm.returncode == 0 and vmm.stdout == without_gdb[0], vmm.stderr


def test_more_breakpoints_than_debug_registers_stop_too(without_gdb, tmp_path):
    # Four hardware breakpoints take the four debug registers: the fifth
    # breakpoint is an int3 alone.
    unused = [f"hbreak *{0x100 + 16 * n:#x}" for n in range(4)]
    gdb, vmm = run_under_gdb([REFERENCE], [
        *unused, "break syscall_entry", "continue", "print $rax", "continue", "print $rax",
        "delete", "continue"], tmp_path)

    assert printed_values(gdb.stdout) == ["158", "218"], gdb.stdout + gdb.stderr
    assert vmm.returncode == 0 and vmm.stdout == without_gdb[0], vmm.stderr


def test_programs_own_int3_is_a_crash_even_with_gdb_breakpoints_elsewhere(kvm, tmp_path):
    own_int3 = KIT / "tests" / "hostile" / "programs" / "own_int3.c"
    program = run(["musl-gcc", "-static", "-O2", "-o", tmp_path / "own_int3", own_int3],
                  cwd=tmp_path)
    assert program.returncode == 0, program.stderr
    gdb, vmm = run_under_gdb([REFERENCE, tmp_path / "own_int3"],
                             ["break syscall_entry", "continue", "delete", "break exit",
                              "continue"], tmp_path, program=tmp_path / "own_int3")

    assert "vm_manager stopped the run" in gdb.stderr, gdb.stdout + gdb.stderr
    assert vmm.returncode == 125, vmm.stderr
    assert "int3" in vmm.stderr.split("\n", 1)[0] + vmm.stderr


def test_detach_lets_the_program_run_to_its_end(without_gdb, tmp_path):
    gdb, vmm = run_under_gdb([REFERENCE], ["break syscall_entry", "continue", "detach"],
                             tmp_path)

    assert vmm.returncode == 0, vmm.stderr
    assert "gdb detached: the program runs on without it" in vmm.stderr
    assert vmm.stdout == without_gdb[0]


def test_a_large_memory_read_is_answered_whole(kvm, tmp_path):
    """gdb reads 12 KiB, more than one reply holds, in as many packets as it
    takes: the lab program's read-only pages, which hold what the ELF file's
    segments hold there (the loader copies them; the rest of fresh memory is 0)."""
    start, size = 0x400000, 12288
    expected = loaded_image(LAB_APP.read_bytes(), start, size)
    gdb, vmm = run_under_gdb([REFERENCE], [
        "break syscall_entry", "continue",
        f"dump binary memory {tmp_path}/pages.bin {start:#x} {start + size:#x}", "kill"],
        tmp_path)

    assert (tmp_path / "pages.bin").read_bytes() == expected, gdb.stdout + gdb.stderr
    assert vmm.returncode == 137


def loaded_image(elf, start, size):
    """[start, start + size) of memory as a static ELF file's PT_LOAD segments
    fill it: their file bytes, zeros elsewhere."""
    image = bytearray(size)
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for i in range(phnum):
        kind, _, offset, vaddr, _, filesz, _, _ = struct.unpack_from(
            "<IIQQQQQQ", elf, phoff + i * phentsize)
        if kind != 1:  # PT_LOAD
            continue
        for address in range(max(vaddr, start), min(vaddr + filesz, start + size)):
            image[address - start] = elf[offset + address - vaddr]
    return bytes(image)


def test_breakpoint_outside_guest_memory_is_refused_and_nothing_is_lost(without_gdb, tmp_path):
    gdb, vmm = run_under_gdb([REFERENCE], [
        "x/x 0x40000000", "break *0x40000000", "continue", "delete", "continue"], tmp_path)

    assert "Cannot access memory at address 0x40000000" in gdb.stderr, gdb.stderr
    assert "Cannot insert breakpoint 1" in gdb.stderr
    assert vmm.returncode == 0 and vmm.stdout == without_gdb[0], vmm.stderr


def test_gdb_gone_mid_session_leaves_the_program_running_to_its_end(without_gdb, tmp_path):
    port = free_port()
    vmm = subprocess.Popen([REFERENCE, "--gdb", str(port)], cwd=tmp_path, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    connection = connect(port)
    connection.sendall(b"$?#3f")  # "why did you stop?", then gone without a word
    reply = b""
    while b"#" not in reply:
        reply += connection.recv(100)
    assert reply.startswith(b"+$S05"), reply
    connection.close()
    stdout, stderr = vmm.communicate(timeout=30)

    assert vmm.returncode == 0, stderr
    assert "gdb disconnected: the program runs on without it" in stderr
    assert stdout == without_gdb[0]
    assert files_in(tmp_path)["ay_caramba"] == without_gdb[1]["ay_caramba"]


def test_ctrl_c_in_gdb_stops_a_spinning_program_and_kill_ends_the_run(kvm, build_program,
                                                                    tmp_path):
    spin = build_program("spin")
    port = free_port()
    vmm = subprocess.Popen([REFERENCE, "--gdb", str(port), spin], cwd=tmp_path, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    gdb = subprocess.Popen(gdb_command(port, ["continue", "print $pc", "kill"], program=spin),
                           cwd=tmp_path, text=True, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    time.sleep(2)  # the program spins in main by now; then Ctrl-C, as in a terminal
    gdb.send_signal(signal.SIGINT)
    output, errors = gdb.communicate(timeout=30)
    vmm.communicate(timeout=30)

    assert "Program received signal SIGINT" in output, output + errors
    assert "<main" in output
    assert vmm.returncode == 137


def test_port_in_use_is_a_clear_error(kvm, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run([REFERENCE, "--gdb", str(port)], cwd=tmp_path)

    assert result.returncode == 125
    assert f"localhost:{port} is already in use" in result.stderr
    assert f"--gdb {port + 1}" in result.stderr


@pytest.mark.parametrize("args, complaint", [
    (["--gdb", "--step"], "cannot be used together"),
    (["--gdb=0"], "between 1 and 65535"),
    (["--gdb", "65536"], "between 1 and 65535"),
    (["--step=many"], "--step"),
])
def test_debugging_options_usage_errors(tmp_path, args, complaint):
    result = run([REFERENCE, *args], cwd=tmp_path)

    assert result.returncode == 2
    assert complaint in result.stderr


def connect(port, attempts=100):
    """Connects to the VMM once it listens."""
    for _ in range(attempts):
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=10)
        except ConnectionRefusedError:
            time.sleep(0.05)
    raise AssertionError(f"vm_manager never listened on port {port}")
