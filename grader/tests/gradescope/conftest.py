"""make test-gradescope: the autograder zip in a container as Gradescope runs it.

The fixtures make, in order: a Debian root (debootstrap, once), the image
(the zip unpacked into /autograder/source and setup.sh run, once per zip),
one container per submission running run_autograder, and the same
submissions graded on this machine's KVM with `python3 -m grader grade`, to
compare. Everything goes to build/gradescope-test/; timings.json there says
how long each part took.
"""
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.machines import kvm
from grader.tests import submissions
from grader.tests.gradescope import container

KIT = Path(__file__).resolve().parents[3]
BUILD = KIT / "build" / "gradescope-test"
ZIP = KIT / "build" / "grader" / "gradescope" / "lab2-autograder.zip"
RUN_SECONDS = 1200  # one submission's run_autograder, on one CPU
HOST_SECONDS = 900

# Instructor files' paths in the container: the reference's and the answers'
# would be there if the zip held them (it does not); the hidden programs' list
# is there, for root only.
SOURCE = "/autograder/source"
REFERENCE_INSIDE = f"{SOURCE}/solutions/lab2/vm_manager/manager.cpp"
ANSWERS_INSIDE = f"{SOURCE}/handouts/lab2-answers.md"
HIDDEN_INSIDE = f"{SOURCE}/private/programs/hidden.json"


def _case_files(name):
    case = submissions.CASES[name]
    return submissions.files_of(name, case, lab_trace=None)


def _include(path):
    return {"vm_manager/manager.cpp": f'#include "{path}"\n'.encode()}


# {student: {path in /autograder/submission: bytes}}. The reference as a student
# who zipped their lab2/ folder uploads it; the others as loose files.
SUBMISSIONS = {
    "reference": {f"lab2/{p}": d for p, d in _case_files("reference").items()},
    "skeleton": _case_files("skeleton"),
    "wrong_fd": _case_files("wrong_fd"),
    "segfault": _case_files("segfault"),
    "include_reference": _include(REFERENCE_INSIDE),
    "include_answers": _include(ANSWERS_INSIDE),
    # Private files are in the container: the compiler's uid must not read them.
    "include_private": _include(HIDDEN_INSIDE),
}
INCLUDES = {"include_reference": REFERENCE_INSIDE, "include_answers": ANSWERS_INSIDE,
            "include_private": HIDDEN_INSIDE}

# The student Gradescope says submitted, as its submission_metadata.json does.
USERS = {name: {"email": f"{name.replace('_', '.')}@students.example.edu", "id": 700100 + i,
                "name": name.replace("_", " ").title(), "sid": str(20260100 + i)}
         for i, name in enumerate(SUBMISSIONS)}

# PID 1 of a submission's container: Gradescope's harness, as far as it
# matters here. After run_autograder, every process left in the container
# (but PID 1) is listed as /proc/PID/stat has it: there must be none.
HARNESS = """cd /autograder
/autograder/run_autograder >/autograder/run_autograder.log 2>&1
echo $? >/autograder/run_autograder.status
for process in /proc/[0-9]*; do
    [ "${process#/proc/}" = 1 ] && continue
    read -r stat <"$process/stat" && echo "$stat"
done >/autograder/left-running
"""

# A run_autograder that returns while a process it started runs on.
LEAVES_A_PROCESS = """#!/bin/sh
sleep 600 </dev/null >/dev/null 2>&1 &
until grep -qx sleep /proc/$!/comm; do :; done
echo "sleep started: $!"
"""


def metadata(name):
    return {
        "id": 301_000_000 + USERS[name]["id"],
        "created_at": "2026-11-30T14:02:11.518230-08:00",
        "assignment": {"id": 5_551_212, "title": "Lab 2: a program's system calls in the VMM",
                       "release_date": "2026-11-16T09:00:00.000000-08:00",
                       "due_date": "2026-12-07T23:59:00.000000-08:00", "late_due_date": None,
                       "group_submission": False, "group_size": None, "total_points": "100.0",
                       "course_id": 880_123, "outline": []},
        "submission_method": "upload",
        "users": [{**USERS[name], "assignments": []}],
        "previous_submissions": [],
    }


def stop(text):
    """What the test needs is missing or broken: one message, and no test runs."""
    pytest.exit(f"make test-gradescope: {text}", returncode=1)


def say(config, text):
    """A line on the terminal as the tests go (the steps take minutes)."""
    capture = config.pluginmanager.getplugin("capturemanager")
    reporter = config.pluginmanager.getplugin("terminalreporter")
    with capture.global_and_fixture_disabled():
        if reporter._tw.width_of_current_line:  # after pytest's dots
            reporter._tw.line()
        reporter.write_line(f"gradescope-test: {text}")


class Timings:
    def __init__(self):
        self.data = {}

    def add(self, key, seconds):
        self.data[key] = round(seconds, 1)
        BUILD.mkdir(parents=True, exist_ok=True)
        (BUILD / "timings.json").write_text(json.dumps(self.data, indent=1) + "\n")


@pytest.fixture(scope="session")
def timings():
    return Timings()


@pytest.fixture(scope="session")
def build_lock():
    """One make test-gradescope at a time on this build directory."""
    with container.locked(BUILD / ".lock"):
        yield


@pytest.fixture(scope="session")
def root_filesystem(request, build_lock, timings):
    if os.geteuid() != 0:
        stop("it runs as root: it makes a root file system, namespaces and cgroups, as "
             "Gradescope's container runtime does")
    started = time.monotonic()
    known = (BUILD / "rootfs" / f"{container.SUITE}-{container.ARCH}-{container.VARIANT}"
             / "made.json").exists()
    if not known:
        say(request.config, f"debootstrap {container.SUITE} {container.ARCH} "
            f"--variant={container.VARIANT} (once; a few minutes)")
    try:
        root, identity = container.rootfs(BUILD)
    except container.ContainerError as error:
        stop(str(error))
    timings.add("rootfs_cached" if known else "debootstrap", time.monotonic() - started)
    return root, identity


@pytest.fixture(scope="session")
def autograder_zip():
    if not ZIP.exists():
        stop(f"{ZIP} is missing: make test-gradescope makes it first (make gradescope)")
    return ZIP


@pytest.fixture(scope="session")
def prepared(request, root_filesystem, autograder_zip, timings):
    """The image: setup.sh's work over the root, for this zip."""
    root, identity = root_filesystem
    started = time.monotonic()
    if not container.image_made(BUILD, identity, autograder_zip):
        say(request.config, "the image: the zip unpacked, setup.sh run as root with the "
            "network (once per zip; minutes)")
    try:
        made = container.image(BUILD, root, identity, autograder_zip)
    except container.ContainerError as error:
        stop(str(error))
    if made.setup_seconds is None:
        say(request.config, f"the image: this zip's, made before ({made.key})")
        timings.add("image_cached", time.monotonic() - started)
    else:
        timings.add("setup", made.setup_seconds)
    return made


@dataclass
class Graded:
    """One submission's run_autograder in its container."""
    name: str
    status: int | None  # run_autograder's
    results: dict | None
    log: str  # run_autograder's output
    left_running: list
    limits: dict  # what the memory cgroup saw
    seconds: float


def run_submission(image, name, files, run_autograder=None, student=None):
    """Grades `files` in a container of the image, as Gradescope does (for
    `student`, the one named `name` unless said): or runs `run_autograder` (a
    script's text) in its place."""
    scratch = BUILD / "runs" / name
    container.remove(scratch)
    autograder = scratch / "upper" / "autograder"
    if run_autograder is not None:
        autograder.mkdir(parents=True)
        (autograder / "run_autograder").write_text(run_autograder)
        (autograder / "run_autograder").chmod(0o755)
    for path, data in files.items():
        (autograder / "submission" / path).parent.mkdir(parents=True, exist_ok=True)
        (autograder / "submission" / path).write_bytes(data)
    (autograder / "results").mkdir()
    (autograder / "submission_metadata.json").write_text(json.dumps(metadata(student or name), indent=1))
    ran = container.run(image.layers, scratch, ["/bin/bash", "-c", HARNESS], name=name,
                        timeout=RUN_SECONDS)
    kept = BUILD / "results" / name
    container.remove(kept)
    kept.mkdir(parents=True)

    def read(path):
        return path.read_text(errors="replace") if path.exists() else None

    results = read(autograder / "results" / "results.json")
    if results is not None:
        (kept / "results.json").write_text(results)
    log = read(autograder / "run_autograder.log") or ""
    (kept / "run_autograder.log").write_text(log)
    (kept / "container.log").write_text(ran.log)
    status = read(autograder / "run_autograder.status")
    left = read(autograder / "left-running")
    graded = Graded(name, int(status) if status else None,
                    json.loads(results) if results else None, log,
                    left.splitlines() if left is not None else ["(PID 1 did not list them)"],
                    ran.limits, ran.seconds)
    (kept / "container.json").write_text(json.dumps(
        {"status": graded.status, "left_running": graded.left_running, "limits": ran.limits,
         "seconds": round(ran.seconds, 1), "container_status": ran.status}, indent=1) + "\n")
    container.remove(scratch)
    return graded


@pytest.fixture(scope="session")
def graded(request, prepared, timings):
    """{student: Graded}: every submission, one container each, one after the other."""
    out = {}
    for name, files in SUBMISSIONS.items():
        say(request.config, f"run_autograder: {name}")
        try:
            out[name] = run_submission(prepared, name, files)
        except container.ContainerError as error:
            stop(str(error))
        timings.add(f"run_autograder {name}", out[name].seconds)
        peak = out[name].limits.get("peak")
        say(request.config, f"  {out[name].seconds:.1f} s" + (
            f", memory at its peak {peak >> 20} MiB of {container.MEMORY >> 20}" if peak else ""))
    return out


@pytest.fixture(scope="session")
def host_graded(request, timings):
    """{student: results.json}: the same submissions graded by `python3 -m grader
    grade` on this machine's KVM."""
    problem = kvm.problem()
    if problem:
        pytest.skip(f"the comparison with make grade needs this machine's KVM: {problem}")
    folder = BUILD / "host" / "submissions"
    out = BUILD / "host" / "grade"
    container.remove(folder)
    container.remove(out)
    for name, files in SUBMISSIONS.items():
        for path, data in files.items():
            (folder / name / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / name / path).write_bytes(data)
    say(request.config, "python3 -m grader grade on this machine's KVM, the same submissions")
    started = time.monotonic()
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    environment.pop("GRADER_MACHINE", None)
    done = subprocess.run(["/usr/bin/python3", "-m", "grader", "grade", str(folder), "--out",
                           str(out), "--cache", str(BUILD / "host" / "cache")], cwd=KIT,
                          env=environment, capture_output=True, text=True,
                          timeout=HOST_SECONDS)
    timings.add("make grade on KVM", time.monotonic() - started)
    assert done.returncode == 0, done.stdout + done.stderr
    return {name: json.loads((out / "students" / name / "results.json").read_text())
            for name in SUBMISSIONS}


@pytest.fixture(scope="session")
def probe(request, prepared):
    """A container like a submission's, running `probe.sh` instead of the
    autograder: what the container is, seen from inside."""
    scratch = BUILD / "runs" / "probe"
    container.remove(scratch)
    say(request.config, "the container, probed from inside")
    (scratch / "upper").mkdir(parents=True)
    shutil.copy2(Path(__file__).parent / "probe.sh", scratch / "upper" / "probe.sh")
    ran = container.run(prepared.layers, scratch, ["/bin/bash", "/probe.sh"], name="probe",
                        timeout=300)
    container.remove(scratch)
    facts = {}
    for line in ran.log.splitlines():
        key, _, value = line.partition(": ")
        if key.startswith("@"):
            facts.setdefault(key[1:], []).append(value)
    return ran, {key: "\n".join(values) for key, values in facts.items()}


@pytest.fixture(scope="session")
def left_behind(request, prepared):
    """A run_autograder that leaves a process running: what the harness lists then."""
    say(request.config, "a run_autograder that leaves a process behind")
    try:
        return run_submission(prepared, "leaves_a_process", SUBMISSIONS["skeleton"],
                              run_autograder=LEAVES_A_PROCESS, student="skeleton")
    except container.ContainerError as error:
        stop(str(error))
