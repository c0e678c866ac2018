"""make grade-bench: how fast a class is graded, on each machine.

- This machine's KVM: N distinct copies of a correct submission (the reference
  manager.cpp and the right app_guess.c, each copy with a comment of its own,
  so that every one is compiled, as a real class's would be), graded as
  `make grade` does, on all cores. Goal: 300 in under 5 minutes on 2 cores.
- The emulated machine (where courses grade without KVM): a few such copies,
  graded one at a time on one CPU with 768 MB of memory, the small end of
  Gradescope's containers (taskset, and a memory cgroup where one can be
  made). Goal: at most 90 s a submission.

It reports submissions per minute and where the time goes (build, run,
compare, and the rest: starting Python and pytest, sandboxes, files), and
writes bench.json.
"""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from grader import KIT, kit
from grader.sandbox import cgroups

KVM_GOAL = (300, 300)  # submissions, seconds
EMULATED_GOAL = 90  # seconds a submission
ONE_CPU, SMALL_MEMORY = "0", 768 << 20


def make_copies(directory, copies):
    manager = (KIT / kit.REFERENCE_SOURCE).read_text()
    guess = (KIT / "vm_src" / "src" / "app.c").read_bytes()
    if directory.exists():
        shutil.rmtree(directory)
    for number in range(copies):
        folder = directory / f"student{number:03d}"
        (folder / "vm_manager").mkdir(parents=True)
        (folder / "vm_manager" / "manager.cpp").write_text(manager + f"// copy {number}\n")
        (folder / "app_guess.c").write_bytes(guess)


def grade(out, name, copies, jobs, machine, wrap=()):
    """Grades `copies` distinct copies from a cold build cache; returns the report."""
    submissions, graded, cache = out / f"{name}-submissions", out / name, out / f"{name}-cache"
    make_copies(submissions, copies)
    for old in (graded, cache):
        shutil.rmtree(old, ignore_errors=True)
    started = time.monotonic()
    done = subprocess.run([*wrap, sys.executable, "-m", "grader", "grade", str(submissions),
                           "--out", str(graded), "--cache", str(cache), "--jobs", str(jobs)],
                          cwd=KIT, env={**os.environ, "GRADER_MACHINE": machine},
                          capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"grade-bench: grading failed (status {done.returncode}):\n"
                         + done.stdout[-2000:] + done.stderr[-2000:])
    summary = json.loads((graded / "summary.json").read_text())
    split = {"build": 0.0, "run": 0.0, "compare": 0.0}
    scores = []
    for student in (graded / "students").iterdir():
        data = json.loads((student / "results.json").read_text())
        scores.append(data["score"])
        for key in split:
            split[key] += data["extra_data"].get("timing", {}).get(key, 0.0)  # none: failed
    worker = sum(summary["grading_seconds"].values())
    split["other"] = max(0.0, worker - sum(split.values()))
    return {"machine": machine, "copies": copies, "jobs": jobs, "seconds": round(elapsed, 1),
            "prepare_seconds": summary["prepare_seconds"],
            "per_minute": round(copies / elapsed * 60, 1),
            "per_submission": round(worker / copies, 1),
            "full_marks": sum(score == 100 for score in scores),
            "split_seconds_per_submission": {k: round(v / copies, 3) for k, v in split.items()}}


def small_container():
    """The command prefix that gives a grading one CPU and 768 MB, and what held."""
    wrap, held = ["taskset", "-c", ONE_CPU], ["one CPU (taskset)"]
    group = cgroups.create("grade-bench")
    if group is not None:
        limit = ("memory.max" if group.version == 2 else "memory.limit_in_bytes")
        for directory in group.directories:
            if (directory / limit).exists():
                (directory / limit).write_text(str(SMALL_MEMORY))
        wrap = group.wrap(wrap)
        held.append(f"768 MB (cgroup v{group.version})")
    else:
        held.append("no memory cap: no cgroup can be made here")
    return wrap, held, group


def main(copies, out, jobs, emulated_copies=3):
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    print(f"grade-bench: {copies} distinct copies of a correct submission on this machine's "
          f"KVM, {jobs} jobs ...", flush=True)
    kvm = grade(out, "kvm", copies, jobs, "kvm")
    goal = KVM_GOAL[1] * copies / KVM_GOAL[0]
    print(f"  {kvm['seconds']} s in all: {kvm['per_minute']} submissions per minute; "
          f"{kvm['full_marks']}/{copies} at full marks; goal {goal:.0f} s: "
          f"{'met' if kvm['seconds'] < goal else 'NOT met'}")
    print("  per submission, in its grading process (side by side): "
          + ", ".join(f"{k} {v} s" for k, v in kvm["split_seconds_per_submission"].items()))
    wrap, held, group = small_container()
    print(f"grade-bench: {emulated_copies} copies in the emulated machine, one at a time, "
          f"{', '.join(held)} ...", flush=True)
    try:
        emulated = grade(out, "emulated", emulated_copies, 1, "emulated", wrap)
    finally:
        if group:
            group.remove()
    emulated["container"] = held
    print(f"  {emulated['per_submission']} s a submission (kit preparation and expected runs "
          f"{emulated['prepare_seconds']} s, once); {emulated['full_marks']}/{emulated_copies} "
          f"at full marks; goal {EMULATED_GOAL} s: "
          f"{'met' if emulated['per_submission'] <= EMULATED_GOAL else 'NOT met'}")
    print("  per submission: " + ", ".join(
        f"{k} {v} s" for k, v in emulated["split_seconds_per_submission"].items()))
    (out / "bench.json").write_text(json.dumps([kvm, emulated], indent=1) + "\n")
    print(f"grade-bench: {out / 'bench.json'}")
    return 0
