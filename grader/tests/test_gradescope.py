"""make gradescope: the autograder zip holds what a student may see and, prebuilt,
what they may not (the reference VMM, the hidden programs), but no source or
text of the instructor's; a submission that reaches for them gets nothing.
(make test-gradescope runs the zip in a container as Gradescope does.)"""
import json
import zipfile

import pytest

from grader import kit
from grader.commands import gradescope
from grader.tests.conftest import KIT, OUT, fresh, grader


@pytest.fixture(scope="module")
def autograder():
    out = fresh("gradescope-zip")
    packed = grader("gradescope", "--out", out)
    assert packed.returncode == 0, packed.stdout + packed.stderr
    with zipfile.ZipFile(out / "lab2-autograder.zip") as archive:
        return {info.filename: (info, archive.read(info)) for info in archive.infolist()}


def test_it_has_setup_run_and_what_grading_needs(autograder):
    assert {"setup.sh", "run_autograder", "Makefile", "grader/rubric.py", "vm_manager/vmm.hpp",
            "vm_src/src/boot.asm", "vm_src/app", "private/reference/vm_manager",
            "private/programs/errors", "private/programs/hidden.json",
            "build/emulated/kernel/vmlinuz", "build/emulated/kernel/kvm-amd.ko"} <= set(autograder)
    setup = autograder["setup.sh"][1].decode()
    assert "apt-get install" in setup and "qemu-system-x86" in setup and "@PACKAGES@" not in setup
    assert "grader prepare" in setup
    assert autograder["run_autograder"][0].external_attr >> 16 & 0o111


def test_it_has_no_source_or_text_of_the_instructors(autograder):
    names = set(autograder)
    assert not [n for n in names if n.startswith(("solutions/", "tests/", "fuzz/", "bench/"))]
    assert not [n for n in names if "answers" in n or n.endswith("/app.c")
                or n.startswith(("grader/programs/", "grader/tests/", "grader/variants/"))]
    passages = gradescope.instructor_passages(KIT)
    assert len(passages) > 50
    for name, (_, data) in autograder.items():
        if not name.startswith("private/"):
            text = "\n".join(gradescope._normalized(data.decode(errors="replace")))
            assert not any(passage in text for passage in passages), name


def test_its_check_finds_the_reference_and_the_answers():
    """The packer's own check would refuse the reference or the answers."""
    passages = gradescope.instructor_passages(KIT)
    for instructor_file in [kit.REFERENCE_SOURCE, gradescope.ANSWERS]:
        text = "\n".join(gradescope._normalized((KIT / instructor_file).read_text()))
        assert any(passage in text for passage in passages), instructor_file


@pytest.mark.parametrize("included", ["solutions/lab2/vm_manager/manager.cpp",
                                      "handouts/lab2-answers.md", "vm_src/src/app.c"])
def test_a_submission_that_includes_instructor_files_gets_nothing_from_them(
        kvm_and_sandbox, included):
    submitted = fresh("gradescope-include") / "submission"
    (submitted / "vm_manager").mkdir(parents=True)
    (submitted / "vm_manager" / "manager.cpp").write_text(f'#include "{KIT / included}"\n')
    (submitted / "app_guess.c").write_text(f'#include "{KIT / included}"\n')
    results = OUT / "gradescope-include-results"

    run = grader("autograde", submitted, results)

    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads((results / "results.json").read_text())
    assert data["score"] == 0
    build = data["tests"][0]["output"]
    assert "which is outside the submission" in build and "Remove that #include" in build
    step3 = next(t for t in data["tests"] if t["name"].startswith("Step 3"))["output"]
    assert "which is outside the submission" in step3
    everything = json.dumps(data)
    for passage in gradescope.instructor_passages(KIT):
        assert passage.split("\n")[0] not in everything
