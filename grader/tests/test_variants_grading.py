"""Grading per variant: with a roster and the class's variants, each student's
Step 2 and Step 3 are graded against their own lab program; a guess copied
from a classmate fails Step 3, the hidden tests stay the same for all."""
import hashlib
import json

import pytest

from grader import variants
from grader.tests.conftest import CACHE, fresh, grader
from grader.tests.submissions import REFERENCE


@pytest.fixture(scope="module")
def graded(kvm_and_sandbox):
    root = fresh("variants-grading")
    key = variants.secret(root / "secret")
    programs = root / "variants"
    students = {}
    for name in ["alice", "bob"]:
        program = variants.variant(key, name)
        (programs / name).mkdir(parents=True)
        variants.build(program, programs / name / "app")
        students[name] = {"email": f"{name}@example.edu", "sid": name, "program": f"{name}/app",
                          "sha256": hashlib.sha256((programs / name / "app").read_bytes())
                          .hexdigest(), "source": program.source}
    (programs / "manifest.json").write_text(json.dumps({"students": students}))
    submissions = root / "submissions"
    # alice hands in her own program's source as her guess; bob hands in alice's.
    for name, guess in [("alice", "alice"), ("bob", "alice")]:
        (submissions / name / "vm_manager").mkdir(parents=True)
        (submissions / name / "vm_manager" / "manager.cpp").write_bytes(REFERENCE.read_bytes())
        (submissions / name / "app_guess.c").write_text(students[guess]["source"])
    roster = root / "roster.csv"
    roster.write_text("student,email,sid\nalice,alice@example.edu,1\nbob,bob@example.edu,2\n")
    out = root / "out"
    run = grader("grade", submissions, "--out", out, "--cache", CACHE, "--roster", roster,
                 "--variants", programs)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Lab programs: each student's own" in run.stdout
    return {name: json.loads((out / "students" / name / "results.json").read_text())
            for name in ["alice", "bob"]}


def scores(results):
    return {name: test["score"] for name, test in results["extra_data"]["tests"].items()}


def test_each_student_is_graded_against_their_own_program(graded):
    for name in ["alice", "bob"]:
        got = scores(graded[name])
        assert all(got[test] == full for test, full in [
            ("step2_open", 8), ("step2_write", 10), ("step2_close", 5), ("step2_exit", 5),
            ("step2_whole_trace", 4), ("step2_file", 10), ("step2_status", 8)]), got
        assert "Graded against your own lab program" in graded[name]["output"]


def test_the_own_variants_source_gets_the_step3_points(graded):
    got = scores(graded["alice"])
    assert (got["step3_calls"], got["step3_file"]) == (10, 5)
    assert graded["alice"]["score"] == 100


def test_a_classmates_guess_gets_few_of_them(graded):
    got = scores(graded["bob"])
    assert got["step3_calls"] + got["step3_file"] <= 5, got


def test_hidden_tests_stay_the_same_for_all(graded):
    for name in ["alice", "bob"]:
        got = scores(graded[name])
        assert all(got[test] == 5 for test in got if test.startswith("hidden_")), got
