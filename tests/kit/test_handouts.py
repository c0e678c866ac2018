"""The handouts say what the kit does today: every quoted output is re-run,
and the generated figure is redrawn and compared."""
import re
import subprocess
from pathlib import Path

import pytest

from helpers import BUILD, KIT, kvm_problem, user_environment

HANDOUTS = KIT / "handouts"
# A quoted output is a fenced block right after a comment naming its command:
#   <!-- output: COMMAND -->
#   ```text
#   ...
#   ```
# COMMAND runs in lab2/vm_src, as the statement's commands do. A line "..."
# in the block stands for any number of lines.
QUOTED = re.compile(r"<!-- output: (.*?) -->\n```text\n(.*?)```\n", re.S)


def quoted_outputs():
    for document in sorted(HANDOUTS.glob("*.md")):
        for command, expected in QUOTED.findall(document.read_text()):
            yield pytest.param(command, expected.splitlines(),
                               id=f"{document.name}: {command}")


def matches(expected, actual):
    """Line by line, where "..." matches any run of lines (even none)."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and matches(expected[1:], actual[1:])


@pytest.fixture
def scratch_kit(tmp_path):
    """A view of the kit whose lab2/vm_src is a fresh directory: commands that
    write files (the program's ay_caramba) write them there, not in the kit."""
    view = tmp_path / "kit"
    view.mkdir()
    for entry in KIT.iterdir():
        if entry.name not in ("lab2", ".git"):
            (view / entry.name).symlink_to(entry)
    (view / "lab2").mkdir()
    for entry in (KIT / "lab2").iterdir():
        if entry.name != "vm_src":
            (view / "lab2" / entry.name).symlink_to(entry)
    (view / "lab2" / "vm_src").mkdir()
    (view / "lab2" / "vm_src" / "Makefile").symlink_to(KIT / "lab2" / "vm_src" / "Makefile")
    return view / "lab2" / "vm_src"


def test_handouts_quote_some_outputs():
    assert len(list(quoted_outputs())) >= 4


@pytest.mark.parametrize("command, expected", quoted_outputs())
def test_quoted_output_is_what_the_kit_prints(scratch_kit, command, expected):
    if kvm_problem():
        pytest.skip(kvm_problem())
    if BUILD != KIT / "build":
        pytest.skip("the handouts' commands use the normal build, not " + str(BUILD))
    environment = user_environment()
    result = subprocess.run(command, shell=True, cwd=scratch_kit, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=60)
    actual = result.stdout.splitlines()
    assert matches(expected, actual), (
        f"the handout quotes this for `{command}`:\n" + "\n".join(expected) +
        "\n\nbut the kit prints:\n" + "\n".join(actual))


def test_matching_of_ellipsis():
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "..."], ["a"])
    assert not matches(["a", "...", "d"], ["a", "b"])
    assert not matches(["a"], ["a", "b"])


def test_memory_map_figure_is_drawn_from_the_current_layout(tmp_path):
    if kvm_problem():
        pytest.skip(kvm_problem())
    layout = subprocess.run(["../lab2/vm_manager", "--memory-map", "./app"],
                            cwd=BUILD / "vm_src", capture_output=True, text=True, check=True)
    figure = subprocess.run([HANDOUTS / "figures" / "memory_map_svg.py"], input=layout.stdout,
                            capture_output=True, text=True, check=True)
    assert figure.stdout == (HANDOUTS / "figures" / "memory-map.svg").read_text(), (
        "handouts/figures/memory-map.svg is out of date: run make figures")


@pytest.mark.parametrize("document", sorted(HANDOUTS.glob("*.md")), ids=lambda p: p.name)
def test_figures_the_handouts_show_exist(document):
    for figure in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", document.read_text()):
        assert (document.parent / figure).is_file(), f"{document.name} shows a missing {figure}"
