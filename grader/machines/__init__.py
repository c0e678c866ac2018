"""Where a submission's VMMs run: the one place that decides.

Two machines, one interface (`run(requests) -> [Run]`, `describe()`, `why`):

- "kvm": this machine's KVM, each run in a bubblewrap sandbox (kvm.py), where
  /dev/kvm works and a sandbox can be made (or SANDBOX=none says to do without);
- "emulated": QEMU's emulated AMD-V machine (emulated.py), everywhere else: no
  /dev/kvm, or no sandbox (the usual container).

GRADER_MACHINE=kvm|emulated forces one. Nothing else in the grader knows which
machine ran: the comparisons, the rubric and the feedback see only Runs.
"""
import os

from grader.machines import kvm
from grader.machines.emulated import EmulatedMachine, MachineError  # noqa: F401
from grader.machines.kvm import KvmMachine

CHOICES = ("auto", "kvm", "emulated")


class ChoiceError(Exception):
    """The machine asked for cannot be used here; the message says why."""


def choose(sandbox, snapshot, *, sandbox_note=None):
    """The machine for this grading process. `sandbox` is the host's (builds and
    native runs use it on either machine)."""
    requested = os.environ.get("GRADER_MACHINE") or "auto"
    if requested not in CHOICES:
        raise ChoiceError(f"GRADER_MACHINE is kvm, emulated or auto, not '{requested}'")
    problem = kvm.problem()
    if problem is None and sandbox.users and sandbox.kind == "bwrap":
        with sandbox.users.lease() as uid:
            if sandbox.users.kvm_device(uid) is None:
                problem = "no /dev/kvm node could be made for the sandbox's users"
    emulated = EmulatedMachine(snapshot.runner, snapshot.boot, sandbox, "")
    if requested == "emulated":
        emulated.why = "GRADER_MACHINE=emulated asks for it"
        return emulated
    # On PVM, what ring 0 cannot run goes to the emulated machine (kvm.py).
    ring3 = emulated if kvm.on_pvm() and emulated.available() else None
    if requested == "kvm":
        if problem:
            raise ChoiceError(f"GRADER_MACHINE=kvm, but {problem}")
        return KvmMachine(sandbox, snapshot.boot, "GRADER_MACHINE=kvm asks for it", ring3)
    if problem:
        emulated.why = problem
        return emulated
    if sandbox.kind == "bwrap":
        return KvmMachine(sandbox, snapshot.boot,
                          "/dev/kvm works here and a bubblewrap sandbox can be made", ring3)
    if sandbox_note and "sandbox: none" in sandbox_note:
        return KvmMachine(sandbox, snapshot.boot, "SANDBOX=none asks to run without a sandbox",
                          ring3)
    emulated.why = f"no sandbox can be made here ({sandbox_note or 'bubblewrap cannot start'})"
    return emulated
