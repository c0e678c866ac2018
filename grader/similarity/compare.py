"""Dolos run on one file of every submission: pairs.csv and Dolos's report."""
import csv
import itertools
import shutil
import subprocess
import tempfile
from pathlib import Path

from grader import KIT
from grader.intake import submission

DRIVER = Path(__file__).resolve().parent / "dolos.mjs"
# What can be compared: {the file in a submission: (its template in the kit, Dolos's language)}.
FILES = {"manager.cpp": (submission.MANAGER, KIT / "lab2" / "vm_manager" / "manager.cpp", "cpp"),
         "app_guess.c": (submission.GUESS, KIT / "lab2" / "app_guess.c", "c")}
# The template's folder among the students' (no student's name starts with "_").
TEMPLATE_FOLDER = "_skeleton"


class SimilarityError(Exception):
    """Nothing can be compared; the message says why and what to do."""


def collect(submissions_dir, wanted):
    """{student: bytes of their `wanted` file} of a SUBMISSIONS folder, and the
    notes on the submissions that have none."""
    found, notes = {}, []
    for name, entry in submission.find(submissions_dir):  # named as make grade names them
        handed_in = submission.load(entry, name)
        data = handed_in.files.get(wanted)
        if data is None:
            notes.append(f"{handed_in.name}: no {wanted}, not compared")
        else:
            found[handed_in.name] = data
    return found, notes


def compare(submissions_dir, out, modules, file="manager.cpp"):
    """Compares `file` of every submission in `submissions_dir` with Dolos
    (installed in `modules`); writes out/pairs.csv and out/report/. Returns
    the notes on submissions left out."""
    if not Path(submissions_dir).is_dir():
        raise SimilarityError(f"{submissions_dir} is not a folder: SUBMISSIONS must be a folder "
                              "with one folder, .tar.gz or .zip per student")
    if file not in FILES:
        raise SimilarityError(f"cannot compare {file}: FILE is one of {', '.join(FILES)}")
    wanted, template, language = FILES[file]
    students, notes = collect(submissions_dir, wanted)
    if len(students) < 2:
        raise SimilarityError(f"{submissions_dir} has {len(students)} submission"
                              f"{'s' * (len(students) != 1)} with {wanted}: nothing to compare")
    out, modules = Path(out), Path(modules)
    report = out / "report"
    if report.exists():
        shutil.rmtree(report)
    out.mkdir(parents=True, exist_ok=True)
    similarities = _run_dolos(students, template, language, report, modules)
    with open(out / "pairs.csv", "w", newline="") as pairs_file:
        writer = csv.writer(pairs_file)
        writer.writerow(["student_a", "student_b", "similarity"])
        pairs = sorted(itertools.combinations(sorted(students), 2),
                       key=lambda pair: (-similarities.get(pair, 0.0), pair))
        for a, b in pairs:
            writer.writerow([a, b, f"{similarities.get((a, b), 0.0):.4f}"])
    return notes


def _run_dolos(students, template, language, report, modules):
    """{(student_a, student_b): similarity}, a < b, of the pairs Dolos found
    any shared code in (the others share none)."""
    shutil.copy(DRIVER, modules / DRIVER.name)  # beside node_modules, where its imports are
    with tempfile.TemporaryDirectory(prefix="similarity.") as stage:
        # Dolos names files by their paths: STUDENT/FILE, relative to the stage.
        paths = []
        for student, data in students.items():
            path = Path(stage) / student / template.name
            path.parent.mkdir()
            path.write_bytes(data)
            paths.append(f"{student}/{template.name}")
        (Path(stage) / TEMPLATE_FOLDER).mkdir()
        shutil.copy(template, Path(stage) / TEMPLATE_FOLDER / template.name)
        result = subprocess.run(["node", str(modules / DRIVER.name), language,
                                 f"{TEMPLATE_FOLDER}/{template.name}", str(report.resolve()),
                                 *paths], cwd=stage, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise SimilarityError(f"Dolos failed:\n{(result.stdout + result.stderr)[-3000:]}")
    similarities = {}
    with open(report / "data" / "pairs.csv", newline="") as file:
        for row in csv.DictReader(file):
            a, b = sorted(Path(row[side]).parts[0] for side in ("leftFilePath", "rightFilePath"))
            similarities[a, b] = float(row["similarity"])
    return similarities
