"""arch_prctl(ARCH_SET_FS): page 0 stands in for the thread area until the
program sets its thread pointer, and is unmapped from then on. A VMM that
keeps arch_prctl a no-op, as the original course's answer does, still runs the
lab program exactly; one that refuses it gets musl's deliberate crash,
explained."""
from helpers import (ARCH_PRCTL, BOOT, LAB_APP, REFERENCE, files_in, native_run, native_strace,
                     on_pvm, run)


def test_page_0_is_unmapped_once_the_program_sets_its_thread_pointer(kvm, build_program,
                                                                     tmp_path):
    # The program reads page 0 (so the vCPU caches its translation), sets its
    # thread pointer, checks FS, then reads page 0 again: that read must fault.
    program = build_program("thread_pointer", "-nostdlib", "-fno-stack-protector")

    result = run([REFERENCE, program], cwd=tmp_path)

    assert result.returncode == 125, f"status {result.returncode} (see the program)\n{result.stderr}"
    first = result.stderr.splitlines()[0]
    assert first.startswith("vm_manager: guest page fault: read from 0x28 (not present)"), first
    assert "a NULL pointer" in first


def test_arch_prctl_as_a_no_op_still_runs_the_lab_program_exactly(kvm, reference_variant,
                                                                   tmp_path):
    vmm = reference_variant("arch_prctl_no_op", ARCH_PRCTL, "result = 0;")
    native_dir, vm_dir = tmp_path / "native", tmp_path / "vm"
    native_dir.mkdir()
    vm_dir.mkdir()
    log, _ = native_run(LAB_APP, [], native_dir)

    vm = run([vmm, "--boot", BOOT, LAB_APP], cwd=vm_dir)

    assert vm.returncode == 0, vm.stderr
    assert vm.stdout.splitlines() == native_strace.trace_lines(log)
    assert files_in(vm_dir) == files_in(native_dir)


def test_arch_prctl_refused_ends_in_musls_crash_explained(kvm, reference_variant, tmp_path):
    vmm = reference_variant("arch_prctl_enosys", ARCH_PRCTL, "result = -ENOSYS;")

    result = run([vmm, "--boot", BOOT, LAB_APP], cwd=tmp_path)

    assert result.returncode == 125
    first = result.stderr.splitlines()[0]
    if on_pvm():  # ring 0: the VMM sees the `hlt` itself
        assert first.startswith("vm_manager: the guest executed hlt at 0x40"), first
        assert "outside boot.asm's system-call entry point" in first
    else:  # ring 3: hlt is privileged
        assert first.startswith("vm_manager: guest general protection fault (#GP)"), first
    assert "musl's a_crash()" in result.stderr
    assert "arch_prctl(ARCH_SET_FS) fails (RAX holds the last result, -38: -ENOSYS)" \
        in result.stderr
    assert not (tmp_path / "ay_caramba").exists()
