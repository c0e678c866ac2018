"""Gradescope: the autograder zip (make gradescope), and what runs inside it.

The zip holds setup.sh and run_autograder at its top, beside the kit itself
(the engine, the guest, the reference answer, the grader). Gradescope unpacks
it into /autograder/source, runs setup.sh once to build the image, then
run_autograder for each submission, which grades /autograder/submission and
writes /autograder/results/results.json.
"""
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

from grader import kit
from grader.machines import kvm
from grader.reports import results
from grader import sandbox, session
from grader.session.plugin import rubric_items

TEMPLATES = Path(__file__).resolve().parent / "gradescope_files"
SKIPPED = {"build", ".git", "__pycache__", ".pytest_cache"}
MAX_FILE = 8 << 20
GRADER_PACKAGES = ["python3", "python3-pytest", "python3-pytest-timeout", "bubblewrap",
                   "strace", "util-linux"]


def kit_files(root):
    """The kit's files to ship: what git knows (committed or not ignored), or
    else everything but build/."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=root,
                            capture_output=True, text=True)
    if listed.returncode == 0:
        names = listed.stdout.splitlines()
    else:
        names = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]
    for name in sorted(set(names)):
        path = root / name
        if (path.is_file() and not path.is_symlink() and not SKIPPED & set(Path(name).parts)
                and path.stat().st_size <= MAX_FILE):
            yield name, path


def _add(archive, name, data, executable=False):
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def pack(out, root=kit.KIT):
    """Writes the autograder zip. Returns 0."""
    out.mkdir(parents=True, exist_ok=True)
    zip_path = out / "lab2-autograder.zip"
    packages = kit.make_variable(root, "BUILD_PACKAGES") or ["make", "g++", "nasm", "musl-tools"]
    setup = (TEMPLATES / "setup.sh").read_text().replace(
        "@PACKAGES@", " ".join(dict.fromkeys(packages + GRADER_PACKAGES)))
    with zipfile.ZipFile(zip_path, "w") as archive:
        _add(archive, "setup.sh", setup, executable=True)
        _add(archive, "run_autograder", (TEMPLATES / "run_autograder").read_text(),
             executable=True)
        for name, path in kit_files(root):
            _add(archive, name, path.read_bytes(), executable=os.access(path, os.X_OK))
    print(f"Gradescope autograder: {zip_path}\n"
          "Upload it as the assignment's autograder (Configure Autograder, Zip file upload, "
          "Ubuntu base image). Students submit their lab2/ folder (zipped), or at least "
          "vm_manager/manager.cpp, app_guess.c and ANSWERS.md.")
    return 0


def autograde(submitted, results_dir, sandbox_kind="auto"):
    """Grades the one submission of a Gradescope run. Always writes results.json."""
    results_dir.mkdir(parents=True, exist_ok=True)
    out = kit.KIT / "build" / "grader" / "autograde"
    student = "submission"
    try:
        chosen, _ = sandbox.choose(sandbox_kind)
        snapshot = kit.prepare(out / "kit", sandbox=chosen, cache=out.parent / "cache")
    except (kit.KitError, sandbox.SandboxError) as error:
        return _give_up(results_dir, f"The autograder could not set up the kit: {error}")
    args = session.pytest_args(submission=submitted, student=student, snapshot=snapshot.root,
                               out=out / "student", mode="grade", sandbox=sandbox_kind,
                               cache=out.parent / "cache", work=out / "work",
                               junit=out / "student" / "junit.xml")
    status = subprocess.run([session.python(), "-m", "pytest", *args], cwd=session.KIT,
                            env=session.environment(), stdin=subprocess.DEVNULL).returncode
    produced = out / "student" / "results.json"
    if not produced.exists():
        return _give_up(results_dir, f"The grader stopped (pytest status {status}) before "
                                     "writing results. Tell your instructor.")
    data = json.loads(produced.read_text())
    problem = kvm.problem()
    if problem:
        data["output"] = (f"This grading machine has no usable /dev/kvm ({problem}), so your "
                          "VMM could not be run: only the build was graded here. Your "
                          "instructor will grade the rest on a machine with KVM.\n\n"
                          + data.get("output", "")).strip()
    (results_dir / "results.json").write_text(json.dumps(data, indent=1) + "\n")
    shutil.copy(out / "student" / "feedback.txt", results_dir / "feedback.txt")
    return 0


def _give_up(results_dir, reason):
    from grader import rubric as module
    records, extra = results.grader_failure("submission", reason, rubric_items(module))
    data = results.gradescope(records, extra)
    data["output"] = reason
    (results_dir / "results.json").write_text(json.dumps(data, indent=1) + "\n")
    print(reason, file=sys.stderr)
    return 0
