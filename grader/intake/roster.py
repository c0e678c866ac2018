"""The class roster: a CSV file an instructor keeps, one row per student.

    student,email,sid
    alice,alice@example.edu,20261234
    bob,,

`student` is required: the name of the student's folder or archive in
SUBMISSIONS (without .zip or .tar.gz), as the gradebook shows it. `email` and
`sid` (a student id) are optional; the gradebook carries them, so that it can
be uploaded to a learning-management system. Other columns are ignored.
"""
import csv
from dataclasses import dataclass
from pathlib import Path

COLUMNS = ("student", "email", "sid")


class RosterError(Exception):
    """The roster cannot be used; the message says why and where."""


@dataclass(frozen=True)
class Student:
    name: str
    email: str = ""
    sid: str = ""


def read(path):
    """{student name: Student} of a roster CSV, in the file's order."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a spreadsheet's BOM is not part of a name
    except (OSError, UnicodeDecodeError) as error:
        raise RosterError(f"cannot read the roster {path}: {error}") from None
    rows = csv.DictReader(text.splitlines())
    header = [name.strip().lower() for name in rows.fieldnames or []]
    if "student" not in header:
        raise RosterError(f"the roster {path} has no 'student' column (its first line must name "
                          f"the columns: {','.join(COLUMNS)})")
    rows.fieldnames = header
    students = {}
    for line, row in enumerate(rows, start=2):
        name = (row.get("student") or "").strip()
        if not name:
            raise RosterError(f"{path}, line {line}: no student name")
        if name in students:
            raise RosterError(f"{path}, line {line}: {name} is listed twice")
        students[name] = Student(name, (row.get("email") or "").strip(),
                                 (row.get("sid") or "").strip())
    if not students:
        raise RosterError(f"the roster {path} lists no student")
    return students
