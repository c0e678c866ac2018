"""make grade on a class of good and broken submissions, all in one batch: each
gets the score it deserves, with a readable reason, and none disturbs another."""
import csv
import os
import xml.etree.ElementTree as ElementTree

import pytest

from grader.tests.conftest import CACHE
from grader.tests.submissions import CASES


@pytest.mark.parametrize("student", CASES)
def test_each_submission_gets_the_score_it_deserves(batch, student):
    case = CASES[student]
    results = batch.results(student)
    outputs = batch.outputs(student)

    assert results["score"] == case.total, "\n".join(
        f"{name}: {score} {output[:300]}" for name, (score, output) in outputs.items())
    assert results["max_score"] == 100
    for test, reason in case.why.items():
        assert reason in outputs[test][1], outputs[test][1]


@pytest.mark.parametrize("student", CASES)
def test_every_failed_test_says_why(batch, student):
    for test in batch.results(student)["tests"]:
        if test["score"] < test["max_score"]:
            assert len(test["output"]) > 40, test


@pytest.mark.parametrize("student", CASES)
def test_every_submission_has_all_its_result_files(batch, student):
    folder = batch.out / "students" / student
    for name in ["results.json", "feedback.txt", "junit.xml"]:
        assert (folder / name).stat().st_size > 0, name
    assert ElementTree.parse(folder / "junit.xml").getroot().iter("testcase")
    feedback = (folder / "feedback.txt").read_text()
    assert f"Score: {CASES[student].total}/100" in feedback


def test_gradebook_has_one_row_per_student_and_one_column_per_test(batch):
    with open(batch.out / "gradebook.csv") as file:
        rows = list(csv.DictReader(file))
    assert sorted(row["student"] for row in rows) == sorted(CASES)
    assert len(rows[0]) == len(batch.titles) + 4  # student, the tests, total, max, notes
    for row in rows:
        assert float(row["total"]) == CASES[row["student"]].total


def test_junit_file_has_a_suite_per_student(batch):
    root = ElementTree.parse(batch.out / "junit.xml").getroot()
    suites = {suite.get("name") for suite in root.iter("testsuite")}
    assert suites == set(CASES)


def test_batch_runs_in_parallel_on_all_cores(batch):
    assert f"{os.cpu_count()} at a time" in batch.process.stdout


def test_hidden_tests_are_shown_after_publication_only(batch):
    tests = batch.results("reference")["tests"]
    hidden = [t for t in tests if t["name"].startswith("Hidden")]
    assert len(hidden) == 5
    assert {t["visibility"] for t in hidden} == {"after_published"}
    assert {t["visibility"] for t in tests if t not in hidden} == {"visible"}


def test_a_vmm_that_deletes_files_harms_no_one(batch):
    for path, data in batch.kit_files.items():
        assert path.read_bytes() == data, f"{path} was changed"
    snapshot = batch.out / "kit"
    for name in ["boot.bin", "programs/app", "programs/errors", "reference/vm_manager"]:
        assert (snapshot / name).exists(), name
    built = list((CACHE / "vmm").glob("*/vm_manager"))
    assert built and all(path.stat().st_size > 0 for path in built)
    assert batch.results("reference")["score"] == 100


def test_a_flood_of_output_is_capped(batch):
    results = (batch.out / "students" / "flood" / "results.json").stat().st_size
    log = (batch.out / "students" / "flood" / "grader.log").stat().st_size
    assert results < 200_000 and log < 500_000


def test_a_build_failure_shows_the_compilers_first_error(batch):
    score, output = batch.outputs("compile_error")["build"]
    assert score == 0
    assert "vm_manager/manager.cpp:" in output and "error:" in output


def test_a_trace_mismatch_is_shown_side_by_side(batch):
    _, output = batch.outputs("wrong_fd")["step2_write"]
    lines = output.splitlines()
    assert any(line.startswith("expected (reference)") and "| your VMM" in line for line in lines)
    assert sum("| wrong: fd" in line for line in lines) == 2


def test_host_fds_are_a_consistent_renaming(batch):
    assert batch.results("host_fds")["score"] == CASES["host_fds"].total
    assert batch.outputs("host_fds")["step2_open"][0] == 8


def test_the_committed_skeleton_scores_only_the_build(batch):
    outputs = batch.outputs("skeleton")
    assert {name for name, (score, _) in outputs.items() if score > 0} == {"build"}


def test_a_grader_failure_still_gives_the_student_results():
    """If the grading process itself fails, the student's results say so as a
    scored test, instead of going missing."""
    from types import SimpleNamespace

    from grader.commands import grade
    from grader.tests.conftest import fresh

    out = fresh("grader-failure")
    submitted = out / "alice"
    (submitted / "vm_manager").mkdir(parents=True)
    (submitted / "vm_manager" / "manager.cpp").write_text("int main() {}\n")
    broken_kit = SimpleNamespace(root=out / "no-such-snapshot")

    grade.grade_one("alice", submitted, broken_kit, out, "bwrap", CACHE)

    results = (out / "students" / "alice" / "results.json").read_text()
    assert '"score": 0' in results and "tell your instructor" in results
    assert (out / "students" / "alice" / "feedback.txt").exists()
