"""make gradescope: the autograder zip, and what it writes on a machine
without KVM (the usual Gradescope machine): it says so, it does not score
zero silently."""
import json
import zipfile

from grader.tests.conftest import OUT, fresh, grader
from grader.tests.submissions import REFERENCE


def test_autograder_zip_has_setup_run_and_the_kit():
    out = fresh("gradescope-zip")

    packed = grader("gradescope", "--out", out)

    assert packed.returncode == 0, packed.stderr
    with zipfile.ZipFile(out / "lab2-autograder.zip") as archive:
        names = set(archive.namelist())
        setup = archive.read("setup.sh").decode()
        mode = archive.getinfo("run_autograder").external_attr >> 16
    assert {"setup.sh", "run_autograder", "Makefile", "grader/rubric.py",
            "grader/programs/errors.c", "solutions/lab2/vm_manager/manager.cpp",
            "vm_manager/vmm.hpp", "vm_src/src/boot.asm"} <= names
    assert not any(name.startswith("build/") for name in names)
    assert "apt-get install" in setup and "bubblewrap" in setup and "@PACKAGES@" not in setup
    assert mode & 0o111


def test_without_kvm_the_results_say_so(kvm_and_sandbox):
    submitted = fresh("gradescope-submission")
    (submitted / "vm_manager").mkdir()
    (submitted / "vm_manager" / "manager.cpp").write_bytes(REFERENCE.read_bytes())
    results = OUT / "gradescope-results"

    run = grader("autograde", submitted, results, env={"GRADER_NO_KVM": "1"})

    assert run.returncode == 0, run.stdout + run.stderr
    data = json.loads((results / "results.json").read_text())
    assert "no usable /dev/kvm" in data["output"]
    tests = {t["name"]: t for t in data["tests"]}
    assert tests["Build: manager.cpp builds with the kit's flags"]["score"] == 10
    step2 = tests["Step 2: the OPEN call"]
    assert step2["score"] == 0 and step2["output"].startswith("Not graded:")
    assert all(t["output"] for t in data["tests"] if t["score"] < t["max_score"])
