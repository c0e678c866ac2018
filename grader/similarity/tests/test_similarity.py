"""make similarity (grader/similarity): Dolos, with the skeleton as its
template, finds the copy in a class of independent submissions.

tests/class/ is such a class: eight students who each completed the skeleton's
TODOs in their own way (a switch, an if/else chain, a table of handlers,
helpers, early returns, ...), and mallory, who handed in grace's work with
every identifier of her own renamed and every comment stripped."""
import csv
import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from grader.intake import submission
from grader.similarity import compare, flagged
from grader.similarity.compare import collect

KIT = Path(__file__).resolve().parents[3]
CLASS = Path(__file__).resolve().parent / "class"
MODULES = KIT / "build" / "similarity"
SKELETON = KIT / "lab2" / "vm_manager" / "manager.cpp"


@pytest.fixture(scope="module")
def dolos():
    if not (MODULES / "node_modules" / "@dodona" / "dolos-lib").is_dir():
        pytest.skip(f"Dolos is not installed in {MODULES}: run make similarity-test")


def read_pairs(out):
    with open(out / "pairs.csv", newline="") as file:
        return [(row["student_a"], row["student_b"], float(row["similarity"]))
                for row in csv.DictReader(file)]


@pytest.fixture(scope="module")
def class_out(dolos, tmp_path_factory):
    out = tmp_path_factory.mktemp("similarity")
    assert compare(CLASS, out, MODULES) == []
    return out


def test_the_renamed_copy_and_its_original_are_the_most_similar_pair(class_out):
    pairs = read_pairs(class_out)
    (a, b, copied), (_, _, next_one) = pairs[0], pairs[1]
    assert (a, b) == ("grace", "mallory")
    assert copied > 0.7 and copied > next_one + 0.3, pairs[:3]


def test_every_pair_is_listed_once_most_similar_first(class_out):
    pairs = read_pairs(class_out)
    students = sorted(p.name for p in CLASS.iterdir() if p.is_dir())
    assert sorted((a, b) for a, b, _ in pairs) == [
        (a, b) for i, a in enumerate(students) for b in students[i + 1:]]
    similarities = [s for _, _, s in pairs]
    assert similarities == sorted(similarities, reverse=True)
    assert all(0 <= s <= 1 for s in similarities)


def test_dolos_report_is_written(class_out):
    assert (class_out / "report" / "index.html").is_file()
    with open(class_out / "report" / "data" / "files.csv", newline="") as file:
        csv.field_size_limit(1 << 30)
        files = {row["path"]: row["ignored"] for row in csv.DictReader(file)}
    assert files["mallory/manager.cpp"] == "false"
    assert files["_skeleton/manager.cpp"] == "true"  # the template


def test_flagged_pairs_per_student(class_out):
    flags = flagged(class_out / "pairs.csv", 0.6)
    assert set(flags) == {"grace", "mallory"}
    assert [name for name, _ in flags["grace"]] == ["mallory"]
    assert flagged(class_out / "pairs.csv", 1.01) == {}


def test_flagged_lists_the_most_similar_first_threshold_included(tmp_path):
    (tmp_path / "pairs.csv").write_text("student_a,student_b,similarity\n"
                                        "a,b,0.9000\nb,c,0.5000\na,c,0.4999\n")
    assert flagged(tmp_path / "pairs.csv", 0.5) == {"a": [("b", 0.9)],
                                                    "b": [("a", 0.9), ("c", 0.5)],
                                                    "c": [("b", 0.5)]}


def test_the_skeleton_itself_is_not_similar_to_anything(dolos, tmp_path):
    """Two students who handed in the skeleton untouched share only the template."""
    for student in ("lazy", "idle"):
        (tmp_path / "in" / student / "vm_manager").mkdir(parents=True)
        (tmp_path / "in" / student / "vm_manager" / "manager.cpp").write_bytes(
            SKELETON.read_bytes())
    compare(tmp_path / "in", tmp_path / "out", MODULES)
    assert read_pairs(tmp_path / "out") == [("idle", "lazy", 0.0)]


def add_to_tar(archive, name, text):
    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def test_app_guess_is_compared_too_archives_included(dolos, tmp_path):
    submissions = tmp_path / "in"
    guess = (KIT / "vm_src" / "src" / "app.c").read_text()
    for student in ("ann", "ben"):
        (submissions / student).mkdir(parents=True)
        (submissions / student / "app_guess.c").write_text(guess.replace("0777", "0644")
                                                           if student == "ben" else guess)
    with tarfile.open(submissions / "cat.tar.gz", "w:gz") as archive:
        add_to_tar(archive, "lab2/vm_manager/manager.cpp", SKELETON.read_text())
        add_to_tar(archive, "lab2/app_guess.c", guess)
    (submissions / "dan").mkdir()  # nothing handed in
    notes = compare(submissions, tmp_path / "out", MODULES, file="app_guess.c")
    assert notes == ["dan: no app_guess.c, not compared"]
    assert {(a, b) for a, b, _ in read_pairs(tmp_path / "out")} == {
        ("ann", "ben"), ("ann", "cat"), ("ben", "cat")}


# --- what the instructor is told when something is wrong ---------------------------------

def similarity(*args):
    return subprocess.run(["/usr/bin/python3", "-m", "grader.similarity", *map(str, args)],
                          cwd=KIT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def test_bad_input_gets_one_clear_message(tmp_path):
    (tmp_path / "one" / "alice" / "vm_manager").mkdir(parents=True)
    (tmp_path / "one" / "alice" / "vm_manager" / "manager.cpp").write_text("int main() {}\n")
    for args, message in [
        ((tmp_path / "none",), "is not a folder"),
        ((tmp_path / "one",), "has 1 submission with vm_manager/manager.cpp: nothing to compare"),
        ((tmp_path / "one", "--file", "ANSWERS.md"), "FILE is one of manager.cpp, app_guess.c"),
    ]:
        result = similarity(*args, "--out", tmp_path / "out", "--modules", MODULES)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_make_similarity_without_submissions_says_how():
    environment = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL")}
    result = subprocess.run(["make", "-s", "-o", str(MODULES / "node_modules/.package-lock.json"),
                             "similarity"], cwd=KIT, capture_output=True, text=True,
                            env=environment, timeout=120)
    assert result.returncode == 2 and "usage: make similarity SUBMISSIONS=dir" in result.stderr


def test_two_submissions_of_one_name_are_named_as_make_grade_names_them(tmp_path):
    (tmp_path / "in" / "bob" / "vm_manager").mkdir(parents=True)
    (tmp_path / "in" / "bob" / "vm_manager" / "manager.cpp").write_text("int main() {}\n")
    with tarfile.open(tmp_path / "in" / "bob.tar.gz", "w:gz") as archive:
        add_to_tar(archive, "vm_manager/manager.cpp", "int main() {}\n")

    found, _ = collect(tmp_path / "in", "vm_manager/manager.cpp")

    assert sorted(found) == ["bob", "bob-2"]
    assert [name for name, _ in submission.find(tmp_path / "in")] == ["bob", "bob-2"]
