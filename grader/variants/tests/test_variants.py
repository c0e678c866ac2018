"""One lab program per student (grader/variants): deterministic, within what
the lab teaches, run by the reference VMM exactly as Linux runs it, and
handed out without its source."""
import hashlib
import json
import os
import re
import stat
import subprocess
import tarfile

import pytest

from grader.variants import SecretError, build, secret, variant
from grader.variants.program import EXTRA_FLAGS, MODES
from helpers import (BUILD, KIT, REFERENCE, files_in, native_run, native_strace, run,
                     user_environment)

KEY = bytes(range(32))  # a secret for the tests; real ones are random
CLASS = [f"student{n:03}" for n in range(300)]


def python(*args, timeout=300):
    return subprocess.run(["/usr/bin/python3", *map(str, args)], cwd=KIT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ,
                                                           "PYTHONDONTWRITEBYTECODE": "1"})


# --- the programs themselves ------------------------------------------------------------

def test_the_same_secret_and_student_give_the_same_program():
    assert variant(KEY, "alice") == variant(KEY, "alice")
    assert variant(KEY, "alice").source == variant(bytes(KEY), "alice").source


def test_every_student_and_every_secret_give_another_program():
    sources = {variant(KEY, student).source.split("\n", 1)[1] for student in CLASS}  # no name
    assert len(sources) == len(CLASS)
    assert variant(KEY, "alice") != variant(b"another secret of 32 bytes......", "alice")


def test_every_program_stays_within_what_the_lab_teaches():
    seen = {"files": set(), "writes": set(), "flags": set(), "modes": set(), "statuses": set()}
    for student in CLASS:
        program = variant(KEY, student)
        assert 1 <= len(program.files) <= 2 and 1 <= len(program.writes) <= 4
        assert sorted(program.closes) == list(range(len(program.files)))
        assert {index for index, _ in program.writes} == set(range(len(program.files)))
        assert len({file.name for file in program.files}) == len(program.files)
        for file in program.files:
            assert "/" not in file.name and not file.name.startswith(".")
            assert file.flags[0] in ("O_WRONLY", "O_RDWR") and file.flags[1] == "O_CREAT"
            assert file.mode in MODES
            seen["flags"].add(file.flags[2:])
            seen["modes"].add(file.mode)
        for _, text in program.writes:
            assert text.endswith("\n") and text[:-1].isprintable() and text[:-1].isascii()
            assert not {'"', "\\"} & set(text) and "??" not in text
        seen["files"].add(len(program.files))
        seen["writes"].add(len(program.writes))
        seen["statuses"].add(program.status)
    # Every kind of program occurs in a class.
    assert seen["files"] == {1, 2} and seen["writes"] == {1, 2, 3, 4}
    assert seen["flags"] == {(f,) if f else () for f in EXTRA_FLAGS}
    assert seen["modes"] == set(MODES) and 0 in seen["statuses"] and len(seen["statuses"]) > 4


def sample():
    """A few students whose programs, together, have every feature: one file
    and two, O_TRUNC and O_APPEND, one write and four, a status other than 0."""
    wanted = {"one file": lambda p: len(p.files) == 1, "two files": lambda p: len(p.files) == 2,
              "O_TRUNC": lambda p: any("O_TRUNC" in f.flags for f in p.files),
              "O_APPEND": lambda p: any("O_APPEND" in f.flags for f in p.files),
              "one write": lambda p: len(p.writes) == 1, "four writes": lambda p: len(p.writes) == 4,
              "status": lambda p: p.status != 0}
    chosen = []
    for student in CLASS:
        program = variant(KEY, student)
        if any(feature(program) for feature in wanted.values()):
            chosen.append(student)
            wanted = {name: f for name, f in wanted.items() if not f(program)}
        if not wanted:
            return chosen
    raise AssertionError(f"no student has {list(wanted)}")


@pytest.mark.parametrize("student", sample())
def test_the_reference_vmm_runs_a_variant_as_linux_does(kvm, tmp_path, student):
    program = build(variant(KEY, student), tmp_path / "app")
    (tmp_path / "vm").mkdir()
    (tmp_path / "native").mkdir()

    in_vm = run([REFERENCE, program], cwd=tmp_path / "vm")
    log, natively = native_run(program, [], tmp_path / "native")

    assert in_vm.stderr == ""
    # The strings are in the program's data, at the same addresses in both.
    assert in_vm.stdout.splitlines() == native_strace.trace_lines(log)
    assert in_vm.returncode == natively.returncode == variant(KEY, student).status
    assert files_in(tmp_path / "vm") == files_in(tmp_path / "native")
    for name in files_in(tmp_path / "vm"):
        assert (tmp_path / "vm" / name).stat().st_mode == (tmp_path / "native" / name).stat().st_mode


def test_the_same_variant_builds_to_the_same_bytes(tmp_path):
    one = build(variant(KEY, "alice"), tmp_path / "one" / "app").read_bytes()
    two = build(variant(KEY, "alice"), tmp_path / "two" / "app").read_bytes()
    assert one == two


# --- the instructor's secret ----------------------------------------------------------------

def test_the_secret_is_made_on_first_use_then_kept(tmp_path):
    path = tmp_path / "secret"
    first = secret(path)
    assert len(first) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret(path) == first


def test_a_damaged_secret_is_refused(tmp_path):
    path = tmp_path / "secret"
    path.write_text("not a secret\n")
    with pytest.raises(SecretError, match="does not hold a secret"):
        secret(path)


def test_the_default_secret_is_never_committed_nor_packed():
    """Ignored by git: make handout and make gradescope pack only what git knows."""
    if subprocess.run(["git", "rev-parse"], cwd=KIT, capture_output=True).returncode != 0:
        pytest.skip("the kit is not a git clone")
    ignored = subprocess.run(["git", "check-ignore", "-q", "lab2-variants.secret"], cwd=KIT)
    assert ignored.returncode == 0


# --- make variants --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """make variants, as an instructor runs it, for a roster of three."""
    if BUILD != KIT / "build":
        pytest.skip("the handouts are packed from the normal build, not " + str(BUILD))
    where = tmp_path_factory.mktemp("variants")
    roster = where / "roster.csv"
    roster.write_text("student,email,sid\nalice,alice@example.edu,1001\nbob,,1002\ncarol,,\n")
    result = run(["make", "-s", "variants", f"ROSTER={roster}", f"SECRET={where / 'secret'}",
                  f"OUT={where / 'out'}"], cwd=KIT, env=user_environment(), timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "A new secret was made in" in result.stdout
    manifest = json.loads((where / "out" / "manifest.json").read_text())
    return where, manifest


def handout_members(tarball):
    with tarfile.open(tarball) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive if m.isfile()}


def test_two_students_get_different_programs_and_no_source(made):
    where, manifest = made
    students = manifest["students"]
    assert list(students) == ["alice", "bob", "carol"]
    assert students["alice"]["email"] == "alice@example.edu" and students["bob"]["sid"] == "1002"
    key = (where / "secret").read_text().strip()
    programs = set()
    for name, entry in students.items():
        members = handout_members(where / "out" / entry["handout"])
        program = (where / "out" / entry["program"]).read_bytes()
        assert members["lab2-handout/vm_src/app"] == program
        assert hashlib.sha256(program).hexdigest() == entry["sha256"]
        assert [m for m in members if m.endswith(".c") and "/lab2/" not in m] == []
        assert not any(key.encode() in data for data in members.values()), "the secret is packed"
        assert not any("/grader/variants/" in m or "/grader/similarity/" in m for m in members)
        assert (where / "out" / entry["source"]).read_text() == variant(bytes.fromhex(key),
                                                                        name).source
        programs.add(program)
    assert len(programs) == 3


def test_the_same_roster_and_secret_give_the_same_programs(made, tmp_path):
    where, manifest = made
    again = python("-m", "grader.variants", where / "roster.csv", "--secret", where / "secret",
                   "--out", tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads((tmp_path / "manifest.json").read_text()) == manifest


def check_in(root, guess):
    """make check in an unpacked handout, with the reference's manager.cpp and
    `guess` as app_guess.c."""
    (root / "lab2" / "vm_manager" / "manager.cpp").write_bytes(
        (KIT / "solutions" / "lab2" / "vm_manager" / "manager.cpp").read_bytes())
    (root / "lab2" / "app_guess.c").write_text(guess)
    return run(["make", "check"], cwd=root, env=user_environment(), timeout=600)


def test_make_check_in_a_students_handout_checks_their_own_program(made, kvm, tmp_path):
    where, manifest = made
    with tarfile.open(where / "out" / manifest["students"]["alice"]["handout"]) as archive:
        archive.extractall(tmp_path)
    root = tmp_path / "lab2-handout"
    own, classmates = (where / "out" / "alice" / "app.c").read_text(), \
        (where / "out" / "bob" / "app.c").read_text()

    right = check_in(root, own)
    assert right.returncode == 0, right.stdout + right.stderr  # full marks
    wrong = check_in(root, classmates)
    assert wrong.returncode != 0
    step3 = [line for line in wrong.stdout.splitlines()
             if re.match(r"(OK|FAIL|PART|SKIP) +\S+/\S+  Step 3", line)]
    assert len(step3) == 2 and all(line.startswith(("FAIL", "PART")) for line in step3), \
        wrong.stdout


# --- what the instructor is told when something is wrong ---------------------------------

@pytest.mark.parametrize("roster, message", [
    ("name,email\nalice,a@x\n", "has no 'student' column"),
    ("student\nalice\nalice\n", "alice is listed twice"),
    ("student\n../alice\n", "cannot be a folder name"),
])
def test_a_bad_roster_gets_one_clear_message(tmp_path, roster, message):
    (tmp_path / "roster.csv").write_text(roster)
    result = python("-m", "grader.variants", tmp_path / "roster.csv", "--secret",
                    tmp_path / "secret", "--out", tmp_path / "out")
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and not (tmp_path / "secret").exists()


def test_a_missing_roster_or_secret_is_said(tmp_path):
    missing = python("-m", "grader.variants", tmp_path / "none.csv", "--secret",
                     tmp_path / "secret", "--out", tmp_path / "out")
    assert missing.returncode == 2 and "cannot read the roster" in missing.stderr
    (tmp_path / "roster.csv").write_text("student\nalice\n")
    (tmp_path / "secret").write_text("\n")
    damaged = python("-m", "grader.variants", tmp_path / "roster.csv", "--secret",
                     tmp_path / "secret", "--out", tmp_path / "out")
    assert damaged.returncode == 2 and "does not hold a secret" in damaged.stderr
    usage = run(["make", "-s", "variants"], cwd=KIT, env=user_environment())
    assert usage.returncode == 2 and "usage: make variants ROSTER=" in usage.stderr
