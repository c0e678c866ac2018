"""The machine does not change a grade: the self-tests' class (the reference,
the skeleton, every broken and hostile submission) graded on this machine's KVM
and in the emulated machine gets the same scores and the same messages, test
by test. (Heavy: it grades the class twice; `make test-gradescope` runs it.)"""
import pytest

from grader.tests.conftest import Batch
from grader.tests.submissions import CASES


@pytest.fixture(scope="module")
def both(lab_trace):
    kvm = Batch(lab_trace, name="both-kvm", machine="kvm")
    emulated = Batch(lab_trace, name="both-emulated", machine="emulated")
    for graded in (kvm, emulated):
        assert graded.process.returncode == 0, graded.process.stdout + graded.process.stderr
    assert "on this machine's KVM" in kvm.process.stdout
    assert "on the emulated AMD-V machine" in emulated.process.stdout
    return kvm, emulated


@pytest.mark.parametrize("student", CASES)
def test_same_scores_and_messages_on_both_machines(both, student):
    kvm, emulated = both
    on_kvm, on_emulated = kvm.results(student), emulated.results(student)
    assert on_emulated["score"] == on_kvm["score"]
    for a, b in zip(on_kvm["tests"], on_emulated["tests"], strict=True):
        assert (b["name"], b["score"]) == (a["name"], a["score"])
        assert b["output"] == a["output"], f"{a['name']}:\n{a['output']}\n---\n{b['output']}"


@pytest.mark.parametrize("student", CASES)
def test_each_report_says_which_machine_graded(both, student):
    kvm, emulated = both
    assert kvm.results(student)["output"].startswith("Graded on this machine's KVM")
    assert emulated.results(student)["output"].startswith("Graded on the emulated AMD-V machine")
