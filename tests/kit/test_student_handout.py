"""make handout packs what students get, and it works on its own: unpacked in
an empty directory, `make alll && make run` shows Step 1, and every `make`
command of the statement works at the top and in lab2/vm_src: make check,
make bench and make run-emulated run in both places."""
import os
import re
import shutil
import signal
import subprocess
import tarfile

import pytest

from helpers import BUILD, KIT, kvm_problem, run, user_environment

TARBALL = KIT / "dist" / "lab2-handout.tar.gz"
# Where the statement's commands are typed: the top of the handout, and the lab.
PLACES = [".", "lab2/vm_src"]


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    if BUILD != KIT / "build":
        pytest.skip("the handout is packed from the normal build, not " + str(BUILD))
    result = run(["make", "-s", "handout"], cwd=KIT, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    with tarfile.open(TARBALL) as archive:
        names = archive.getnames()
        directory = tmp_path_factory.mktemp("unpacked")
        archive.extractall(directory)
    return names, directory / "lab2-handout"


def test_handout_has_what_students_need(handout):
    names, _ = handout
    for needed in ["Makefile", "README.md", "lab2/vm_manager/manager.cpp", "lab2/vm_src/Makefile",
                   "lab2/app_guess.c", "lab2/ANSWERS.md", "vm_src/src/boot.asm", "vm_src/app",
                   "vm_manager/vmm.hpp", "handouts/lab2.md", "handouts/lab2.html",
                   "handouts/figures/syscall-registers.svg", "grader/grader.mk",
                   "emulated/run.sh", "bench/bench.mk", "bench/bench.py", "bench/README.md",
                   "bench/prebuilt/bare_vm", "bench/prebuilt/syscall_loop",
                   "lab2/samples/README.md", "lab2/samples/bad_pointer.c"]:
        assert f"lab2-handout/{needed}" in names, needed


def test_handout_has_no_answers(handout):
    names, _ = handout
    forbidden = [n for n in names if "solutions" in n or "answers" in n or n.endswith("/app.c")
                 or "/grader/programs/" in n or "/grader/tests/" in n
                 or "/grader/variants/" in n or "/grader/similarity/" in n]
    assert forbidden == []


def test_unpacked_handout_builds_and_shows_step_1(handout):
    if kvm_problem():
        pytest.skip(kvm_problem())
    _, root = handout
    environment = user_environment()
    lab = root / "lab2" / "vm_src"
    built = run(["make", "alll"], cwd=lab, env=environment, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr

    step1 = subprocess.Popen(["make", "run"], cwd=lab, env=environment, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, _ = step1.communicate(timeout=2)
    except subprocess.TimeoutExpired:
        os.killpg(step1.pid, signal.SIGINT)  # Ctrl-C, as a student would
        stdout, stderr = step1.communicate(timeout=10)
    lines = stdout.splitlines()
    assert len(lines) > 100 and set(lines) == {"KVM_EXIT_HLT"}
    assert "stopped by Ctrl-C after" in stderr


def statement_make_commands(root):
    text = (root / "handouts" / "lab2.md").read_text()
    return sorted(set(re.findall(r"`(make [^`]*)`", text)))


@pytest.mark.parametrize("place", PLACES)
def test_every_make_command_of_the_statement_exists_there(handout, place):
    """A dry run (make -n) of each: no target is missing, at the top or in
    lab2/vm_src, whose Makefile hands each on to the top."""
    _, root = handout
    commands = statement_make_commands(root)
    assert {"make check", "make bench", "make run-emulated"} <= set(commands)
    for command in commands:
        result = subprocess.run(command.replace("make", "make -n", 1), shell=True,
                                cwd=root / place, env=user_environment(), capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, f"{command} in {place}: {result.stderr}"


def test_run_solution_says_the_handout_has_no_reference(handout):
    _, root = handout
    result = run(["make", "run-solution"], cwd=root / "lab2" / "vm_src",
                 env=user_environment(), timeout=60)
    assert result.returncode != 0
    assert "the reference VMM is not part of the student handout" in result.stderr


@pytest.mark.parametrize("place", PLACES)
def test_make_check_runs_in_the_unpacked_handout(handout, place):
    if kvm_problem():
        pytest.skip(kvm_problem())
    _, root = handout
    environment = user_environment()
    check = run(["make", "check"], cwd=root / place, env=environment, timeout=300)

    assert check.returncode != 0  # the skeleton does not pass Step 2
    assert "OK       10/10  Build" in check.stdout
    assert "FAIL" in check.stdout and "Step 2" in check.stdout
    assert "Score: 10/" in check.stdout


def test_make_bench_runs_in_lab2_vm_src(handout):
    """make bench measures what needs no VMM of the student's, and leaves
    theirs out, saying why, while it does not run the program (the skeleton):
    its quick mode, the same code with fewer runs."""
    if kvm_problem():
        pytest.skip(kvm_problem())
    _, root = handout
    bench = run(["make", "bench-quick"], cwd=root / "lab2" / "vm_src", env=user_environment(),
                timeout=300)
    assert bench.returncode == 0, bench.stdout[-2000:] + bench.stderr[-2000:]
    assert "Your VMM is not measured: it exits with status 124" in bench.stdout
    for figure in ["bare_exit", "stub_exit", "native_syscall", "bare_vm", "native"]:
        assert re.search(rf"^  {figure} +\d", bench.stdout, re.M), figure
    assert (root / "build" / "bench" / "quick" / "chart.svg").is_file()


def test_make_run_emulated_runs_in_lab2_vm_src(handout):
    """The emulated machine boots from the handout and runs the student's VMM
    there (a short run: the skeleton, stopped after 3 exits). Its kernel is the
    kit's, already fetched, copied in; without it, make test-hw fetches it."""
    _, root = handout
    kernel = KIT / "build" / "emulated" / "kernel"
    if not (kernel / ".complete").is_file():
        pytest.skip("the emulated machine's kernel is not fetched yet (make test-hw fetches it)")
    (root / "build" / "emulated").mkdir(parents=True, exist_ok=True)
    if not (root / "build" / "emulated" / "kernel").exists():
        shutil.copytree(kernel, root / "build" / "emulated" / "kernel", symlinks=True)
    emulated = run(["make", "run-emulated", "ARGS=--max-exits 3"], cwd=root / "lab2" / "vm_src",
                   env=user_environment(), timeout=600)
    # The machine's console: the VMM's standard output, then its message.
    lines = emulated.stdout.splitlines()
    assert lines[-4:] == ["KVM_EXIT_HLT"] * 3 + [
        "vm_manager: stopped by --max-exits 3: the guest was still running"], (
        emulated.stdout[-2000:] + emulated.stderr[-2000:])
