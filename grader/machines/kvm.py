"""The host's KVM: each run in the sandbox (grader/sandbox/) on this machine.

Where /dev/kvm works and a bubblewrap sandbox can be made, a submission's VMMs
run here, side by side, each in a sandbox of its own with the /dev/kvm of this
machine. GRADER_NO_KVM=1 pretends there is no KVM (to test the other way).
"""
import errno
import fcntl
import functools
import os
from concurrent.futures import ThreadPoolExecutor

from grader.machines.runs import (BOOT_INSIDE, OUT, PROGRAMS_INSIDE, RUN_LIMITS, VMM_INSIDE,
                                  WORK, run_of)
from grader.sandbox import Mount
from grader.sandbox.bwrap import PVM_MODULE

KVM_GET_API_VERSION = 0xAE00
KVM_CREATE_VM = 0xAE01
KVM_API_VERSION = 12


@functools.cache
def problem(device="/dev/kvm"):
    """Why no VM can run on this machine's KVM, or None when one can."""
    if os.environ.get("GRADER_NO_KVM"):
        return "no usable /dev/kvm (GRADER_NO_KVM is set)"
    try:
        fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ENOENT:
            return f"this machine has no {device}"
        if error.errno in (errno.EACCES, errno.EPERM):
            return f"{device} is not accessible to the grader ({error.strerror})"
        return f"{device} cannot be opened: {error.strerror}"
    try:
        version = fcntl.ioctl(fd, KVM_GET_API_VERSION, 0)
        if version != KVM_API_VERSION:
            return f"{device} speaks KVM API version {version}, not {KVM_API_VERSION}"
        vm = fcntl.ioctl(fd, KVM_CREATE_VM, 0)
        os.close(vm)
    except OSError as error:
        return f"{device} does not create virtual machines here: {error.strerror}"
    finally:
        os.close(fd)
    return None


def on_pvm():
    """Whether this machine's KVM is PVM, which runs the program in ring 0."""
    return os.path.isdir(PVM_MODULE)


def pvm_could_not_run(run):
    """Whether KVM stopped a run on an instruction it could not emulate: in
    ring 0, PVM emulates each instruction and cannot emulate some SSE ones
    (musl's printf and malloc, gcc's vectorised loops). Hardware KVM runs
    them, in ring 3."""
    return run.status == 125 and "KVM_EXIT_INTERNAL_ERROR" in run.stderr


def sandboxed_run(sandbox, request, boot):
    """One request, in its own sandbox on this machine."""
    mounts = [Mount(request.program, f"{PROGRAMS_INSIDE}/{request.spec.program}")]
    if request.vmm is not None:
        mounts += [Mount(request.vmm, VMM_INSIDE), Mount(boot, BOOT_INSIDE)]
    outcome = sandbox.run(request.argv(), mounts=mounts, cwd=WORK, limits=RUN_LIMITS,
                          scratch=[WORK, OUT], collect=[WORK, OUT], watch=True)
    return run_of(request, outcome)


class KvmMachine:
    name = "kvm"

    def __init__(self, sandbox, boot, why, ring3=None):
        self.sandbox, self.boot, self.why = sandbox, boot, why
        # On PVM: where a run goes again that PVM could not carry out (the
        # emulated machine, ring 3 as on hardware), so that a program's grade
        # does not depend on this machine's KVM.
        self.ring3 = ring3

    def describe(self):
        pvm = " (PVM: programs run in ring 0)" if on_pvm() else ""
        where = "a bubblewrap sandbox" if self.sandbox.kind == "bwrap" else "no sandbox"
        return f"this machine's KVM{pvm}, each run in {where}"

    def run(self, requests):
        """Runs every request, side by side; returns their Runs, in order."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            runs = list(pool.map(lambda r: sandboxed_run(self.sandbox, r, self.boot), requests))
        again = [i for i, run in enumerate(runs) if requests[i].vmm is not None
                 and pvm_could_not_run(run)] if self.ring3 is not None else []
        if again:
            from grader.machines.emulated import MachineError
            try:
                redone = self.ring3.run([requests[i] for i in again])
            except MachineError:
                return runs  # the ring-0 runs stand, with their hint
            for i, run in zip(again, redone):
                run.note = (f"{requests[i].spec.describe()} could not run on this machine's "
                            "KVM (PVM cannot emulate some SSE instructions in ring 0): it ran "
                            "in the emulated AMD-V machine, in ring 3, as hardware KVM runs it.")
                runs[i] = run
        return runs

