"""The class gradebook (gradebook.csv): one row per student, one column per
rubric test, built from every student's results.json in OUT, so that grading
one student again updates that student's row and keeps the others.

With a roster (grader/intake/roster.py), it carries each student's email and
student id, and has a row for every student of the roster, submitted or not,
so that it can be uploaded as it is. The scores are the exact ones of
results.json. "answers (manual)" is left empty for the points of ANSWERS.md,
which are graded by hand. The behaviour column says what the containment
stopped, and which students' manager.cpp are very similar, once `make
similarity` has compared them (grading again rewrites the gradebook without
grading unchanged submissions again).
"""
import csv
import json
from pathlib import Path

from grader import BUILD
from grader.reports.results import number

# The similarity check's pairs (make similarity), and from how similar on a
# pair is flagged in the behaviour column: independent work from the same
# skeleton stays well below (grader/similarity/).
SIMILARITY = BUILD / "grader" / "similarity" / "pairs.csv"
SIMILAR = 0.6


def similar_pairs(pairs):
    """{student: "very similar to NAME (0.80)"} from a pairs.csv, if there is one."""
    if not Path(pairs).exists():
        return {}
    from grader.similarity import flagged
    return {student: "very similar to " + ", ".join(f"{other} ({value:.2f})"
                                                    for other, value in found)
            for student, found in flagged(pairs, SIMILAR).items()}


def rows(out, roster):
    """[(student name, results.json data or None)], the roster's order first."""
    graded = {}
    for folder in sorted((out / "students").glob("*/results.json")):
        graded[folder.parent.name] = json.loads(folder.read_text())
    names = list(roster or {}) + [name for name in graded if name not in (roster or {})]
    return [(name, graded.get(name)) for name in names]


def write(out, items, roster=None, pairs=SIMILARITY):
    """Writes OUT/gradebook.csv. `items`: the rubric (plugin.rubric_items)."""
    path = out / "gradebook.csv"
    similar = similar_pairs(pairs)
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
                               "", " | ".join(extra.get("behaviour", [])
                                              + ([similar[name]] if name in similar else [])),
                               " | ".join(notes)])
    return path
