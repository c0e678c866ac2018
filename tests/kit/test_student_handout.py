"""make handout packs what students get, and it works on its own: unpacked in
an empty directory, `make alll && make run` shows Step 1 and `make check` runs."""
import os
import signal
import subprocess
import tarfile

import pytest

from helpers import BUILD, KIT, kvm_problem, run, user_environment

TARBALL = KIT / "dist" / "lab2-handout.tar.gz"


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
                   "grader/grader.mk", "emulated/run.sh"]:
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


def test_make_check_runs_in_the_unpacked_handout(handout):
    if kvm_problem():
        pytest.skip(kvm_problem())
    _, root = handout
    environment = user_environment()
    check = run(["make", "check"], cwd=root, env=environment, timeout=300)

    assert check.returncode != 0  # the skeleton does not pass Step 2
    assert "OK       10/10  Build" in check.stdout
    assert "FAIL" in check.stdout and "Step 2" in check.stdout
    assert "Score: 10/" in check.stdout
