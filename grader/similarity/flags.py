"""Which students are flagged, from pairs.csv: the gradebook's behaviour column."""
import csv
from pathlib import Path


def flagged(pairs_csv, threshold):
    """{student: [(classmate, similarity), ...]} of the pairs whose similarity
    is at or above `threshold`, most similar first. Students with no such pair
    are not in it."""
    out = {}
    with open(Path(pairs_csv), newline="") as file:
        for row in csv.DictReader(file):
            similarity = float(row["similarity"])
            if similarity >= threshold:
                out.setdefault(row["student_a"], []).append((row["student_b"], similarity))
                out.setdefault(row["student_b"], []).append((row["student_a"], similarity))
    for pairs in out.values():
        pairs.sort(key=lambda pair: (-pair[1], pair[0]))
    return out
