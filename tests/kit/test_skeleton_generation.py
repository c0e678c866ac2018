"""The student's skeleton is derived from the reference: one source of truth."""
import subprocess
import sys
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(KIT / "tools"))
from make_skeleton import make_skeleton  # noqa: E402

REFERENCE = KIT / "solutions" / "lab2" / "vm_manager" / "manager.cpp"
SKELETON = KIT / "lab2" / "vm_manager" / "manager.cpp"


def generated_skeleton():
    stripped = "".join(make_skeleton(REFERENCE.read_text().splitlines(keepends=True)))
    return subprocess.run(["clang-format", "--assume-filename=manager.cpp"], input=stripped,
                          capture_output=True, text=True, check=True).stdout


def test_committed_skeleton_is_what_the_reference_generates():
    assert SKELETON.read_text() == generated_skeleton(), (
        "lab2/vm_manager/manager.cpp differs from what the reference generates: "
        "edit solutions/lab2/vm_manager/manager.cpp, then run make skeleton")


def test_skeleton_keeps_no_solution_marker_and_has_todos():
    skeleton = SKELETON.read_text()
    assert "//!" not in skeleton
    assert "SOLUTION" not in skeleton
    assert skeleton.count("TODO(step 2)") >= 4


def test_generator_keeps_shared_lines_drops_answers_and_uncomments_stubs():
    reference = [
        "shared\n",
        "    //! BEGIN SOLUTION\n",
        "    answer();\n",
        "    //! ELSE\n",
        "    //! // TODO: your turn\n",
        "    //! return -ENOSYS;\n",
        "    //! END SOLUTION\n",
        "also shared\n",
    ]
    assert make_skeleton(reference) == [
        "shared\n", "    // TODO: your turn\n", "    return -ENOSYS;\n", "also shared\n"]


@pytest.mark.parametrize("lines", [
    ["//! BEGIN SOLUTION\n"],
    ["//! ELSE\n"],
    ["//! END SOLUTION\n"],
    ["//! BEGIN SOLUTION\n", "//! BEGIN SOLUTION\n"],
    ["//! BEGIN SOLUTION\n", "//! ELSE\n", "not a stub line\n", "//! END SOLUTION\n"],
])
def test_generator_rejects_broken_markers(lines):
    with pytest.raises(SyntaxError):
        make_skeleton(lines)
