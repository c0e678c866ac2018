"""The result files stay readable whatever a submission makes the grader
quote: control characters from a compiler's message, file names that are not
UTF-8 (decoded with surrogateescape, as the sandbox's report does)."""
import xml.etree.ElementTree as ElementTree

from grader.judge.checks import file_differences
from grader.reports import junit, results
from grader.sandbox import FileInfo
from grader.session.plugin import Result
from grader.tests.conftest import fresh

ODD_NAME = b"ay_caramba\xff\x1b[2J".decode(errors="surrogateescape")


def failed(output):
    return Result(1, "step2_file", "Step 2: the files it leaves", 10, 0, "failed", output,
                  "visible")


def test_a_file_name_of_any_bytes_is_shown_escaped():
    expected = {"ay_caramba": FileInfo("file", mode=0o644, size=28, data=b"x" * 28)}
    actual = {ODD_NAME: FileInfo("file", mode=0o644, size=3, data=b"abc")}

    problems = file_differences(expected, actual)

    assert any(p.startswith("ay_caramba\\udcff\\x1b[2J: not expected") for p in problems)
    assert all(c.isprintable() for p in problems for c in p)


def test_feedback_and_junit_are_written_whatever_the_text_holds():
    out = fresh("reports-odd-text")
    text = f"gcc said: \x01\x07 {ODD_NAME}"
    result = failed(text)

    results.write_student_files(out, [result], {"student": "alice"})
    suite = junit.suite("alice", results.gradescope([result], {}))
    junit.write(out / "junit.xml", [suite])

    assert "gcc said:" in (out / "feedback.txt").read_text(errors="replace")
    parsed = ElementTree.parse(out / "junit.xml").getroot()
    assert "gcc said: \\x01\\x07" in parsed.find(".//failure").text
