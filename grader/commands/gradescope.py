"""Gradescope: the autograder zip (make gradescope), and what runs inside it.

The zip holds setup.sh and run_autograder at its top, beside the student
handout's files (the engine, boot.asm, the lab program prebuilt, the public
grader, the emulated machine) and, prebuilt, what students must not see: the
reference VMM and the hidden test programs (private/), without any source.
Gradescope unpacks it into /autograder/source and runs setup.sh once
(`grader prepare`), then run_autograder for each submission, which grades
/autograder/submission into /autograder/results/results.json.

Gradescope's containers have no /dev/kvm and cannot make a sandbox: the VMMs
run in the emulated machine (grader/machines/), and the compilers as a uid of
their own that cannot read private/.
"""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from grader import build, kit, machines, sandbox
from grader.commands import grade
from grader.intake.variants import Variants, VariantsError
from grader.reports import results
from grader.session.plugin import rubric_items

TEMPLATES = Path(__file__).resolve().parent / "gradescope_files"
# What setup.sh installs: the Makefiles' lists (building the kit, grading,
# the emulated machine the autograder grades in).
PACKAGE_VARIABLES = ["BUILD_PACKAGES", "GRADER_PACKAGES", "EMULATED_PACKAGES"]
KERNEL = Path("build/emulated/kernel")  # the emulated machine's kernel (emulated/fetch-kernel.sh)
ANSWERS = Path("handouts/lab2-answers.md")
STATEMENT = Path("handouts/lab2.md")
PREPARED = kit.KIT / "build" / "grader" / "autograde"
METADATA = Path("/autograder/submission_metadata.json")
PRIVATE_VARIANTS = kit.PRIVATE / "variants"  # each student's lab program, where the class has them


def _add(archive, name, data, executable=False):
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def _stage(stage, root, variants):
    """The autograder's files, laid out in `stage`."""
    kit.make(root, ["all", *kit.KIT_TARGETS])
    subprocess.run([str(root / "tools" / "make_handout.sh"), str(stage)], cwd=root, check=True,
                   stdout=subprocess.DEVNULL)
    (stage / kit.PRIVATE_PROGRAMS).mkdir(parents=True)
    (stage / kit.PRIVATE_REFERENCE).parent.mkdir(parents=True)
    shutil.copy2(root / kit.REFERENCE_TARGET, stage / kit.PRIVATE_REFERENCE)
    hidden = kit.hidden_programs(root)
    for name in hidden:
        build.musl_program(kit.PROGRAMS / f"{name}.c", stage / kit.PRIVATE_PROGRAMS / name,
                           strict=True)
    (stage / kit.PRIVATE_HIDDEN).write_text(json.dumps(hidden, indent=1) + "\n")
    if variants:
        variants.pack(stage / PRIVATE_VARIANTS)
    # The kernel, fetched here from the Debian archive: Gradescope's images
    # are Ubuntu, whose archive has no Debian kernel. Its unpacked twin
    # (vmlinux) is made again by setup.sh.
    subprocess.run([str(root / "emulated" / "fetch-kernel.sh")], check=True)
    kernel = stage / KERNEL
    kernel.mkdir(parents=True)
    for item in sorted((root / KERNEL).iterdir()):
        if item.name not in ("vmlinux", ".complete"):
            shutil.copy2(item, kernel / item.name)
    files = [line for line in (root / KERNEL / ".complete").read_text().splitlines()
             if line != "vmlinux"]
    (kernel / ".complete").write_text("\n".join(files) + "\n")


def _normalized(text):
    """Text as lines without their indentation, blank and short lines left out."""
    return [line.strip() for line in text.splitlines() if len(line.strip()) >= 12]


def instructor_passages(root):
    """Passages of three lines that only the instructor's files hold: the
    reference's answer (its solution blocks, which the skeleton does not have)
    and the written answers (but what they quote of the statement). No file of
    the zip outside private/ may hold one."""
    sys.path.insert(0, str(root / "tools"))
    from make_skeleton import make_skeleton
    reference = (root / kit.REFERENCE_SOURCE).read_text().splitlines(keepends=True)
    public = set(_normalized("".join(make_skeleton(reference))))
    answer = [line for line in _normalized("".join(reference)) if line not in public]
    statement = "\n".join(_normalized((root / STATEMENT).read_text()))
    passages = set()
    for lines in [answer, _normalized((root / ANSWERS).read_text())]:
        for i in range(len(lines) - 2):
            passage = "\n".join(lines[i:i + 3])
            if passage not in statement:
                passages.add(passage)
    return passages


def pack(out, root=kit.KIT, variants=None):
    """Writes the autograder zip, with the class's variants (make variants'
    folder: `variants`, or dist/variants if it exists) if any. Returns 0."""
    out.mkdir(parents=True, exist_ok=True)
    try:
        variants = Variants(variants) if variants else (
            Variants(grade.VARIANTS) if (grade.VARIANTS / "manifest.json").exists() else None)
    except VariantsError as error:
        raise SystemExit(f"make gradescope: {error}") from None
    zip_path = out / "lab2-autograder.zip"
    packages = {name: kit.make_variable(root, name) for name in PACKAGE_VARIABLES}
    if not all(packages.values()):
        raise SystemExit("make gradescope: the Makefiles do not say which packages the "
                         f"autograder needs ({', '.join(PACKAGE_VARIABLES)})")
    setup = (TEMPLATES / "setup.sh").read_text().replace(
        "@PACKAGES@", " ".join(dict.fromkeys(p for names in packages.values() for p in names)))
    with tempfile.TemporaryDirectory() as temporary:
        stage = Path(temporary) / "autograder"
        _stage(stage, Path(root), variants)
        secret = instructor_passages(Path(root))
        with zipfile.ZipFile(zip_path, "w") as archive:
            _add(archive, "setup.sh", setup, executable=True)
            _add(archive, "run_autograder", (TEMPLATES / "run_autograder").read_text(),
                 executable=True)
            for path in sorted(p for p in stage.rglob("*") if p.is_file()):
                data = path.read_bytes()
                name = str(path.relative_to(stage))
                text = "\n".join(_normalized(data.decode(errors="replace")))
                if not name.startswith("private/") and any(p in text for p in secret):
                    raise SystemExit(f"make gradescope: {name} holds the reference's or the "
                                     "answers' text: it must not be in the autograder")
                _add(archive, name, data, executable=os.access(path, os.X_OK))
    print(f"Gradescope autograder: {zip_path}\n"
          "Upload it as the assignment's autograder (Configure Autograder, Zip file upload, "
          "Ubuntu base image). Students submit their lab2/ folder (zipped), or at least "
          "vm_manager/manager.cpp, app_guess.c and ANSWERS.md."
          + (f" Each student of {variants.folder} is graded against their own lab program, "
             "found by the email or student id Gradescope gives." if variants else ""))
    return 0


def prepare(out=PREPARED):
    """setup.sh's work: the kit snapshot, and the expected runs made once."""
    # The compilers run as a uid of their own, without a sandbox, and must not
    # read private/ (the zip gives it the modes of any folder): root's only.
    if (kit.KIT / kit.PRIVATE).is_dir():
        os.chmod(kit.KIT / kit.PRIVATE, 0o700)
    chosen, note = sandbox.choose("auto", kit.runner())
    snapshot = kit.prepare(out / "kit", sandbox=chosen, cache=out / "cache")
    machine = machines.choose(chosen, snapshot, sandbox_note=note)
    print(f"Expected runs: {machine.describe()} ({machine.why}).")
    grade.prewarm(snapshot, machine)
    return snapshot


def prepared():
    """The snapshot setup.sh prepared, unless the kit changed since (or it is missing)."""
    made = PREPARED / "kit" / "snapshot.json"
    try:
        since = made.stat().st_mtime
        if any(path.stat().st_mtime > since for part in ["grader", "vm_manager", "vm_src",
                                                          "solutions", "private"]
               for path in (kit.KIT / part).rglob("*") if path.is_file()):
            return None
        return kit.Snapshot.open(PREPARED / "kit")
    except (OSError, KeyError, ValueError):
        return None


def submitter():
    """(name, email, sid) of the submitter, from Gradescope's metadata."""
    try:
        user = (json.loads(METADATA.read_text()).get("users") or [{}])[0]
        return (user.get("name") or user.get("email") or "submission", user.get("email", ""),
                str(user.get("sid") or ""))
    except (OSError, ValueError, AttributeError, IndexError):
        return "submission", "", ""


def own_program(name, email, sid):
    """(the submitter's own lab program, or None; a note when they should have
    one but it is not found)."""
    folder = kit.KIT / PRIVATE_VARIANTS
    if not (folder / "manifest.json").exists():
        return None, None
    variant = Variants(folder).find(name, email, sid)
    if variant is None:
        return None, (f"No lab program of your own was found for {email or name}: graded "
                      "against the kit's. Tell your instructor.")
    return variant.program, None


def autograde(submitted, results_dir, sandbox_kind="auto"):
    """Grades the one submission of a Gradescope run. Always writes results.json."""
    results_dir.mkdir(parents=True, exist_ok=True)
    try:
        snapshot = prepared() or prepare()
    except (kit.KitError, sandbox.SandboxError, machines.ChoiceError, machines.MachineError,
            RuntimeError) as error:
        return _give_up(results_dir, f"The autograder could not set up the kit: {error}")
    name, email, sid = submitter()
    try:
        program, missing = own_program(name, email, sid)
    except VariantsError as error:
        return _give_up(results_dir, f"The autograder's lab programs are damaged: {error}")
    grade.grade_one(name, submitted, snapshot, PREPARED, sandbox_kind, PREPARED / "cache",
                    folder="student", program=program)
    produced = PREPARED / "students" / "student"
    if missing:
        data = json.loads((produced / "results.json").read_text())
        data["output"] = f"{missing}\n{data['output']}"
        (produced / "results.json").write_text(json.dumps(data, indent=1) + "\n")
    shutil.copy(produced / "results.json", results_dir / "results.json")
    shutil.copy(produced / "feedback.txt", results_dir / "feedback.txt")
    return 0


def _give_up(results_dir, reason):
    from grader import rubric as module
    records, extra = results.grader_failure("submission", reason, rubric_items(module))
    (results_dir / "results.json").write_text(
        json.dumps(results.gradescope(records, extra), indent=1) + "\n")
    print(reason, file=sys.stderr)
    return 0
