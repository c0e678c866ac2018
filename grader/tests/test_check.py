"""make check, as a student runs it: test by test, the score, and an exit
status of 0 only at full marks. Also as in a handout, without the reference."""
import re
import shutil

import pytest

from grader.machines.kvm import on_pvm
from grader.session.fixtures import BUSYBOX
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
        status = re.match(r"(OK|FAIL|PART|SKIP|ERROR) +\S+/\S+  (.*)", line)
        if status:
            current = status.group(2)
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


# Step 4's practice: the handout's stdio program, and busybox where installed.
STEP4 = ["challenge/stdio_program.c"] + (["busybox seq 3"] if BUSYBOX.exists() else [])
# Samples a student adds: one that prints its arguments and ends with a status
# of its own, one that does not build, one that never ends.
OWN_SAMPLES = {
    "echo_status.c": '// arguments: "two words" 7\n#include <string.h>\n#include <unistd.h>\n'
                     "int main(int argc, char **argv) {\n"
                     "    write(1, argv[1], strlen(argv[1]));\n"
                     "    return argc;\n}\n",
    "typo.c": "int main(void) { return undeclared; }\n",
    "forever.c": "int main(void) { for (;;) { } }\n",
}


def practice(stdout):
    """{sample: [its PRACTICE line and the lines under it]}."""
    found, current = {}, None
    for line in stdout.splitlines():
        if line.startswith("PRACTICE "):
            current = line.removeprefix("PRACTICE ").rsplit(": ", 1)[0]
            found[current] = [line]
        elif current is not None and line.startswith("      "):
            found[current].append(line)
        else:
            current = None
    return found


@pytest.mark.parametrize("oracle", ["auto", "native"])
def test_check_runs_the_samples_as_practice_for_no_points(kvm_and_sandbox, oracle):
    """make check runs every program of the student's samples/ (the handout's
    and their own) in their VMM against the oracle, one PRACTICE line each;
    whatever the samples do, the score and the exit status do not change."""
    lab = lab_copy(f"check-practice-{oracle}", REFERENCE.read_text())
    handout_samples = sorted(p.name for p in (lab / "samples").glob("*.c"))
    for name, text in OWN_SAMPLES.items():
        (lab / "samples" / name).write_text(text)

    check = grader("check", "--lab", lab, "--out", OUT / f"check-practice-{oracle}",
                   "--oracle", oracle)

    assert check.returncode == 0, check.stdout + check.stderr  # full marks all the same
    assert "Score: 60/60" in check.stdout
    printed = practice(check.stdout)
    handout = [f"samples/{n}" for n in handout_samples] + STEP4
    assert set(printed) == {*handout, *(f"samples/{n}" for n in OWN_SAMPLES)}
    for name in [*handout, "samples/echo_status.c"]:
        assert printed[name] == [f"PRACTICE {name}: OK"], check.stdout
    typo = "\n".join(printed["samples/typo.c"])
    assert typo.startswith("PRACTICE samples/typo.c: FAIL") and "undeclared" in typo
    forever = "\n".join(printed["samples/forever.c"])
    assert forever.startswith("PRACTICE samples/forever.c: FAIL")
    assert "did not end by itself" in forever
    feedback = (OUT / f"check-practice-{oracle}" / "feedback.txt").read_text()
    assert "PRACTICE samples/typo.c: FAIL" in feedback
    results = (OUT / f"check-practice-{oracle}" / "results.json").read_text()
    assert "samples/" not in results  # never in the score


def test_a_sample_the_vmm_gets_wrong_fails_as_practice_only(kvm_and_sandbox, lab_trace):
    """A VMM that gets the file descriptors wrong fails the samples that use
    files, saying why, and scores what it scores without samples."""
    manager = wrong_fd(REFERENCE.read_text(), lab_trace)
    with_samples = lab_copy("check-practice-wrong", manager)
    without = lab_copy("check-practice-none", manager)
    shutil.rmtree(without / "samples")
    shutil.rmtree(without / "challenge")

    check = grader("check", "--lab", with_samples, "--out", OUT / "check-practice-wrong")
    plain = grader("check", "--lab", without, "--out", OUT / "check-practice-none")

    printed = practice(check.stdout)
    journal = "\n".join(printed["samples/journal.c"])
    assert journal.startswith("PRACTICE samples/journal.c: FAIL") and "| wrong: fd" in journal
    assert set(practice(plain.stdout)) == set(STEP4) - {"challenge/stdio_program.c"}
    assert check.returncode == plain.returncode == 1
    score = [line for line in check.stdout.splitlines() if line.startswith("Score:")]
    assert score == [line for line in plain.stdout.splitlines() if line.startswith("Score:")]
    assert blocks(check.stdout) == blocks(plain.stdout)


STDIO_GUESS = """#include <stdio.h>

int main(void)
{
    FILE *f = fopen("./ay_caramba", "w");
    fprintf(f, "Hello World !!!\\n");
    fprintf(f, "Bye Bye !!!\\n");
    fclose(f);
    return 0;
}
"""


def test_a_stdio_guess_runs_in_the_reference_and_is_graded_on_its_trace(kvm_and_sandbox):
    """A Step 3 guess written with stdio runs to its end in the reference
    (where PVM cannot run musl's SSE code in ring 0, in the emulated machine,
    saying so) and earns the lines it gets right: its open's file, close and
    exit; its writev is not the lab program's two writes."""
    lab = lab_copy("check-stdio-guess", REFERENCE.read_text())
    (lab / "app_guess.c").write_text(STDIO_GUESS)

    check = grader("check", "--lab", lab, "--out", OUT / "check-stdio-guess")

    step3 = "\n".join(blocks(check.stdout)[
        "Step 3: app_guess.c makes the lab program's calls (buffer addresses aside)"])
    assert step3.startswith("PART"), check.stdout
    assert "2 of the 5 expected trace lines are right" in step3
    rows = {line.split("|")[0].strip(): line for line in step3.splitlines() if "|" in line}
    assert rows["EXIT 0"].rstrip().endswith("matching")
    assert rows["CLOSE 3 - return 0"].rstrip().endswith("matching")
    assert "WRITEV 3" in step3 and "undefined syscall" not in step3
    assert "calls the C library makes for stdio" in step3
    assert ("ran in the emulated AMD-V machine, in ring 3" in check.stdout) == on_pvm()
