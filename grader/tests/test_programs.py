"""The hidden test programs are fair: in the reference VMM each behaves as it
does natively (same calls, files, output and status), so a VMM that matches
the reference on them is right."""
import pytest

from grader import kit, sandbox
from grader.machines import runs
from grader.session import fixtures
from grader.judge.checks import Comparison
from grader.tests.conftest import CACHE, OUT


@pytest.fixture(scope="module")
def snapshot(kvm_and_sandbox):
    return kit.prepare(OUT / "programs-kit", sandbox=sandbox.Sandbox("bwrap"), cache=CACHE)


@pytest.mark.parametrize("name", sorted(kit.hidden_programs()))
def test_hidden_program_runs_in_the_reference_vmm_as_natively(snapshot, name):
    chosen = sandbox.Sandbox("bwrap")
    spec = fixtures.Spec(name, tuple(snapshot.hidden[name]), "file")
    reference = runs.VmmRunner(snapshot.reference, snapshot, chosen, "the reference VMM")
    program = snapshot.program(name)

    vm = reference.run(spec, program, OUT / "programs-runs")
    native = runs.NativeRunner(chosen).run(spec, program, OUT / "programs-runs")

    assert vm.status == native.status and vm.status is not None, vm.stderr
    comparison = Comparison(native, vm, program=name, left="native", right="reference VMM",
                            compare_addresses=False)
    comparison.everything()
    assert len(vm.trace) >= 4 and vm.files


def test_every_hidden_program_has_a_graded_test():
    from grader import rubric
    graded = {name.removeprefix("test_hidden_") for name in vars(rubric)
              if name.startswith("test_hidden_")}
    assert graded == set(kit.hidden_programs())
