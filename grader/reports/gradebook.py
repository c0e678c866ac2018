"""The class gradebook (gradebook.csv): one row per student, one column per
rubric test, built from every student's results.json in OUT, so that grading
one student again updates that student's row and keeps the others.

With a roster (grader/intake/roster.py), it carries each student's email and
student id, and has a row for every student of the roster, submitted or not,
so that it can be uploaded as it is. The scores are the exact ones of
results.json. "answers (manual)" is left empty for the points of ANSWERS.md,
which are graded by hand.
"""
import csv
import json

from grader.reports.results import number


def rows(out, roster):
    """[(student name, results.json data or None)], the roster's order first."""
    graded = {}
    for folder in sorted((out / "students").glob("*/results.json")):
        graded[folder.parent.name] = json.loads(folder.read_text())
    names = list(roster or {}) + [name for name in graded if name not in (roster or {})]
    return [(name, graded.get(name)) for name in names]


def write(out, items, roster=None):
    """Writes OUT/gradebook.csv. `items`: the rubric (plugin.rubric_items)."""
    path = out / "gradebook.csv"
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["student", "email", "sid"]
                        + [f"{i['name']} ({number(i['points'])})" for i in items]
                        + ["total", "max", "answers (manual)", "behaviour", "notes"])
        maximum = sum(item["points"] for item in items)
        for name, data in rows(out, roster):
            student = (roster or {}).get(name)
            identity = [name, student.email if student else "", student.sid if student else ""]
            if data is None:
                writer.writerow(identity + [""] * len(items) + [0, number(maximum), "", "",
                                                                "no submission"])
                continue
            extra = data.get("extra_data", {})
            tests = extra.get("tests", {})
            notes = list(extra.get("notes", []))
            if roster is not None and name not in roster:
                notes.insert(0, "not in the roster")
            writer.writerow(identity
                            + [number(tests.get(i["name"], {}).get("score", 0)) for i in items]
                            + [number(data["score"]), number(extra.get("max_score", maximum)),
                               "", " | ".join(extra.get("behaviour", [])), " | ".join(notes)])
    return path
