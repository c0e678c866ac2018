"""What `make variants` writes for a class, in dist/variants/:

    manifest.json                  every student: email, sid, program, its SHA-256, ...
    STUDENT/app                    the student's program, built (what the grader runs)
    STUDENT/app.c                  its source: for the instructor only, never hand it out
    STUDENT/lab2-handout.tar.gz    the student's handout: the kit's, with this program in
                                   vm_src/app (tools/make_handout.sh), and no source

The manifest's paths are relative to its folder.
"""
import hashlib
import json
import re
import subprocess
from pathlib import Path

from grader import KIT
from grader.intake import roster
from grader.intake.variants import MANIFEST  # what grading reads
from .build import BuildError, build
from .program import variant
from .secret_file import secret_id

HANDOUT = "lab2-handout.tar.gz"
MAKE_HANDOUT = KIT / "tools" / "make_handout.sh"
# A student's name becomes a folder name: no slash, no leading dot.
FOLDER_NAME = re.compile(r"[A-Za-z0-9_@+-][A-Za-z0-9._@+-]*")


def read_roster(path):
    """{name: roster.Student} of a roster whose names can all be folder names."""
    students = roster.read(path)
    for name in students:
        if not FOLDER_NAME.fullmatch(name):
            raise roster.RosterError(
                f"{path}: the student name {name!r} cannot be a folder name (use letters, "
                "digits and . _ @ + -, not starting with a dot): it must be the name of the "
                "student's folder or archive in SUBMISSIONS")
    return students


def generate(students, out, key, log=print):
    """Writes the program, source and handout of every student (a dict of
    roster.Student), then the manifest. Returns the manifest (a dict)."""
    out = Path(out)
    entries = {}
    for number, student in enumerate(students.values(), start=1):
        folder = out / student.name
        folder.mkdir(parents=True, exist_ok=True)
        program = variant(key, student.name)
        (folder / "app.c").write_text(program.source)
        build(program, folder / "app")
        pack(folder / "app", folder / HANDOUT)
        entries[student.name] = {
            "email": student.email, "sid": student.sid,
            "program": f"{student.name}/app",
            "sha256": hashlib.sha256((folder / "app").read_bytes()).hexdigest(),
            "source": f"{student.name}/app.c", "handout": f"{student.name}/{HANDOUT}"}
        log(f"  [{number}/{len(students)}] {student.name}: {folder / HANDOUT}")
    manifest = {"secret_id": secret_id(key), "students": entries}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def pack(program, tarball):
    """The student handout of make handout, with `program` as its lab program."""
    result = subprocess.run([str(MAKE_HANDOUT), str(tarball), str(program)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f"tools/make_handout.sh could not pack {tarball}:\n{result.stderr}")


def read_manifest(out):
    """The manifest `make variants` wrote in `out`."""
    return json.loads((Path(out) / MANIFEST).read_text())
