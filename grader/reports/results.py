"""What the grader writes: the student's screen for make check, and per
submission results.json (Gradescope's format) and feedback.txt."""
import json
import textwrap
from pathlib import Path

LABELS = {"passed": "OK", "partial": "PART", "failed": "FAIL", "not checked": "SKIP",
          "error": "ERROR"}


def number(value):
    """A score as every file shows it: exact to the hundredth, no trailing zeros."""
    return f"{round(value, 2):.2f}".rstrip("0").rstrip(".")


def total(results):
    counted = [r for r in results if r.status != "not checked"]
    return sum(r.score for r in counted), sum(r.points for r in counted)


def indent(text, prefix="      "):
    return textwrap.indent(text, prefix, lambda line: True)


def entry(result, repeated_details=False, hidden_mark=False):
    """One test: a status line, then what happened, indented."""
    label = LABELS[result.status]
    points = f"{'-' if result.status == 'not checked' else number(result.score)}/" \
             f"{number(result.points)}"
    mark = "  (hidden test)" if hidden_mark and result.visibility != "visible" else ""
    line = f"{label:<7} {points:>6}  {result.title}{mark}"
    return line + _what_happened(result, repeated_details)


def _what_happened(result, repeated_details):
    """A failed test's message and details, indented under its line; with
    `repeated_details`, how the run ended was already said above."""
    output = result.output
    if repeated_details and result.details:
        output = result.message + "\n(The same explanation as above.)"
    if output and result.status != "passed":
        return "\n" + indent(output.rstrip())
    return ""


def check_banner(config):
    grading = getattr(config, "grading", None)
    if grading is None:
        return f"Checking {config.getoption('submission')}.\n"
    return (f"Checking {config.getoption('submission')} against {grading.oracle.description}.\n"
            f"{grading.oracle.step3}\n{grading.where()}\n")


def practice_banner(grading):
    against = grading.oracle.label if grading is not None else "the expected runs"
    return ("\nPractice, for no points: your VMM on the programs in your samples/ and "
            f"challenge/ folders, and on busybox (Step 4), each against {against}.")


def practice_entry(result, repeated_details=False):
    """One practice program: OK, or FAIL and why."""
    label = "OK" if result.status == "passed" else LABELS[result.status]
    return f"PRACTICE {result.title}: {label}" + _what_happened(result, repeated_details)


def check_summary(results, hidden_points, extra):
    score, points = total(results)
    lines = [""]
    skipped = [r for r in results if r.status == "not checked"]
    if skipped:
        lines.append(f"Not checked ({number(sum(r.points for r in skipped))} points at grading): "
                     + skipped[0].output)
    if hidden_points:
        lines.append(f"Hidden tests ({number(hidden_points)} points) run only at grading: they "
                     "run other programs that make the same calls with other names, sizes and "
                     "statuses.")
    for note in extra.get("notes", []):
        lines.append("Note: " + note)
    lines.append(f"Score: {number(score)}/{number(points)}")
    return "\n".join(lines)


def gradescope(results, extra):
    """results.json, with only the keys of Gradescope's specification; the
    grader's own data (maximum, machine, timing, behaviour) is in extra_data."""
    score, points = total(results)
    return {
        "score": round(score, 2),
        "execution_time": round(extra.get("seconds", 0)),
        "output": "\n".join(filter(None, [extra.get("where", ""), *extra.get("notes", [])])),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [{"name": r.title, "number": str(r.number), "score": r.score,
                   "max_score": r.points, "status": "passed" if r.status == "passed" else
                   "failed", "output": r.output, "output_format": "text",
                   "visibility": r.visibility}
                  for r in results if r.status != "not checked"],
        "extra_data": {**extra, "max_score": points,
                       "tests": {r.name: {"title": r.title, "score": r.score,
                                          "max_score": r.points, "status": r.status}
                                 for r in results}},
    }


def feedback(results, extra, practice=()):
    score, points = total(results)
    student = extra.get("student", "")
    lines = [f"Lab 2 — results{' for ' + student if student else ''}", "",
             f"Score: {number(score)}/{number(points)}", ""]
    if extra.get("where"):
        lines += [extra["where"], ""]
    lines += [entry(r, hidden_mark=True) for r in results]
    if practice:
        lines += ["", "Practice, for no points (samples/, and Step 4):"]
        lines += [practice_entry(r) for r in practice]
    notes = extra.get("notes", [])
    if notes:
        lines += ["", "Notes:"] + ["  - " + n for n in notes]
    return "\n".join(lines) + "\n"


def write_student_files(out, results, extra, practice=()):
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(gradescope(results, extra), indent=1) + "\n")
    # Text a submission made (a file name of bytes that are no UTF-8) stays readable.
    (out / "feedback.txt").write_text(feedback(results, extra, practice),
                                      errors="backslashreplace")


def grader_failure(student, reason, rubric):
    """results.json and feedback for a submission the grader could not grade at all
    (it crashed or hung): one test, the reason, every rubric point lost."""
    from grader.session.plugin import Result
    points = sum(item["points"] for item in rubric)
    result = Result(1, "grader_error", "Grading ran to the end", points, 0, "error",
                    reason, "visible")
    return [result], {"student": student, "notes": [reason]}


def write_failure(out, student, reason, rubric):
    records, extra = grader_failure(student, reason, rubric)
    write_student_files(Path(out), records, extra)
