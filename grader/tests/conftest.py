"""Shared fixtures of the grader's self-tests. They run the grader as
instructors and students do (python3 -m grader ...), on real KVM, and keep
everything they write under build/grader/selftest/."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from grader import kit, sandbox
from grader.machines import kvm
from grader.session.plugin import rubric_items
from grader.tests import submissions

KIT = Path(__file__).resolve().parents[2]
OUT = KIT / "build" / "grader" / "selftest"
CACHE = KIT / "build" / "grader" / "cache"


def grader(*args, env=None, timeout=600):
    """Runs `python3 -m grader ARGS` from the kit, as make does."""
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    return subprocess.run(["/usr/bin/python3", "-m", "grader", *map(str, args)], cwd=KIT,
                          env=environment, capture_output=True, text=True, timeout=timeout)


def fresh(name):
    path = OUT / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


@pytest.fixture(scope="session")
def runner():
    """The sandbox's runner, built."""
    return kit.runner()


@pytest.fixture(scope="session")
def kvm_and_sandbox(runner):
    problem = kvm.problem() or sandbox.bwrap_problem(runner)
    if problem:
        pytest.skip(f"the grader's end-to-end self-tests need KVM and bubblewrap: {problem}")


@pytest.fixture(scope="session")
def lab_trace(kvm_and_sandbox):
    """The reference VMM's trace of the lab program, from the kit's own build."""
    kit.make(KIT, kit.KIT_TARGETS + [kit.REFERENCE_TARGET])
    where = fresh("lab-trace")
    run = subprocess.run([KIT / kit.REFERENCE_TARGET], cwd=where, capture_output=True,
                         text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    return run.stdout.splitlines()


class Batch:
    """One `python3 -m grader grade` of every self-test submission at once, with
    a roster, on the machine GRADER_MACHINE says (this machine's KVM by default)."""

    def __init__(self, lab_trace, name="grade", machine=None):
        self.submissions = fresh(f"{name}-submissions")
        for student, case in submissions.CASES.items():
            submissions.write(self.submissions, student, case, lab_trace)
        self.roster = OUT / f"{name}-roster.csv"
        self.roster.write_text("student,email,sid\n" + "".join(
            f"{student},{student}@example.edu,{1000 + i}\n"
            for i, student in enumerate(submissions.CASES)) + "absent,absent@example.edu,999\n")
        self.out = OUT / name
        if self.out.exists():
            shutil.rmtree(self.out)
        self.canary = OUT / f"{name}-outside"
        self.canary.write_text("nothing may change this\n")
        self.kit_files = {p: p.read_bytes() for p in [KIT / "build/vm_src/app",
                                                      KIT / "build/vm_src/boot.bin",
                                                      self.canary]}
        self.process = grader("grade", self.submissions, "--out", self.out, "--cache", CACHE,
                              "--roster", self.roster,
                              env={"GRADER_MACHINE": machine} if machine else None)
        self.titles = {item["title"]: item["name"] for item in rubric_items(
            __import__("grader.rubric", fromlist=["rubric"]))}

    def results(self, student):
        return json.loads((self.out / "students" / student / "results.json").read_text())

    def outputs(self, student):
        """{test name: (score, output)} of a student."""
        return {self.titles[t["name"]]: (t["score"], t["output"])
                for t in self.results(student)["tests"]}


@pytest.fixture(scope="session")
def batch(lab_trace):
    graded = Batch(lab_trace)
    assert graded.process.returncode == 0, graded.process.stdout + graded.process.stderr
    return graded
