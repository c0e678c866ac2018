"""make check, as a student runs it: test by test, the score, and an exit
status of 0 only at full marks. Also as in a handout, without the reference."""
import shutil

import pytest

from grader.tests.conftest import KIT, OUT, fresh, grader
from grader.tests.submissions import REFERENCE, wrong_fd

STEP2 = ["Step 2: the OPEN call", "Step 2: the WRITE calls", "Step 2: the CLOSE call",
         "Step 2: the EXIT call", "Step 2: the whole trace, exactly",
         "Step 2: the files it leaves", "Step 2: the VMM exits with the program's exit status"]


def lab_copy(name, manager=None):
    """A copy of the kit's lab2/, with another manager.cpp if given."""
    lab = fresh(name) / "lab2"
    shutil.copytree(KIT / "lab2", lab, ignore=shutil.ignore_patterns("vm_src"))
    if manager is not None:
        (lab / "vm_manager" / "manager.cpp").write_text(manager)
    return lab


def blocks(stdout):
    """{test title: the lines printed under it}."""
    found, current = {}, None
    for line in stdout.splitlines():
        if line[:7].strip() in ("OK", "FAIL", "PART", "SKIP", "NOT RUN", "ERROR") and "/" in line:
            current = line[16:]
            found[current] = [line]
        elif current is not None and line.startswith("      "):
            found[current].append(line)
        else:
            current = None
    return found


def test_check_on_the_kit_as_committed_gives_the_build_points_only(kvm_and_sandbox):
    check = grader("check", "--out", OUT / "check-kit")

    assert check.returncode == 1, check.stdout + check.stderr
    assert "Score: 10/60" in check.stdout
    printed = blocks(check.stdout)
    assert printed["Build: manager.cpp builds with the kit's flags"][0].startswith("OK")
    for title in STEP2:
        lines = next(lines for name, lines in printed.items() if name.startswith(title))
        assert lines[0].startswith("FAIL") and len(lines) > 1, lines  # and says why
    assert "KVM_EXIT_HLT" in check.stdout and "handle_syscall()" in check.stdout
    assert "Hidden" not in "".join(printed)


def test_check_with_the_reference_gives_full_marks(kvm_and_sandbox):
    lab = lab_copy("check-reference", REFERENCE.read_text())

    check = grader("check", "--lab", lab, "--out", OUT / "check-reference")

    assert check.returncode == 0, check.stdout + check.stderr
    assert "Score: 60/60" in check.stdout
    assert "FAIL" not in check.stdout


@pytest.mark.parametrize("oracle", ["auto", "native"])
def test_check_counts_step3_once_app_guess_does_something(kvm_and_sandbox, oracle):
    lab = lab_copy(f"check-step3-{oracle}", REFERENCE.read_text())
    shutil.copy(KIT / "vm_src" / "src" / "app.c", lab / "app_guess.c")

    check = grader("check", "--lab", lab, "--out", OUT / f"check-step3-{oracle}",
                   "--oracle", oracle)

    assert check.returncode == 0, check.stdout + check.stderr
    assert "Score: 75/75" in check.stdout
    if oracle == "native":
        assert "natively under strace" in check.stdout


def test_check_without_the_reference_compares_with_native_runs(kvm_and_sandbox, lab_trace):
    lab = lab_copy("check-native", wrong_fd(REFERENCE.read_text(), lab_trace))

    check = grader("check", "--lab", lab, "--out", OUT / "check-native", "--oracle", "native")

    assert check.returncode == 1
    assert "natively under strace" in check.stdout
    assert "expected (native run)" in check.stdout
    assert "| wrong: fd" in check.stdout and "| matching" in check.stdout
    assert "Score: 46/60" in check.stdout


def test_without_kvm_check_takes_the_emulated_machine_and_says_the_same(kvm_and_sandbox):
    """With no usable /dev/kvm, make check grades in the emulated machine by
    itself, says so, and prints the same test lines as on KVM."""
    lab = lab_copy("check-no-kvm", REFERENCE.read_text())
    shutil.copy(KIT / "vm_src" / "src" / "app.c", lab / "app_guess.c")

    with_kvm = grader("check", "--lab", lab, "--out", OUT / "check-kvm")
    without = grader("check", "--lab", lab, "--out", OUT / "check-no-kvm",
                     env={"GRADER_NO_KVM": "1"})

    assert without.returncode == 0, without.stdout + without.stderr
    assert "Graded on the emulated AMD-V machine" in without.stdout
    assert "Graded on this machine's KVM" in with_kvm.stdout
    assert blocks(without.stdout) == blocks(with_kvm.stdout)
    assert "Score: 75/75" in without.stdout
