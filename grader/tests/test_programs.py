"""The hidden test programs are fair: in the reference VMM each behaves as it
does natively (same calls, files, output and status), so a VMM that matches
the reference on them is right."""
import pytest

from grader import kit, sandbox
from grader.judge.checks import Comparison
from grader.machines.kvm import KvmMachine
from grader.machines.runs import Request, Spec
from grader.tests.conftest import CACHE, OUT


@pytest.fixture(scope="module")
def machine(kvm_and_sandbox, runner):
    chosen, _ = sandbox.choose("bwrap", runner)
    snapshot = kit.prepare(OUT / "programs-kit", sandbox=chosen, cache=CACHE)
    return snapshot, KvmMachine(chosen, snapshot.boot, "the self-tests")


@pytest.mark.parametrize("name", sorted(kit.hidden_programs()))
def test_hidden_program_runs_in_the_reference_vmm_as_natively(machine, name):
    snapshot, kvm = machine
    spec = Spec(name, tuple(snapshot.hidden[name]), "file")
    program = snapshot.program(name)

    vm, native = kvm.run([Request(spec, program, snapshot.reference, "the reference VMM"),
                          Request(spec, program, None, "natively")])

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
