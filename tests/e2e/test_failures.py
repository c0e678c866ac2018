"""Bad input and misbehaving guests: one clear message, the right exit status."""
import shutil
import signal
import subprocess
import time

import pytest

from helpers import LAB_APP, REFERENCE, on_pvm, run


def message(result):
    """The VMM's message: its first stderr line, without the program name."""
    first = result.stderr.splitlines()[0]
    assert first.startswith("vm_manager: ")
    return first[len("vm_manager: "):]


# --- the command line: status 2 ----------------------------------------------------

@pytest.mark.parametrize("args, complaint", [
    (["--mem", "3M"], "multiple of 2M"),
    (["--mem", "lots"], "--mem"),
    (["--ring", "1"], "--ring is 0 or 3"),
    (["--timeout", "0"], "--timeout"),
    (["--timeout", "0.0000001"], "--timeout wants a number of seconds from 0.001"),
    (["--timeout", "1e300"], "to 9223372036 (what the timer holds)"),
    (["--disk-quota", "lots"], "--disk-quota wants a size"),
    (["--max-exits", "many"], "--max-exits"),
    (["--frobnicate"], "unknown option --frobnicate"),
    (["--trace"], "needs a value"),
])
def test_usage_errors_exit_2_with_a_message(tmp_path, args, complaint):
    result = run([REFERENCE, *args], cwd=tmp_path)

    assert result.returncode == 2
    assert complaint in message(result)


def test_help_documents_every_option_and_exits_0(tmp_path):
    result = run([REFERENCE, "--help"], cwd=tmp_path)

    assert result.returncode == 0
    for option in ["--boot", "--mem", "--workdir", "--disk-quota", "--trace", "--max-exits",
                   "--timeout", "--ring", "--verbose", "124", "125"]:
        assert option in result.stdout


# --- bad programs and boot images: status 125, nothing run -----------------------

def test_missing_program_is_named(kvm, tmp_path):
    result = run([REFERENCE, "no-such-program"], cwd=tmp_path)

    assert result.returncode == 125
    assert "no-such-program" in message(result) and "No such file" in message(result)


def test_dynamically_linked_program_is_refused(kvm, build_program, tmp_path):
    program = build_program("exit_status", "-no-pie", compiler="gcc")

    result = run([REFERENCE, program], cwd=tmp_path)

    assert result.returncode == 125
    assert "dynamically linked" in message(result)
    assert "musl-gcc -static" in message(result)


def test_position_independent_program_is_refused(kvm, build_program, tmp_path):
    program = build_program("exit_status", "-static-pie", compiler="gcc")

    result = run([REFERENCE, program], cwd=tmp_path)

    assert result.returncode == 125
    assert "position-independent" in message(result)


def test_truncated_program_is_refused(kvm, tmp_path):
    truncated = tmp_path / "truncated"
    truncated.write_bytes(LAB_APP.read_bytes()[:100])

    result = run([REFERENCE, truncated], cwd=tmp_path)

    assert result.returncode == 125
    assert "truncated" in message(result)


def test_text_file_is_not_an_elf(kvm, tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n")

    result = run([REFERENCE, "notes.txt"], cwd=tmp_path)

    assert result.returncode == 125
    assert "not an ELF file" in message(result)


def test_program_too_big_for_guest_memory_suggests_mem(kvm, build_program, tmp_path):
    program = build_program("big_bss")

    small = run([REFERENCE, program], cwd=tmp_path)
    large = run([REFERENCE, "--mem", "32M", program], cwd=tmp_path)

    assert small.returncode == 125
    assert "does not fit" in message(small) and "--mem" in message(small)
    assert large.returncode == 0, large.stderr


def test_wrong_boot_image_is_refused(kvm, tmp_path):
    result = run([REFERENCE, "--boot", LAB_APP], cwd=tmp_path)

    assert result.returncode == 125
    assert "SCRATCHV" in message(result)


def test_missing_default_boot_image_says_to_build(kvm, tmp_path):
    # A copy of the kit's build without boot.bin: the default path is beside vm_manager.
    (tmp_path / "solutions").mkdir()
    (tmp_path / "vm_src").mkdir()
    shutil.copy(REFERENCE, tmp_path / "solutions")
    shutil.copy(LAB_APP, tmp_path / "vm_src")

    result = run([tmp_path / "solutions" / "vm_manager"], cwd=tmp_path)

    assert result.returncode == 125
    assert "boot.bin" in message(result) and "make" in result.stderr


# --- guests that crash or never end -------------------------------------------

def test_guest_that_faults_gets_a_crash_report(kvm, build_program, tmp_path):
    result = run([REFERENCE, build_program("wild_store")], cwd=tmp_path)

    assert result.returncode == 125
    assert message(result).startswith("guest page fault: write to 0x40000000 (not present) "
                                      "at RIP 0x4")  # the faulting instruction is in the program
    assert "past the end of guest memory" in message(result)
    assert "CR2 0x40000000" in result.stderr
    assert "bytes at RIP: c7" in result.stderr  # mov to memory: the store itself
    assert "hint:" in result.stderr


def test_spinning_guest_is_stopped_by_timeout(kvm, build_program, tmp_path):
    result = run([REFERENCE, "--timeout", "0.5", build_program("spin")], cwd=tmp_path)

    assert result.returncode == 124
    assert message(result).startswith("stopped by --timeout")


def test_spinning_guest_is_stopped_by_ctrl_c(kvm, build_program, tmp_path):
    vm = subprocess.Popen([REFERENCE, build_program("spin")], cwd=tmp_path,
                          stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    vm.send_signal(signal.SIGINT)
    _, stderr = vm.communicate(timeout=10)

    assert vm.returncode == 130
    assert stderr.startswith("vm_manager: stopped by Ctrl-C")


@pytest.mark.skipif(not on_pvm(), reason="only PVM lacks the ring-3 syscall path")
def test_ring_3_on_pvm_fails_with_one_line_of_explanation(kvm, tmp_path):
    result = run([REFERENCE, "--ring", "3"], cwd=tmp_path)

    assert result.returncode == 125
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert "PVM" in lines[0] and "ring 3" in lines[0]


def test_vectorized_program_runs_or_pvm_limit_is_explained(kvm, build_program, tmp_path):
    program = build_program("vector_sum", "-O3")
    native = run([program], cwd=tmp_path)

    result = run([REFERENCE, program], cwd=tmp_path)

    if on_pvm():  # ring 0 there, where KVM's emulator lacks SSE2 integer instructions
        assert result.returncode == 125
        assert "cannot emulate some SSE instructions" in result.stderr
    else:
        assert result.returncode == native.returncode


# --- /dev/kvm missing or forbidden ------------------------------------------------

def sandboxed(command, *bwrap_options):
    """Runs a command in a bubblewrap sandbox whose /dev is new and has no kvm."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        pytest.skip("bubblewrap (bwrap) is not installed")
    kit = str(REFERENCE.parents[2])
    return run([bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--bind", kit, kit,
                *bwrap_options, *command], cwd="/")


def test_missing_dev_kvm_is_explained():
    result = sandboxed([REFERENCE])

    if "Operation not permitted" in result.stderr and "bwrap" in result.stderr:
        pytest.skip("bubblewrap cannot create a sandbox here")
    assert result.returncode == 125
    assert "/dev/kvm" in message(result)
    assert "no KVM" in result.stderr
