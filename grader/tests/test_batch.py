"""make grade on a class of good, broken and hostile submissions, all in one
batch: each gets the score it deserves, with a readable reason; the hostile
ones are contained and reported, and none disturbs another; the batch always
completes and writes every result file."""
import csv
import json
import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from grader.sandbox import users
from grader.tests.conftest import CACHE, KIT, fresh, grader
from grader.tests.submissions import CASES


@pytest.mark.parametrize("student", CASES)
def test_each_submission_gets_the_score_it_deserves(batch, student):
    case = CASES[student]
    results = batch.results(student)
    outputs = batch.outputs(student)

    assert results["score"] == case.total, "\n".join(
        f"{name}: {score} {output[:300]}" for name, (score, output) in outputs.items())
    assert results["extra_data"]["max_score"] == 100
    for test, reason in case.why.items():
        assert reason in outputs[test][1], outputs[test][1]


@pytest.mark.parametrize("student", [s for s, case in CASES.items() if case.behaviour])
def test_the_behaviour_report_says_what_the_containment_stopped(batch, student):
    behaviour = " | ".join(batch.results(student)["extra_data"]["behaviour"])
    assert CASES[student].behaviour in behaviour, behaviour
    with open(batch.out / "gradebook.csv") as file:
        row = next(r for r in csv.DictReader(file) if r["student"] == student)
    assert CASES[student].behaviour in row["behaviour"]


def test_well_behaved_submissions_have_nothing_in_their_behaviour_report(batch):
    for student in ["reference", "skeleton", "host_fds", "wrong_fd"]:
        assert batch.results(student)["extra_data"]["behaviour"] == [], student


@pytest.mark.parametrize("student", CASES)
def test_every_failed_test_says_why(batch, student):
    for test in batch.results(student)["tests"]:
        if test["score"] < test["max_score"]:
            assert len(test["output"]) > 40, test


@pytest.mark.parametrize("student", CASES)
def test_every_submission_has_all_its_result_files(batch, student):
    folder = batch.out / "students" / student
    for name in ["results.json", "feedback.txt", "junit.xml", "graded.json"]:
        assert (folder / name).stat().st_size > 0, name
    feedback = (folder / "feedback.txt").read_text()
    assert f"Score: {CASES[student].total}/100" in feedback
    assert "Graded on this machine's KVM" in feedback


def test_results_json_has_only_gradescopes_keys(batch):
    top = {"score", "execution_time", "output", "output_format", "test_output_format",
           "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests",
           "leaderboard"}
    test = {"score", "max_score", "status", "name", "name_format", "number", "output",
            "output_format", "tags", "visibility", "extra_data"}
    for student in CASES:
        data = batch.results(student)
        assert set(data) <= top, student
        assert all(set(t) <= test for t in data["tests"]), student
        assert data["output"].startswith("Graded on this machine's KVM")


def test_gradebook_has_a_row_per_student_of_the_roster_and_a_column_per_test(batch):
    with open(batch.out / "gradebook.csv") as file:
        rows = list(csv.DictReader(file))
    assert [row["student"] for row in rows] == [*CASES, "absent"]
    assert len(rows[0]) == len(batch.titles) + 8  # identity (3), total, max, manual, behaviour, notes
    for row in rows[:-1]:
        assert float(row["total"]) == CASES[row["student"]].total
        assert row["email"] == f"{row['student']}@example.edu" and row["sid"]
        assert row["answers (manual)"] == ""
    assert rows[-1]["notes"] == "no submission" and rows[-1]["total"] == "0"


def test_gradebook_scores_are_the_exact_ones(batch):
    with open(batch.out / "gradebook.csv") as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    for student in CASES:
        for name, test in batch.results(student)["extra_data"]["tests"].items():
            column = next(c for c in rows[student] if c.startswith(name + " ("))
            assert float(rows[student][column]) == test["score"]


def test_junit_reports_lost_points_as_failures(batch):
    root = ElementTree.parse(batch.out / "junit.xml").getroot()
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert set(suites) == set(CASES)
    skeleton = suites["skeleton"]
    assert skeleton.find("testcase/error") is None
    failures = skeleton.findall("testcase/failure")
    assert failures and all(f.text for f in failures)
    assert suites["reference"].find("testcase/failure") is None


def test_batch_runs_in_parallel_on_all_cores(batch):
    import os
    assert f"{os.cpu_count()} at a time" in batch.process.stdout


def test_hidden_tests_are_shown_after_publication_only(batch):
    tests = batch.results("reference")["tests"]
    hidden = [t for t in tests if t["name"].startswith("Hidden")]
    assert len(hidden) == 5
    assert {t["visibility"] for t in hidden} == {"after_published"}
    assert {t["visibility"] for t in tests if t not in hidden} == {"visible"}


def test_nothing_outside_the_sandbox_changed(batch):
    for path, data in batch.kit_files.items():
        assert path.read_bytes() == data, f"{path} was changed"
    snapshot = batch.out / "kit"
    for name in ["boot.bin", "programs/app", "hidden/errors", "reference/vm_manager"]:
        assert (snapshot / name).exists(), name
    built = list((CACHE / "vmm").glob("*/vm_manager"))
    assert built and all(path.stat().st_size > 0 for path in built)


def test_no_process_of_the_batch_is_left(batch):
    """No process this checkout's grading started is alive: none under the
    grader's uids or running a VMM that has this kit's files mounted (a
    sandboxed one) or named on its command line. Another checkout's grading
    on the same machine is not this batch's."""
    left = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            uid = entry.stat().st_uid
            seen = (entry / "cmdline").read_bytes() + (entry / "mountinfo").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        graders = users.FIRST_UID <= uid < users.FIRST_UID + users.UIDS
        if (graders or b"/run/vmm/vm_manager" in seen) and (str(KIT) + "/").encode() in seen:
            left.append((entry.name, seen.split(b"\0")[0]))
    assert left == []


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


def test_grading_again_keeps_unchanged_results_and_the_whole_gradebook(batch):
    """A re-run grades only what changed; grading one student again, into the
    class's OUT, updates that student's row and keeps every other."""
    before = (batch.out / "gradebook.csv").read_text()
    one = fresh("regrade-one")
    (one / "skeleton").symlink_to(batch.submissions / "skeleton", target_is_directory=True)

    again = grader("grade", one, "--out", batch.out, "--cache", CACHE, "--roster", batch.roster)

    assert again.returncode == 0, again.stdout + again.stderr
    assert "Grading 0 submissions" in again.stdout and "1 unchanged" in again.stdout
    assert (batch.out / "gradebook.csv").read_text() == before

    forced = grader("grade", one, "--out", batch.out, "--cache", CACHE, "--roster", batch.roster,
                    "--force")
    assert forced.returncode == 0 and "Grading 1 submission " in forced.stdout
    with open(batch.out / "gradebook.csv") as file:
        rows = list(csv.DictReader(file))
    assert [row["student"] for row in rows] == [*CASES, "absent"]
    assert json.loads((batch.out / "students" / "skeleton" / "results.json").read_text())[
        "score"] == CASES["skeleton"].total


def test_a_grader_failure_still_gives_the_student_results():
    """If the grading process itself fails, the student's results say so as a
    scored test, instead of going missing."""
    from types import SimpleNamespace

    from grader.commands import grade

    out = fresh("grader-failure")
    submitted = out / "alice"
    (submitted / "vm_manager").mkdir(parents=True)
    (submitted / "vm_manager" / "manager.cpp").write_text("int main() {}\n")
    broken_kit = SimpleNamespace(root=out / "no-such-snapshot")

    grade.grade_one("alice", submitted, broken_kit, out, "bwrap", CACHE)

    results = json.loads((out / "students" / "alice" / "results.json").read_text())
    assert results["score"] == 0 and "tell your instructor" in results["output"]
    assert (out / "students" / "alice" / "feedback.txt").exists()


def test_the_behaviour_column_flags_very_similar_pairs(batch, tmp_path):
    from grader.commands.grade import rubric
    from grader.reports import gradebook

    pairs = tmp_path / "pairs.csv"
    pairs.write_text("student_a,student_b,similarity\nreference,host_fds,0.91\n"
                     "skeleton,wrong_fd,0.31\n")
    out = tmp_path / "out"
    (out / "students").mkdir(parents=True)
    for student in ["reference", "host_fds", "skeleton"]:
        (out / "students" / student).symlink_to(batch.out / "students" / student)
    book = gradebook.write(out, rubric(), pairs=pairs)
    with open(book) as file:
        rows = {row["student"]: row["behaviour"] for row in csv.DictReader(file)}
    assert rows["reference"] == "very similar to host_fds (0.91)"
    assert rows["host_fds"] == "very similar to reference (0.91)"
    assert rows["skeleton"] == ""
