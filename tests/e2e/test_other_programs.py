"""Programs other than the lab's run under the reference VMM as they do natively."""
import pytest

from helpers import REFERENCE, files_in, native_run, native_strace, run, without_buffer_addresses


def run_both(program, args, tmp_path):
    native_dir, vm_dir = tmp_path / "native", tmp_path / "vm"
    native_dir.mkdir()
    vm_dir.mkdir()
    log, native = native_run(program, args, native_dir)
    vm = run([REFERENCE, "--trace", ".trace", program, *args], cwd=vm_dir)
    trace = (vm_dir / ".trace").read_text().splitlines()
    (vm_dir / ".trace").unlink()
    return native, vm, native_strace.trace_lines(log), trace, files_in(native_dir), files_in(vm_dir)


def test_someone_elses_program_behaves_as_natively(kvm, build_program, tmp_path):
    program = build_program("copy_args")
    args = ["out.txt", "first line", "--not-an-option", "ünïcödé"]

    native, vm, expected, trace, native_files, vm_files = run_both(program, args, tmp_path)

    assert native.returncode == 1 + len(args)  # the program checked its own calls
    assert vm.returncode == native.returncode, vm.stderr
    assert vm.stdout == native.stdout
    assert vm_files == native_files
    assert without_buffer_addresses(trace) == without_buffer_addresses(expected)


@pytest.mark.parametrize("status", [0, 1, 42, 255])
def test_vmm_exits_with_the_programs_status(kvm, build_program, tmp_path, status):
    native, vm, _, trace, _, _ = run_both(build_program("exit_status"), [str(status)],
                                              tmp_path)

    assert native.returncode == status
    assert vm.returncode == status, vm.stderr
    assert trace[-1] == f"EXIT {status}"
