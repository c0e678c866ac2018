"""The handout's sample programs (lab2/samples/) do under the reference VMM,
on KVM, what they do natively: the same trace as strace shows, the same files,
standard output and exit status. That is what a student compares their own
VMM's runs with, so each sample must hold it. They are not the grader's
hidden programs, and differ from them."""
import re

import pytest

from grader import kit
from helpers import (KIT, files_in, native_run, native_strace, run_natively_and_in_reference,
                     without_buffer_addresses)

SAMPLES = KIT / "lab2" / "samples"
HIDDEN = KIT / "grader" / "programs"


def samples():
    return sorted(SAMPLES.glob("*.c"))


def arguments(source):
    """The arguments of its `// arguments:` line, as the grader reads them."""
    return kit.program_arguments(source.read_text())


def same_trace(expected, actual):
    """Line by line; a WRITE whose native buffer is on the native stack (which
    is elsewhere in the VM: strace.trace_lines() shows its address as *) is
    compared without its address. Buffers in the program's data are at the
    same address in both runs, and compared."""
    if len(expected) != len(actual):
        return False
    for wanted, line in zip(expected, actual):
        if wanted.startswith("WRITE ") and wanted.split()[2] == "*":
            line = without_buffer_addresses([line])[0]
        if wanted != line:
            return False
    return True


def test_samples_show_what_they_are_for(build_program, tmp_path):
    """Natively, together: other files, two at once, EFAULT for a buffer and for
    a path, EBADF, output on standard output, arguments, a status other than 0."""
    traces, statuses, outputs, files = [], [], [], {}
    for source in samples():
        directory = tmp_path / source.stem
        directory.mkdir()
        log, native = native_run(build_program(source, "-Wextra"), arguments(source), directory)
        traces += native_strace.trace_lines(log)
        statuses.append(native.returncode)
        outputs.append(native.stdout)
        files.update(files_in(directory))
    assert len(samples()) >= 4
    assert any(line.startswith("WRITE") and line.endswith("return -14") for line in traces)
    assert any(line.startswith("OPEN (bad address)") for line in traces)
    assert any(line.endswith("return -9") for line in traces)
    assert any(line.startswith("OPEN") and line.endswith("return 4") for line in traces)
    assert "ay_caramba" not in files and len(files) >= 4
    assert any(outputs) and any(statuses) and any(arguments(s) for s in samples())


def test_samples_are_not_the_hidden_programs():
    hidden = {source.stem: source.read_text() for source in HIDDEN.glob("*.c")}
    if not hidden:
        pytest.skip("the grader's hidden programs are not in this kit")
    for source in samples():
        assert source.stem not in hidden, f"{source.name} is the name of a hidden program"
        # No file name, text or argument of a hidden program either.
        quoted = set(re.findall(r'"([^"]{4,})"', source.read_text()))
        for name, text in hidden.items():
            assert not quoted & set(re.findall(r'"([^"]{4,})"', text)), (
                f"{source.name} shares a string with the hidden {name}.c")


@pytest.mark.parametrize("source", samples(), ids=lambda p: p.stem)
def test_sample_runs_in_the_vm_as_natively(kvm, build_program, tmp_path, source):
    native, vm, expected, trace, native_files, vm_files = run_natively_and_in_reference(
        build_program(source, "-Wextra"), arguments(source), tmp_path)

    assert same_trace(expected, trace), (
        "strace shows:\n" + "\n".join(expected) + "\nthe reference VMM prints:\n" +
        "\n".join(trace))
    assert vm.returncode == native.returncode, vm.stderr
    assert vm.stdout == native.stdout
    assert vm_files == native_files
