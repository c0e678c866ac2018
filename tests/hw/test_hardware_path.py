"""The path students run: hardware-assisted KVM, the program in ring 3.

This machine's own KVM cannot run it (see README, "Ring 3 and ring 0"), so
these tests boot an emulated x86-64 machine with AMD-V (emulated/run.sh) and
run the kit's checks there (checks.sh), in one boot. The expected trace and
file come from the lab program run natively here under strace."""
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from gdb_session import printed_values, run_gdb_over
from helpers import ARCH_PRCTL, BUILD, KIT, LAB_APP, PROGRAMS, native_run, native_strace, run

HERE = Path(__file__).resolve().parent

BOOT_TIMEOUT = 240  # seconds: boot plus every check, with room for a slow machine

HOSTILE = KIT / "tests" / "hostile" / "programs"
# The programs the checks run: name -> (source, musl-gcc flags besides -static -O3).
GUEST_PROGRAMS = {
    **{name: (PROGRAMS / f"{name}.c", []) for name in
       ["exit_status", "privilege_level", "wild_store", "user_hlt", "vector_sum",
        "user_pointers"]},
    "thread_pointer": (PROGRAMS / "thread_pointer.c", ["-nostdlib", "-fno-stack-protector"]),
    **{name: (HOSTILE / f"{name}.c", []) for name in
       ["null_write", "rodata_write", "forge_exception", "own_int3"]},
}


@pytest.fixture(scope="module")
def payload(tmp_path_factory, reference_variant):
    """The static binaries and the check script, laid out as the kit's build/ is,
    with the programs and the reference's variants the checks run."""
    root = tmp_path_factory.mktemp("payload")
    for part in ["lab2/vm_manager", "solutions/vm_manager", "vm_src/boot.bin", "vm_src/boot.elf",
                 "vm_src/app"]:
        (root / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(BUILD / part, root / part)
    (root / "programs").mkdir()
    for name, (source, flags) in GUEST_PROGRAMS.items():
        result = run(["musl-gcc", "-static", "-O3", *flags, "-o", root / "programs" / name,
                      source], cwd=root)
        assert result.returncode == 0, result.stderr
    (root / "variants").mkdir()
    for name, answer in [("arch_prctl_no_op", "result = 0;"),
                         ("arch_prctl_enosys", "result = -ENOSYS;")]:
        shutil.copy2(reference_variant(name, ARCH_PRCTL, answer), root / "variants" / name)
    shutil.copy2(HERE / "checks.sh", root / "checks.sh")
    return root


@pytest.fixture(scope="module")
def checks(payload, tmp_path_factory):
    """{check name: {"stdout", "stderr", "files", "status"}} from one emulated boot,
    and gdb's output for the check it debugged over the machine's second serial port."""
    serial_path = tmp_path_factory.mktemp("serial") / "ttyS1"
    with socket.socket(socket.AF_UNIX) as serial:
        serial.bind(str(serial_path))
        serial.listen(1)
        serial.settimeout(BOOT_TIMEOUT)
        machine = subprocess.Popen([KIT / "emulated" / "run.sh", "--timeout", str(BOOT_TIMEOUT),
                                    "--serial2", serial_path, payload, "sh", "./checks.sh", "gdb"],
                                   text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            gdb = debug_in_the_machine(serial)
            stdout, stderr = machine.communicate(timeout=BOOT_TIMEOUT + 60)
        finally:
            machine.kill()
            machine.wait()
    machine = subprocess.CompletedProcess(machine.args, machine.returncode, stdout, stderr)
    console = machine.stdout
    assert machine.returncode == 0, (
        f"the emulated machine failed (status {machine.returncode}): {machine.stderr}\n"
        f"its console:\n{console}")
    results = {}
    for section in re.split(r"^@@@ check ", console, flags=re.M)[1:]:
        name, _, body = section.partition("\n")
        parts = dict(re.findall(r"^@@@ (stdout|stderr|files)\n(.*?)(?=^@@@ )", body,
                                flags=re.M | re.S))
        status = int(re.search(r"^@@@ status (\d+)$", body, flags=re.M).group(1))
        files = dict(line.split(" ", 1) for line in parts.get("files", "").splitlines())
        results[name] = {"stdout": parts.get("stdout", ""), "stderr": parts.get("stderr", ""),
                         "files": {k: bytes.fromhex(v) for k, v in files.items()},
                         "status": status}
    results["gdb"]["gdb"] = gdb
    # For the log of make test-hw: what the VMM said about its ring in the machine.
    for line in results.get("reference", {}).get("stderr", "").splitlines():
        if line.startswith("vm_manager: ring"):
            print(f"\n  emulated AMD-V machine: {line}", end="")
    return results


def syscall_instructions(program):
    """{function: [address of each `syscall` in it]}, from objdump."""
    found, function = {}, None
    for line in run(["objdump", "-d", program], cwd=HERE).stdout.splitlines():
        if match := re.match(r"^[0-9a-f]+ <(.+)>:$", line):
            function = match.group(1)
        elif match := re.match(r"^ +([0-9a-f]+):\t[0-9a-f ]+\tsyscall", line):
            found.setdefault(function, []).append(int(match.group(1), 16))
    return found


def cp_syscall():
    """The one `syscall` of musl's __syscall_cp_c, through which the program
    makes open and write (cancellation points)."""
    return syscall_instructions(LAB_APP)["__syscall_cp_c"][0]


def gdb_session():
    """The gdb session in the machine: two steps in real mode; a breakpoint
    in 32-bit code, before boot.asm has an IDT; the acceptance session (a
    breakpoint at syscall_entry, three system calls, then delete and
    continue); on the way, steps over the hlt, the jmp and `o64 sysret` back
    into open() in ring 3, and a step over write()'s `syscall`."""
    return [
        "stepi", "stepi", "mode", "break start32", "continue", "mode", "delete",
        "break syscall_entry", "continue", "print $rax", "continue", "print $rax", "continue",
        "print $rax", "delete", "stepi", "stepi", "stepi", "print/x $pc", "mode",
        f"break *{cp_syscall():#x}", "continue", "stepi", "print/x $r11", "delete", "continue"]


def debug_in_the_machine(serial):
    """A gdb session against vm_manager --gdb in the machine, through
    its serial port, once checks.sh says the VMM listens."""
    port, _ = serial.accept()  # QEMU connects as it starts
    with port:
        ready = b""
        while not ready.endswith(b"@@@ gdb-ready\n"):
            data = port.recv(1)
            assert data, f"the machine closed its serial port before gdb could start: {ready!r}"
            ready += data
        return run_gdb_over(port, gdb_session())


def result_of(checks, name):
    assert name in checks, f"the check {name} did not report; the console is in the log above"
    return checks[name]


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    """The lab program run natively under strace: its calls and its files."""
    directory = tmp_path_factory.mktemp("native")
    log, _ = native_run(LAB_APP, [], directory)
    return native_strace.trace_lines(log), {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


def test_vmm_chooses_ring_3_on_hardware_assisted_kvm(checks):
    reference = result_of(checks, "reference")
    assert "vm_manager: ring 3: hardware-assisted KVM" in reference["stderr"], reference


def test_reference_trace_and_file_in_ring_3_match_the_native_run(checks, native):
    expected, files = native
    reference = result_of(checks, "reference")
    assert reference["status"] == 0, reference
    assert reference["stdout"].splitlines() == expected, reference
    assert reference["files"] == files


def test_ring_0_gives_the_same_trace_and_file_on_hardware_kvm_too(checks):
    ring3, ring0 = result_of(checks, "reference"), result_of(checks, "reference_ring0")
    assert ring0["status"] == 0, ring0
    assert (ring0["stdout"], ring0["files"]) == (ring3["stdout"], ring3["files"])


def test_program_really_runs_in_ring_3(checks):
    # The program reads CS itself after its start-up's system calls: CPL 3
    # means the syscall stub returned it to user mode each time.
    level = result_of(checks, "privilege_level")["status"]
    assert level == 3, (f"the program ran at privilege level {level}, not 3: the syscall stub "
                        "did not return it to user mode")


def test_skeleton_prints_kvm_exit_hlt_for_every_exit_in_ring_3(checks):
    skeleton = result_of(checks, "skeleton")
    assert skeleton["stdout"].splitlines() == ["KVM_EXIT_HLT"] * 200, skeleton
    assert skeleton["status"] == 124


def test_vmm_exits_with_the_programs_status_in_ring_3(checks):
    result = result_of(checks, "exit_status")
    assert result["status"] == 42, result
    assert result["stdout"].splitlines()[-1] == "EXIT 42"


def test_page_fault_in_user_mode_is_explained(checks):
    result = result_of(checks, "wild_store")
    assert result["status"] == 125
    assert re.match(r"vm_manager: guest page fault: write to 0x40000000 \(not present\) "
                    r"at RIP 0x4[0-9a-f]+ in user mode \(ring 3\)", result["stderr"]), result


def test_hlt_in_user_mode_is_a_general_protection_fault(checks):
    result = result_of(checks, "user_hlt")
    assert result["status"] == 125
    assert re.match(r"vm_manager: guest general protection fault \(#GP\) \(error code 0x0\) "
                    r"at RIP 0x4[0-9a-f]+ in user mode \(ring 3\)", result["stderr"]), result
    assert "the program executed hlt, which is not a system call" in result["stderr"]


def test_page_0_is_unmapped_once_the_program_sets_its_thread_pointer_in_ring_3(checks):
    result = result_of(checks, "thread_pointer")
    assert result["status"] == 125, result  # 1: the second read of page 0 worked
    assert result["stderr"].startswith("vm_manager: guest page fault: read from 0x28 (not "
                                       "present) at RIP 0x4"), result


def test_null_pointer_and_rodata_writes_fault_in_ring_3(checks):
    null, rodata = result_of(checks, "null_write"), result_of(checks, "rodata_write")
    assert re.match(r"vm_manager: guest page fault: write to 0x0 \(not present\) .* in user "
                    r"mode \(ring 3\); a NULL pointer", null["stderr"]), null
    assert re.match(r"vm_manager: guest page fault: write to 0x402[0-9a-f]+ \(protection "
                    r"violation\) .* in user mode \(ring 3\); the address is in a program "
                    r"segment 0x402000-0x402[0-9a-f]+ \(r-- user\), which is read-only",
                    rodata["stderr"]), rodata


def test_ring_3_cannot_forge_an_exception_report(checks):
    out, jump = result_of(checks, "forge_out"), result_of(checks, "forge_jump")
    assert out["stderr"].startswith("vm_manager: guest general protection fault (#GP)"), out
    assert re.match(r"vm_manager: guest page fault: read from 0x8020 \(protection violation\) "
                    r".*the boot image .*which only ring 0 may use", jump["stderr"]), jump
    assert "details come from the guest" not in out["stderr"] + jump["stderr"]


def test_arch_prctl_as_a_no_op_runs_the_lab_program_exactly_in_ring_3(checks, native):
    # Page 0 stays the thread area for ring 3 too: musl reads its canary at FS:0x28.
    expected, files = native
    result = result_of(checks, "arch_prctl_no_op")
    assert result["status"] == 0, result
    assert result["stdout"].splitlines() == expected
    assert result["files"] == files


def test_arch_prctl_refused_is_explained_in_ring_3(checks):
    result = result_of(checks, "arch_prctl_enosys")
    assert result["status"] == 125, result
    assert result["stderr"].startswith("vm_manager: guest general protection fault (#GP)")
    assert "arch_prctl(ARCH_SET_FS) fails (RAX holds the last result, -38: -ENOSYS)" \
        in result["stderr"]


def test_pointers_reach_only_what_the_program_may_use_in_ring_3(checks, build_program, tmp_path):
    # As in tests/e2e/test_user_memory.py: the results and the file are Linux's.
    native = run([build_program("user_pointers")], cwd=tmp_path)
    result = result_of(checks, "user_pointers")
    assert result["status"] == 0, result
    assert result["stdout"] == native.stdout
    assert result["files"] == {"file": (tmp_path / "file").read_bytes()}


def test_sse_instructions_run_in_ring_3(checks, build_program, tmp_path):
    # vector_sum's loops are vectorized (paddd, ...): boot.asm must have enabled SSE.
    native = run([build_program("vector_sum", "-O3")], cwd=tmp_path)
    result = result_of(checks, "vector_sum")
    assert result["status"] == native.returncode, result


def test_gdb_steps_the_boot_in_real_mode(checks):
    gdb = result_of(checks, "gdb")["gdb"]
    source = (KIT / "vm_src" / "src" / "boot.asm").read_text().splitlines()
    first = source.index("start16:") + 2  # its first instruction, counted from 1
    assert f"start16 () at boot.asm:{first}" in gdb.stdout, gdb.stdout + gdb.stderr
    assert "real mode (16-bit), ring 0" in gdb.stdout + gdb.stderr


def test_gdb_breakpoint_stops_in_32_bit_code_before_boot_asm_has_an_idt(checks):
    # An int3 there would go through the vector table at address 0: until
    # boot.asm loads its IDT in long mode, a continue goes by single steps.
    gdb = result_of(checks, "gdb")["gdb"]
    assert "Breakpoint 1, start32 () at boot.asm" in gdb.stdout, gdb.stdout + gdb.stderr
    assert "protected mode (32-bit), ring 0" in gdb.stdout + gdb.stderr


def test_gdb_breakpoint_reads_each_system_call_then_the_program_finishes_in_ring_3(checks,
                                                                                  native):
    # The acceptance session, in the machine: QEMU gives the guest the int3 of
    # the breakpoint, boot.asm reports a #BP, the stub takes it for gdb's stop.
    result = result_of(checks, "gdb")
    gdb = result["gdb"]
    assert printed_values(gdb.stdout)[:3] == ["158", "218", "2"], gdb.stdout + gdb.stderr
    assert gdb.stdout.count("Breakpoint 2, syscall_entry () at boot.asm") == 3
    assert "exited normally" in gdb.stdout
    expected, files = native
    assert result["status"] == 0, result
    assert result["stdout"].splitlines() == expected
    assert result["files"] == files


def test_gdb_steps_over_sysret_back_into_the_program_in_ring_3(checks):
    # hlt (open is carried out), jmp [syscall_return], o64 sysret: the step
    # over sysret ends after the `syscall` open() was made with, in ring 3.
    gdb = result_of(checks, "gdb")["gdb"]
    assert printed_values(gdb.stdout)[3] == hex(cp_syscall() + 2), gdb.stdout + gdb.stderr
    assert "long mode (64-bit), ring 3" in gdb.stdout + gdb.stderr


def test_gdb_step_over_syscall_leaves_no_trap_flag_in_r11(checks):
    # syscall saves RFLAGS in R11: the TF of KVM's step must not be among them,
    # or sysret would set it in the program and a #DB would crash it.
    gdb = result_of(checks, "gdb")["gdb"]
    assert "syscall_entry () at boot.asm" in gdb.stdout.split(f"{cp_syscall():#x}")[-1]
    r11 = int(printed_values(gdb.stdout)[4], 16)
    assert r11 & 0x100 == 0 and r11 & 0x2, gdb.stdout


def test_step_narrates_sysret_into_ring_3(checks):
    # --step single-steps boot.asm; its `o64 sysret` into the program runs to
    # a temporary int3 at the program's entry point (QEMU raises no #DB after it).
    result = result_of(checks, "step_ring3")
    assert result["status"] == 0, result
    before, after = result["stderr"].split("boot.asm is done: the program starts at ", 1)
    assert "ring 0 -> ring 3" in before, before[-2000:]
    assert re.search(r"sysret +boot\.asm:\d+", before), before[-2000:]
    assert len([line for line in after.splitlines() if re.match(r"^  0x40", line)]) == 3, after


def test_programs_own_int3_is_an_explained_breakpoint_exception_in_ring_3(checks):
    result = result_of(checks, "own_int3")
    assert result["status"] == 125, result
    assert re.match(r"vm_manager: guest breakpoint \(#BP, int3\) at RIP 0x40[0-9a-f]+ in user "
                    r"mode \(ring 3\)", result["stderr"]), result
    assert "a breakpoint instruction, where no debugger had put one" in result["stderr"]
