"""make grade-bench: how fast a class is graded on this machine.

Grades N copies of a correct submission (the reference manager.cpp and the
right app_guess.c) twice, each time from a cold build cache:

- identical copies: the build cache compiles manager.cpp once for all;
- distinct copies (each with its own comment line, so its own SHA-256): every
  copy is compiled, as a real class's would be.

It reports submissions per minute and where the time goes (build, run,
compare, and the rest: starting Python and pytest, sandboxes, files).
"""
import json
import shutil
import time
from pathlib import Path

from grader.commands import grade
from grader.session import KIT

GOAL_SECONDS = 180  # 100 submissions in under 3 minutes


def make_copies(directory, copies, distinct):
    manager = (KIT / "solutions" / "lab2" / "vm_manager" / "manager.cpp").read_text()
    guess = (KIT / "vm_src" / "src" / "app.c").read_bytes()
    if directory.exists():
        shutil.rmtree(directory)
    for number in range(copies):
        folder = directory / f"student{number:03d}"
        (folder / "vm_manager").mkdir(parents=True)
        text = manager + (f"// copy {number}\n" if distinct else "")
        (folder / "vm_manager" / "manager.cpp").write_text(text)
        (folder / "app_guess.c").write_bytes(guess)


def scenario(out, name, copies, jobs, distinct):
    submissions, graded, cache = out / f"{name}-submissions", out / name, out / f"{name}-cache"
    make_copies(submissions, copies, distinct)
    shutil.rmtree(cache, ignore_errors=True)
    started = time.monotonic()
    status = grade.main(submissions, graded, jobs=jobs, sandbox_kind="bwrap", cache=cache,
                        quiet=True)
    elapsed = time.monotonic() - started
    if status != 0:
        raise SystemExit(f"grade-bench: grading failed (status {status})")
    summary = json.loads((graded / "summary.json").read_text())
    split = {"build": 0.0, "run": 0.0, "compare": 0.0}
    scores = []
    for student in (graded / "students").iterdir():
        data = json.loads((student / "results.json").read_text())
        scores.append(data["score"])
        for key in split:
            split[key] += data["extra_data"]["timing"][key]
    worker = sum(summary["grading_seconds"].values())
    split["other"] = max(0.0, worker - sum(split.values()))
    return {"scenario": name, "copies": copies, "jobs": jobs, "seconds": round(elapsed, 1),
            "prepare_seconds": summary["prepare_seconds"],
            "per_minute": round(copies / elapsed * 60, 1),
            "full_marks": sum(score == 100 for score in scores),
            "split_seconds_per_submission": {k: round(v / copies, 3) for k, v in split.items()}}


def main(copies, out, jobs):
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    reports = []
    for name, distinct in [("identical", False), ("distinct", True)]:
        print(f"grade-bench: {copies} {name} copies of a correct submission, {jobs} jobs ...",
              flush=True)
        report = scenario(out, name, copies, jobs, distinct)
        reports.append(report)
        split = report["split_seconds_per_submission"]
        goal = copies / 100 * GOAL_SECONDS
        print(f"  {report['seconds']} s in all ({report['per_minute']} submissions per minute; "
              f"kit preparation {report['prepare_seconds']} s); "
              f"{report['full_marks']}/{copies} at full marks; "
              f"goal {goal:.0f} s: {'met' if report['seconds'] < goal else 'NOT met'}")
        print("  per submission, within its grading process (the jobs run side by "
              f"side): build {split['build']} s, run {split['run']} s, compare "
              f"{split['compare']} s, other (Python, pytest, sandboxes) {split['other']} s")
    (out / "bench.json").write_text(json.dumps(reports, indent=1) + "\n")
    print(f"grade-bench: {out / 'bench.json'}")
    return 0
