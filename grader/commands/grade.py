"""make grade: a class's submissions, each built and run in isolation against
the same kit snapshot, side by side on all cores.

Each submission is graded by its own pytest process (grader/rubric.py), with
its own scratch directory, in a cgroup of its own where the machine allows
(grader/sandbox/cgroups.py); what they share is the kit snapshot (read
only), the expected runs and the build cache (by SHA-256 of manager.cpp),
each written once, under a lock or by renaming a whole file into place.
Whatever a submission does, the batch goes on and every submission gets its
result files: a submission that breaks or hangs its grading process gets
results that say so.

Grading is incremental: a submission whose files, and the kit and grader
behind them, are the same as when it was graded into OUT keeps its results; a
new or changed one is graded. The gradebook is always made from every
student's results in OUT.
"""
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from grader import kit, machines, sandbox, session
from grader.intake import roster as rosters
from grader.intake import submission
from grader.intake.variants import Variants, VariantsError
from grader.oracle import Oracle
from grader.reports import gradebook, junit, results
from grader.sandbox import cgroups
from grader.session import fixtures
from grader.session.plugin import rubric_items

SUBMISSION_TIMEOUT = 600  # seconds for one submission's whole grading: a backstop
VARIANTS = kit.KIT / "dist" / "variants"  # where make variants writes the class's programs
GRADED = "graded.json"  # beside a student's results: what was graded, for incremental grading


def rubric():
    from grader import rubric as module
    return rubric_items(module)


def prewarm(snapshot, machine):
    """Makes the expected runs once, before the submissions need them."""
    oracle = Oracle(snapshot)
    specs = [fixtures.LAB, fixtures.LAB_TRACED, *fixtures.hidden_specs(snapshot)]
    missing = [spec for spec in specs if oracle.cached(spec) is None]
    for spec, run in zip(missing, machine.run([oracle.request(spec) for spec in missing])):
        oracle.keep(spec, run)


def digest(taken, snapshot, program=None):
    """What a grade depends on: the files taken from the submission, the kit,
    and the student's own lab program if they have one."""
    hashed = hashlib.sha256(snapshot.grading_version.encode())
    if program:
        hashed.update(Path(program).read_bytes())
    for name, data in sorted(taken.files.items()):
        hashed.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    hashed.update(taken.problem.encode())
    return hashed.hexdigest()


def up_to_date(student_out, taken, snapshot, program):
    try:
        graded = json.loads((student_out / GRADED).read_text())
    except (OSError, ValueError):
        return False
    return (graded.get("digest") == digest(taken, snapshot, program)
            and (student_out / "results.json").exists())


def grade_one(name, path, snapshot, out, sandbox_kind, cache, *, folder=None, program=None):
    """Grades one submission in its own process, into OUT/students/FOLDER.
    Returns its wall time. Never raises for what the submission does."""
    folder = folder or name
    student_out = out / "students" / folder
    started = time.monotonic()
    group = None
    try:
        if student_out.exists():
            shutil.rmtree(student_out)
        student_out.mkdir(parents=True)
        taken = submission.load(path, name)
        submission.save(taken, student_out / "submission")
        work = out / "work" / folder
        args = session.pytest_args(submission=path, student=name, snapshot=snapshot.root,
                                   out=student_out, mode="grade", sandbox=sandbox_kind,
                                   cache=cache, work=work, program=program)
        group = cgroups.create(folder)
        command = [session.python(), "-m", "pytest", *args]
        reason = None
        with open(student_out / "grader.log", "wb") as log:
            # A session of its own: on a timeout, everything it started goes too.
            process = subprocess.Popen(group.wrap(command) if group else command,
                                       cwd=session.KIT, env=session.environment(), stdout=log,
                                       stderr=log, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
            try:
                status = process.wait(timeout=SUBMISSION_TIMEOUT)
                if not (student_out / "results.json").exists():
                    reason = (f"The grader stopped (status {status}) before writing results: "
                              "see grader.log. This is a problem of the grader: tell your "
                              "instructor.")
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                reason = (f"Grading took longer than {SUBMISSION_TIMEOUT} s and was stopped. "
                          "Tell your instructor.")
        if group:
            group.kill()  # whatever left its session (a runner's setsid) but not its group
        shutil.rmtree(work, ignore_errors=True)
        if reason:
            results.write_failure(student_out, name, reason, rubric())
        # A grading that failed is not kept: the next make grade grades it again.
        _finish(student_out, name, group, None if reason else digest(taken, snapshot, program))
    except Exception as error:  # the grader's own failure: still the student's results
        results.write_failure(student_out, name, f"The grader itself failed ({error}): tell "
                              "your instructor.", rubric())
        with contextlib.suppress(Exception):  # and its JUnit file; graded again next time
            _finish(student_out, name, None, None)
    finally:
        if group:
            group.remove()
    return time.monotonic() - started


def _finish(student_out, name, group, graded_digest):
    """Adds what the cgroup saw to the results, writes the student's JUnit file,
    and records what was graded."""
    data = json.loads((student_out / "results.json").read_text())
    extra = data.setdefault("extra_data", {})
    if group:
        extra["behaviour"] = extra.get("behaviour", []) + group.events()
        extra["containment"] = extra.get("containment", []) + [cgroups.mechanism(group)]
    (student_out / "results.json").write_text(json.dumps(data, indent=1) + "\n")
    junit.write(student_out / "junit.xml", [junit.suite(name, data)])
    (student_out / GRADED).write_text(json.dumps({"digest": graded_digest}) + "\n")


def variants_of(folder, roster):
    """The class's variants: from `folder`, or where make variants writes them
    when a roster is given and it did; None when every student has the kit's
    lab program."""
    folder = folder or (VARIANTS if roster and (VARIANTS / "manifest.json").exists() else None)
    return Variants(folder) if folder else None


def main(directory, out, *, jobs, sandbox_kind, cache, roster=None, force=False,
         variants=None):
    out, cache = Path(out).resolve(), Path(cache).resolve()
    if not Path(directory).is_dir():
        print(f"make grade: {directory} is not a folder of submissions", file=sys.stderr)
        return 2
    found = submission.find(directory)
    if not found:
        print(f"make grade: no submission (folder, .tar.gz or .zip) in {directory}",
              file=sys.stderr)
        return 2
    try:
        students = rosters.read(roster) if roster else None
        programs = variants_of(variants, roster)
        own = {name: programs.find(name) for name, _ in found} if programs else {}
    except (rosters.RosterError, VariantsError) as error:
        print(f"make grade: {error}", file=sys.stderr)
        return 2
    own = {name: variant.program for name, variant in own.items() if variant}
    started = time.monotonic()
    try:
        chosen, note = sandbox.choose(sandbox_kind, kit.runner())
        snapshot = kit.prepare(out / "kit", sandbox=chosen, cache=cache)
        machine = machines.choose(chosen, snapshot, sandbox_note=note)
        prewarm(snapshot, machine)
    except (kit.KitError, sandbox.SandboxError, machines.ChoiceError, machines.MachineError,
            RuntimeError) as error:
        print(f"make grade: {error}", file=sys.stderr)
        return 2
    if note:
        print(f"Note: {note}.", file=sys.stderr)
    if programs:
        without = [name for name, _ in found if name not in own]
        print(f"Lab programs: each student's own, from {programs.folder}"
              + (f"; the kit's for {', '.join(without)}, who have none" if without else "") + ".")
    prepared = time.monotonic() - started
    todo = [(name, path) for name, path in found
            if force or not up_to_date(out / "students" / name, submission.load(path, name),
                                       snapshot, own.get(name))]
    kept = len(found) - len(todo)
    print(f"Grading {len(todo)} submission{'s' * (len(todo) != 1)} from {directory}"
          + (f" ({kept} unchanged since they were graded: kept)" if kept else "")
          + f", {jobs} at a time, against {Oracle(snapshot).description}, on "
          f"{machine.describe()}: {machine.why}.")
    probe = cgroups.create("probe")
    print("Containment: " + "; ".join(chosen.mechanisms + [
        cgroups.mechanism(probe) if probe else "no cgroup (none can be made here)"]) + ".")
    if probe:
        probe.remove()
    seconds = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {name: pool.submit(grade_one, name, path, snapshot, out, chosen.kind, cache,
                                     program=own.get(name))
                   for name, path in todo}
        for name, future in futures.items():
            seconds[name] = future.result()
            data = json.loads((out / "students" / name / "results.json").read_text())
            flags = data.get("extra_data", {}).get("behaviour", [])
            print(f"  {name:<24} {results.number(data['score']):>6}/"
                  f"{results.number(data['extra_data']['max_score'])}   "
                  f"({seconds[name]:.1f} s)" + ("   behaviour: " + "; ".join(flags)
                                                if flags else ""))
    book = gradebook.write(out, rubric(), students)
    class_junit = out / "junit.xml"
    junit.write(class_junit, [junit.suite(name, data)
                              for name, data in gradebook.rows(out, None) if data])
    shutil.rmtree(out / "work", ignore_errors=True)
    elapsed = time.monotonic() - started
    summary = {"submissions": len(found), "graded": len(todo), "kept": kept, "jobs": jobs,
               "seconds": round(elapsed, 2), "prepare_seconds": round(prepared, 2),
               "machine": machine.name,
               "per_minute": round(len(todo) / elapsed * 60, 1) if todo else 0,
               "grading_seconds": {name: round(s, 2) for name, s in seconds.items()}}
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"Graded {len(todo)} in {elapsed:.1f} s ({summary['per_minute']} per minute).")
    print(f"Gradebook: {book}\nJUnit:     {class_junit}\n"
          f"Per student (feedback.txt, results.json, junit.xml): {out / 'students'}/")
    return 0
