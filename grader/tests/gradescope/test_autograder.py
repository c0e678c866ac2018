"""run_autograder, in the container, for each submission: results.json as
Gradescope specifies it, the scores make grade gives on this machine's KVM,
said to come from the emulated machine and why, nothing of the instructor's
for a submission that reaches for it, and nothing left running."""
import numbers
import zipfile

import pytest

from grader.commands import gradescope
from grader.tests.gradescope.conftest import INCLUDES, KIT, SUBMISSIONS, ZIP

# Gradescope's specification of results.json: its keys, and their values.
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
TOP_LEVEL = {"score", "execution_time", "output", "output_format", "test_output_format",
             "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests",
             "leaderboard"}
PER_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output",
            "output_format", "tags", "visibility", "extra_data"}

STUDENTS = list(SUBMISSIONS)


def number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def text(value):
    return isinstance(value, str)


def spec_problems(data):
    """What in `data` Gradescope's specification does not allow, in words."""
    problems = [f"top-level key {key!r}" for key in set(data) - TOP_LEVEL]
    checks = {"score": number, "execution_time": number, "output": text,
              "output_format": FORMATS.__contains__, "test_output_format": FORMATS.__contains__,
              "test_name_format": FORMATS.__contains__, "visibility": VISIBILITIES.__contains__,
              "stdout_visibility": VISIBILITIES.__contains__,
              "extra_data": lambda v: isinstance(v, dict), "tests": lambda v: isinstance(v, list),
              "leaderboard": lambda v: isinstance(v, list) and all(
                  isinstance(e, dict) and {"name", "value"} <= set(e) for e in v)}
    problems += [f"top-level {key}: {data[key]!r}" for key, check in checks.items()
                 if key in data and not check(data[key])]
    if "score" not in data and not all("score" in t for t in data.get("tests", [])):
        problems.append("no score: neither at the top nor on every test")
    per_test = {"score": number, "max_score": number, "status": {"passed", "failed"}.__contains__,
                "name": text, "name_format": FORMATS.__contains__, "number": text, "output": text,
                "output_format": FORMATS.__contains__,
                "tags": lambda v: isinstance(v, list) and all(isinstance(t, str) for t in v),
                "visibility": VISIBILITIES.__contains__,
                "extra_data": lambda v: isinstance(v, dict)}
    for index, test in enumerate(data.get("tests", [])):
        if not isinstance(test, dict):
            problems.append(f"test {index} is not an object")
            continue
        problems += [f"test {index}: key {key!r}" for key in set(test) - PER_TEST]
        problems += [f"test {index} {key}: {test[key]!r}" for key, check in per_test.items()
                     if key in test and not check(test[key])]
    return problems


def results(graded, student):
    ran = graded[student]
    assert ran.status == 0, ran.log[-3000:]
    assert ran.results is not None, f"no results.json; run_autograder said:\n{ran.log[-3000:]}"
    return ran.results


def test_setup_made_the_expected_runs_on_the_emulated_machine(prepared):
    assert ("Expected runs: the emulated AMD-V machine (QEMU)" in prepared.setup_log
            and "(this machine has no /dev/kvm)" in prepared.setup_log), prepared.setup_log[-2000:]


@pytest.mark.parametrize("student", STUDENTS)
def test_results_json_follows_gradescopes_specification(graded, student):
    data = results(graded, student)
    assert spec_problems(data) == []
    assert data["tests"], "no tests in results.json"


@pytest.mark.parametrize("student", STUDENTS)
def test_its_score_is_the_sum_of_its_tests(graded, student):
    data = results(graded, student)
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))


@pytest.mark.parametrize("student", STUDENTS)
def test_the_scores_are_those_of_make_grade_on_kvm(graded, host_graded, student):
    data, host = results(graded, student), host_graded[student]
    assert host["extra_data"]["machine"] == "kvm", host["output"]
    assert data["extra_data"]["machine"] == "emulated", data["output"]
    assert ({t["name"]: t["score"] for t in data["tests"]}
            == {t["name"]: t["score"] for t in host["tests"]})
    assert data["score"] == host["score"]


def test_the_reference_gets_full_marks_and_the_skeleton_the_build_only(graded):
    """The scores themselves: the comparison above holds only with scores that mean something."""
    assert results(graded, "reference")["score"] == 100
    assert results(graded, "skeleton")["score"] == 10
    assert 0 < results(graded, "wrong_fd")["score"] < 100
    assert 0 < results(graded, "segfault")["score"] < 100


@pytest.mark.parametrize("student", STUDENTS)
def test_the_output_says_it_graded_on_the_emulated_machine_and_why(graded, student):
    output = results(graded, student)["output"]
    assert ("Graded on the emulated AMD-V machine (QEMU), programs in ring 3, one boot per "
            "submission: this machine has no /dev/kvm." in output)
    assert ("runs are not sandboxed: bubblewrap could not start the sandbox: bwrap: Creating "
            "new namespace failed: Operation not permitted" in output)


@pytest.mark.parametrize("student", sorted(INCLUDES))
def test_an_include_outside_the_submission_fails_the_build_saying_so(graded, student):
    data = results(graded, student)
    build = data["tests"][0]
    assert build["name"].startswith("Build") and build["score"] == 0
    assert f"It includes {INCLUDES[student]}, which is outside the submission" in build["output"]
    assert data["score"] == 0


def texts(value):
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts(item)


@pytest.mark.parametrize("student", sorted(INCLUDES))
def test_an_include_attack_gets_no_instructor_text(graded, student):
    """No line of the reference's answer or of the written answers, nor of the
    hidden programs' list (private/), is anywhere in its results."""
    everything = "\n".join(texts(results(graded, student)))
    lines = {line for passage in gradescope.instructor_passages(KIT)
             for line in passage.split("\n")}
    with zipfile.ZipFile(ZIP) as archive:
        hidden = archive.read("private/programs/hidden.json").decode()
    lines |= {line.strip() for line in hidden.splitlines() if len(line.strip()) >= 12}
    assert len(lines) > 50
    assert [line for line in lines if line in everything] == []


@pytest.mark.parametrize("student", STUDENTS)
def test_nothing_is_left_running_in_the_container(graded, student):
    ran = graded[student]
    assert ran.left_running == []
    assert ran.limits["left"] == []


def test_the_harness_sees_a_process_left_running(left_behind):
    """The check above can fail: a run_autograder that leaves `sleep` behind is seen."""
    assert left_behind.status == 0
    assert any(" (sleep) " in line for line in left_behind.left_running), \
        left_behind.left_running
