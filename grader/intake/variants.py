"""Which lab program a student is graded against: their own variant, where the
class has them (make variants, grader/variants/), or the kit's.

Variants are read from what `make variants` wrote (dist/variants/: a
manifest.json and each student's built program), each program checked against
the SHA-256 the manifest gives. In a Gradescope autograder they come packed
(private/variants/), and the student is found by the email or student id of
Gradescope's submission metadata.
"""
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"


class VariantsError(Exception):
    """The variants cannot be used; the message says why."""


@dataclass(frozen=True)
class Variant:
    student: str
    program: Path


class Variants:
    """The variants of a class, from a folder holding manifest.json."""

    def __init__(self, folder):
        self.folder = Path(folder)
        try:
            self.students = json.loads((self.folder / MANIFEST).read_text())["students"]
        except (OSError, ValueError, KeyError) as error:
            raise VariantsError(f"{self.folder / MANIFEST} cannot be read ({error}): run "
                                "make variants ROSTER=... again") from None

    def find(self, name="", email="", sid=""):
        """The student's Variant, by name in the roster or, failing that, by
        email or student id; None for a student without one."""
        entry_name = name if name in self.students else next(
            (n for n, e in self.students.items()
             if (email and e.get("email", "").lower() == email.lower())
             or (sid and e.get("sid") == sid)), None)
        if entry_name is None:
            return None
        entry = self.students[entry_name]
        program = self.folder / entry["program"]
        try:
            digest = hashlib.sha256(program.read_bytes()).hexdigest()
        except OSError as error:
            raise VariantsError(f"{entry_name}'s program {program} cannot be read: "
                                f"{error.strerror}") from None
        if digest != entry["sha256"]:
            raise VariantsError(f"{program} is not the program make variants built for "
                                f"{entry_name} (its SHA-256 differs): run make variants again")
        return Variant(entry_name, program)

    def pack(self, folder):
        """Copies the programs and a manifest without the sources' names into
        `folder` (for the Gradescope autograder: no app.c goes with them)."""
        folder = Path(folder)
        kept = {}
        for name, entry in self.students.items():
            (folder / name).mkdir(parents=True, exist_ok=True)
            (folder / name / "app").write_bytes((self.folder / entry["program"]).read_bytes())
            kept[name] = {key: entry[key] for key in ("email", "sid", "sha256")}
            kept[name]["program"] = f"{name}/app"
        (folder / MANIFEST).write_text(json.dumps({"students": kept}, indent=1) + "\n")
