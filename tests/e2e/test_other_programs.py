"""Programs other than the lab's run under the reference VMM as they do natively."""
import pytest

from helpers import run_natively_and_in_reference, without_buffer_addresses


def test_someone_elses_program_behaves_as_natively(kvm, build_program, tmp_path):
    program = build_program("copy_args")
    args = ["out.txt", "first line", "--not-an-option", "ünïcödé"]

    native, vm, expected, trace, native_files, vm_files = run_natively_and_in_reference(program, args, tmp_path)

    assert native.returncode == 1 + len(args)  # the program checked its own calls
    assert vm.returncode == native.returncode, vm.stderr
    assert vm.stdout == native.stdout
    assert vm_files == native_files
    assert without_buffer_addresses(trace) == without_buffer_addresses(expected)


@pytest.mark.parametrize("status", [0, 1, 42, 255])
def test_vmm_exits_with_the_programs_status(kvm, build_program, tmp_path, status):
    native, vm, _, trace, _, _ = run_natively_and_in_reference(build_program("exit_status"), [str(status)],
                                              tmp_path)

    assert native.returncode == status
    assert vm.returncode == status, vm.stderr
    assert trace[-1] == f"EXIT {status}"
