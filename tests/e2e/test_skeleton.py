"""The student's skeleton, as committed, behaves as Step 1 of the lab says:
every system call of the program shows up as a KVM_EXIT_HLT, forever."""
import signal
import subprocess
import time

from helpers import SKELETON, run


def test_skeleton_prints_kvm_exit_hlt_for_every_exit(kvm, tmp_path):
    vm = run([SKELETON, "--max-exits", "300"], cwd=tmp_path)

    assert vm.stdout.splitlines() == ["KVM_EXIT_HLT"] * 300
    assert vm.returncode == 124
    assert vm.stderr.strip() == ("vm_manager: stopped by --max-exits 300: "
                                 "the guest was still running")


def test_skeleton_never_ends_and_ctrl_c_stops_it_with_a_summary(kvm, tmp_path):
    vm = subprocess.Popen([SKELETON], cwd=tmp_path, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    assert vm.poll() is None  # still running: the program never ends
    vm.send_signal(signal.SIGINT)
    stdout, stderr = vm.communicate(timeout=10)

    exits = stdout.splitlines()
    assert len(exits) > 100 and set(exits) == {"KVM_EXIT_HLT"}
    assert vm.returncode == 130
    summary = stderr.strip()
    assert summary.startswith("vm_manager: stopped by Ctrl-C after ")
    # the summary counts the exits it printed (plus at most the interrupted one)
    counted = int(summary.split(" after ")[1].split()[0])
    assert counted in (len(exits), len(exits) + 1)


def test_skeleton_creates_no_file(kvm, tmp_path):
    run([SKELETON, "--max-exits", "50"], cwd=tmp_path)

    assert list(tmp_path.iterdir()) == []
