"""The emulated machine: QEMU's model of an AMD-V processor, booting Debian's
kernel with KVM (emulated/run.sh), for grading where the host has no usable
/dev/kvm or no sandbox can be made (a Gradescope container, most CI).

One boot carries all the VMM runs of a submission: its payload holds the
runner, the boot image, the VMMs and the programs, and a script that makes the
runs one after the other, each exactly as on the host's KVM (the same command
line, the same paths, the same runner with the same limits), and prints each
runner's report, framed, on the console. It is also a stronger sandbox than a
namespace: nothing of the host is in the machine but what the payload holds.
Inside, the script is root and each run is a uid of its own that may read
neither the VMMs nor the programs of the other runs (they stay in a root-only
directory) nor write to the console.

Native runs (strace, in a handout without the reference) do not need KVM:
they run on the host, in its sandbox.
"""
import base64
import contextlib
import gzip
import hashlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from grader import KIT
from grader.machines.kvm import sandboxed_run
from grader.machines.runs import OUT, PROGRAMS_INSIDE, RUN_LIMITS, VMM_INSIDE, WORK, run_of
from grader.sandbox import report, runner_options

RUN_SH = KIT / "emulated" / "run.sh"
MEMORY_MIB = 512
BOOT_SECONDS = 60  # the longest a boot may take on a slow or busy machine
FIRST_UID = 300_000  # run N's uid inside the machine is FIRST_UID + N
KVM_DEVICE = "10:232"  # /dev/kvm's major and minor (KVM_MINOR in linux/miscdevice.h)
REPORT = re.compile(r"^@@@ report (\d+)\n(.*?)^@@@ end \1$", re.M | re.S)


class MachineError(Exception):
    """The emulated machine did not carry out the runs: the grader's problem."""


def _script(entries):
    """The shell script the machine runs: for each run, its files in place,
    the runner, and the runner's report framed on the console."""
    lines = ["#!/bin/sh",
             "# The runs of one submission (written by grader/machines/emulated.py).",
             "umask 022",
             "mkdir -p /kit/reports /run /tmp",
             "# Each run's uid reads the boot image; nothing else of the payload.",
             "chmod 0755 / /kit /run && chmod 0644 /kit/boot.bin",
             "chmod 0700 /kit/private /kit/reports",
             "# /dev/console is root's: a run cannot write reports of its own.",
             "chmod 0600 /dev/console /dev/ttyS0",
             "show() {",
             "    echo \"@@@ report $1\"",
             "    gzip -c \"/kit/reports/$1\" | base64",
             "    echo \"@@@ end $1\"",
             "}"]
    for number, (vmm, program, name, options, argv) in enumerate(entries):
        lines += [
            f"# run {number}",
            "rm -rf /run/vmm /run/prog && mkdir -p /run/vmm /run/prog /run/work /run/out",
            f"cp /kit/private/{program} {PROGRAMS_INSIDE}/{shlex.quote(name)}",
        ]
        if vmm is not None:
            lines.append(f"cp /kit/private/{vmm} {VMM_INSIDE}")
        lines += [
            "chmod 0755 /run/vmm /run/prog /run/vmm/* /run/prog/*",
            f"/kit/runner {shlex.join(options)} -- {shlex.join(argv)} >/kit/reports/{number} "
            f"2>/kit/reports/{number}.error || cat /kit/reports/{number}.error "
            f">/kit/reports/{number}",
            f"umount /run/work /run/out /tmp 2>/dev/null; show {number}"]
    return "\n".join(lines) + "\n"


def _stage(files, private, seen):
    """A file into the payload's private directory, once per content; its name there."""
    data = Path(files).read_bytes()
    name = hashlib.sha256(data).hexdigest()[:16]
    if name not in seen:
        (private / name).write_bytes(data)
        seen.add(name)
    return name


TIMED_OUT = -1  # _machine()'s status when it had to stop run.sh


def _machine(command, seconds):
    """Runs emulated/run.sh; (status, stdout, stderr). Past `seconds`, run.sh
    and QEMU are stopped (SIGTERM: run.sh stops QEMU on its way out; then
    SIGKILL to the whole group), never left running."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=seconds)
        return process.returncode, stdout, stderr
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)  # run.sh stops QEMU on its way out
        try:
            stdout, stderr = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
        return TIMED_OUT, stdout, f"the emulated machine did not finish within {seconds} s"


class EmulatedMachine:
    name = "emulated"

    def __init__(self, runner, boot, host_sandbox, why):
        self.runner, self.boot, self.host_sandbox, self.why = runner, boot, host_sandbox, why

    def describe(self):
        return "the emulated AMD-V machine (QEMU), programs in ring 3, one boot per submission"

    @staticmethod
    def available():
        """Whether QEMU is there to emulate the machine."""
        return shutil.which("qemu-system-x86_64") is not None

    def run(self, requests):
        """Runs every request: VMM runs in one boot, native runs on the host.
        Returns their Runs, in order."""
        runs = [None] * len(requests)
        in_machine = [i for i, r in enumerate(requests) if r.vmm is not None]
        for i, request in enumerate(requests):
            if request.vmm is None:
                runs[i] = sandboxed_run(self.host_sandbox, request, self.boot)
        if in_machine:
            outcomes = self._boot([requests[i] for i in in_machine])
            for i, outcome in zip(in_machine, outcomes):
                runs[i] = run_of(requests[i], outcome)
        return runs

    def _boot(self, requests):
        with tempfile.TemporaryDirectory(prefix="emulated-payload.") as payload:
            payload = Path(payload)
            private = payload / "private"
            private.mkdir()
            shutil.copy2(self.runner, payload / "runner")
            shutil.copy2(self.boot, payload / "boot.bin")
            seen, entries = set(), []
            for number, request in enumerate(requests):
                uid = FIRST_UID + number
                options = runner_options(RUN_LIMITS, WORK, scratch=[WORK, OUT],
                                         collect=[WORK, OUT], watch=True,
                                         writable=[WORK, OUT, "/tmp"], user=(uid, uid))
                options = [*(item for d in (WORK, OUT, "/tmp") for item in
                             ("--tmpfs", f"{d}:{RUN_LIMITS.scratch}")),
                           "--own", "/tmp", "--device", f"/dev/kvm:{KVM_DEVICE}", *options]
                entries.append((_stage(request.vmm, private, seen), _stage(request.program,
                                                                            private, seen),
                                request.spec.program, options, request.argv()))
            (payload / "runs.sh").write_text(_script(entries))
            seconds = BOOT_SECONDS + len(requests) * (RUN_LIMITS.seconds + 3)
            command = [str(RUN_SH), "--timeout", str(int(seconds)), "--memory", str(MEMORY_MIB),
                       str(payload), "sh", "/kit/runs.sh"]
            status, stdout, stderr = _machine(command, seconds + 30)
            reports = {int(n): text for n, text in REPORT.findall(stdout)}
            if status != 0 or len(reports) != len(requests):
                # A boot that failed early (a machine under load): once more. One
                # that used up its time would only do so again.
                if status != TIMED_OUT:
                    status, stdout, stderr = _machine(command, seconds + 30)
                    reports = {int(n): text for n, text in REPORT.findall(stdout)}
                if status != 0 or len(reports) != len(requests):
                    raise MachineError("the emulated machine did not carry out the runs: "
                                       + (stderr.strip() or stdout[-500:]))
        return [self._outcome(reports[n]) for n in range(len(requests))]

    @staticmethod
    def _outcome(text):
        data = base64.b64decode("".join(text.split()))
        body = gzip.decompress(data)
        if not body.startswith(b"{"):
            raise MachineError("the runner failed in the emulated machine: "
                               + body.decode(errors="replace").strip())
        return report.outcome(body, {})
