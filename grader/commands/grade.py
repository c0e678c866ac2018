"""make grade: a class's submissions, each built and run in isolation against
the same kit snapshot, side by side on all cores.

Each submission is graded by its own pytest process (grader/rubric.py) with
its own scratch directory; the only things shared are read-only: the kit
snapshot, the expected runs, and the build cache (by SHA-256 of manager.cpp).
A submission that breaks the grading process, or hangs it, still gets its
result files, saying so.
"""
import csv
import json
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from grader.session import fixtures
from grader import kit
from grader.machines import kvm
from grader import oracle
from grader.reports import results
from grader import sandbox, session
from grader.intake import submission
from grader.session.plugin import rubric_items

SUBMISSION_TIMEOUT = 600  # seconds for one submission's whole grading: a backstop


def rubric():
    from grader import rubric as module
    return rubric_items(module)


def find_submissions(directory):
    """[(student name, path)]: each folder, .tar.gz or .zip of `directory`."""
    found, names = [], set()
    for path in sorted(Path(directory).iterdir()):
        if not submission.is_submission(path):
            continue
        name, number = submission.student_name(path), 2
        base = name
        while name in names:
            name, number = f"{base}-{number}", number + 1
        names.add(name)
        found.append((name, path))
    return found


def prewarm(snapshot, chosen, scratch):
    """Makes the expected runs once, before the submissions need them."""
    expected = oracle.Expected(snapshot, chosen, scratch)
    if expected.needs_kvm and kvm.problem():
        return
    specs = [fixtures.LAB, fixtures.LAB_TRACED] + [
        fixtures.Spec(name, tuple(args), "file") for name, args in snapshot.hidden.items()]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(expected.get, specs))


def grade_one(name, path, snapshot, out, chosen_kind, cache):
    """Grades one submission in its own process. Returns its wall time."""
    student_out = out / "students" / name
    if student_out.exists():
        shutil.rmtree(student_out)
    student_out.mkdir(parents=True)
    taken = submission.load(path, name)
    submission.save(taken, student_out / "submission")
    work = out / "work" / name
    args = session.pytest_args(submission=path, student=name, snapshot=snapshot.root,
                               out=student_out, mode="grade", sandbox=chosen_kind, cache=cache,
                               work=work, junit=student_out / "junit.xml")
    started = time.monotonic()
    reason = None
    try:
        with open(student_out / "grader.log", "wb") as log:
            status = subprocess.run([session.python(), "-m", "pytest", *args], cwd=session.KIT,
                                    env=session.environment(), stdout=log, stderr=log,
                                    stdin=subprocess.DEVNULL, timeout=SUBMISSION_TIMEOUT).returncode
        if not (student_out / "results.json").exists():
            reason = (f"The grader stopped (pytest status {status}) before writing results: "
                      "see grader.log. This is a problem of the grader: tell your instructor.")
    except subprocess.TimeoutExpired:
        reason = (f"Grading took longer than {SUBMISSION_TIMEOUT} s and was stopped. "
                  "Tell your instructor.")
    if reason:
        results.write_failure(student_out, name, reason, rubric())
    shutil.rmtree(work, ignore_errors=True)
    return time.monotonic() - started


def write_gradebook(out, graded):
    items = rubric()
    path = out / "gradebook.csv"
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["student"] + [f"{i['name']} ({results.number(i['points'])})"
                                       for i in items] + ["total", "max", "notes"])
        for name in graded:
            data = json.loads((out / "students" / name / "results.json").read_text())
            tests = data.get("extra_data", {}).get("tests", {})
            scores = [tests.get(i["name"], {}).get("score", 0) for i in items]
            notes = " | ".join(data.get("extra_data", {}).get("notes", []))
            writer.writerow([name] + [results.number(score) for score in scores] +
                            [results.number(data["score"]), data.get("max_score", ""), notes])
    return path


def write_junit(out, graded):
    """All students' JUnit files in one: a <testsuite> per student."""
    root = ElementTree.Element("testsuites", name="lab2")
    for name in graded:
        path = out / "students" / name / "junit.xml"
        try:
            tree = ElementTree.parse(path).getroot()
            suites = [tree] if tree.tag == "testsuite" else list(tree.iter("testsuite"))
        except (OSError, ElementTree.ParseError):
            data = json.loads((out / "students" / name / "results.json").read_text())
            suite = ElementTree.Element("testsuite", name=name, tests="1", errors="1")
            case = ElementTree.SubElement(suite, "testcase", classname=name, name="grading")
            ElementTree.SubElement(case, "error", message=data["output"][:200]).text = \
                data["output"]
            suites = [suite]
        for suite in suites:
            suite.set("name", name)
            root.append(suite)
    path = out / "junit.xml"
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def main(directory, out, *, jobs, sandbox_kind, cache, quiet=False):
    out, cache = Path(out).resolve(), Path(cache).resolve()
    if not Path(directory).is_dir():
        print(f"make grade: {directory} is not a folder of submissions", file=sys.stderr)
        return 2
    found = find_submissions(directory)
    if not found:
        print(f"make grade: no submission (folder, .tar.gz or .zip) in {directory}",
              file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        chosen, note = sandbox.choose(sandbox_kind)
        snapshot = kit.prepare(out / "kit", sandbox=chosen, cache=cache)
        if kvm.problem():
            print(f"Warning: {kvm.problem()}. Only the builds can be graded; the other tests "
                  "say \"not graded\".", file=sys.stderr)
        prewarm(snapshot, chosen, out / "work" / "expected")
    except (kit.KitError, sandbox.SandboxError, RuntimeError) as error:
        print(f"make grade: {error}", file=sys.stderr)
        return 2
    if note:
        print(f"Note: {note}.", file=sys.stderr)
    prepared = time.monotonic() - started
    print(f"Grading {len(found)} submission{'s' * (len(found) > 1)} from {directory}, "
          f"{jobs} at a time, against {oracle.runner(snapshot, chosen)[1]}.")
    seconds = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {name: pool.submit(grade_one, name, path, snapshot, out, chosen.kind, cache)
                   for name, path in found}
        for name, future in futures.items():
            seconds[name] = future.result()
            data = json.loads((out / "students" / name / "results.json").read_text())
            if not quiet:
                print(f"  {name:<24} {results.number(data['score']):>5}/"
                      f"{results.number(data['max_score'])}   ({seconds[name]:.1f} s)")
    graded = [name for name, _ in found]
    gradebook = write_gradebook(out, graded)
    junit = write_junit(out, graded)
    shutil.rmtree(out / "work", ignore_errors=True)
    elapsed = time.monotonic() - started
    summary = {"submissions": len(found), "jobs": jobs, "seconds": round(elapsed, 2),
               "prepare_seconds": round(prepared, 2),
               "per_minute": round(len(found) / elapsed * 60, 1),
               "grading_seconds": {name: round(s, 2) for name, s in seconds.items()}}
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"Graded {len(found)} in {elapsed:.1f} s ({summary['per_minute']} per minute).")
    print(f"Gradebook: {gradebook}\nJUnit:     {junit}\n"
          f"Per student (feedback.txt, results.json, junit.xml): {out / 'students'}/")
    return 0
