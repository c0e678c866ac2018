"""JUnit XML, for CI systems and LMS plug-ins that read it: one <testsuite>
per student, one <testcase> per graded test. A test the student lost points on
is a <failure> (with the message the student sees); an <error> is only the
grader's own failure; a test not checked yet is <skipped>."""
import re
import xml.etree.ElementTree as ElementTree

# What XML 1.0 cannot hold (control characters, lone surrogates, U+FFFE/FFFF):
# a compiler's message or a program's output may have any of them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(text):
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)

KINDS = {"failed": "failure", "partial": "failure", "error": "error",
         "not checked": "skipped"}


def suite(student, data):
    """The <testsuite> of one student's results.json."""
    tests = data.get("extra_data", {}).get("tests", {})
    outputs = {t["name"]: t.get("output", "") for t in data.get("tests", [])}
    element = ElementTree.Element("testsuite", name=_text(student), tests=str(len(tests)))
    counts = {"failure": 0, "error": 0, "skipped": 0}
    for name, test in tests.items():
        case = ElementTree.SubElement(element, "testcase", classname=_text(student), name=name)
        kind = KINDS.get(test["status"])
        if kind:
            counts[kind] += 1
            message = f"{test['score']:g}/{test['max_score']:g}"
            ElementTree.SubElement(case, kind, message=message).text = \
                _text(outputs.get(test.get("title", ""), ""))
    element.set("failures", str(counts["failure"]))
    element.set("errors", str(counts["error"]))
    element.set("skipped", str(counts["skipped"]))
    return element


def write(path, suites):
    root = ElementTree.Element("testsuites", name="lab2")
    root.extend(suites)
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
