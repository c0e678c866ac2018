"""The handouts say what the kit does today: every quoted output is re-run,
and the generated figure is redrawn and compared."""
import re
import shutil
import subprocess

import pytest

from helpers import (BOOT, BUILD, KIT, LAB_APP, REFERENCE, build_vmm, edited, kvm_problem,
                     on_pvm, user_environment)

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


# An output of a VMM the kit does not build: the skeleton once its run loop
# calls handle_syscall() (Step 2, "Start here"), built by the test itself.
SKELETON_QUOTED = re.compile(
    r"<!-- skeleton output: run_vm\(\) calls handle_syscall\(\), every call undefined -->\n"
    r"```text\n(.*?)```\n", re.S)
FIRST_TODO = 'std::puts("KVM_EXIT_HLT");'


def test_step_2_first_run_is_what_the_statement_shows(tmp_path):
    if kvm_problem():
        pytest.skip(kvm_problem())
    quoted = SKELETON_QUOTED.findall((HANDOUTS / "lab2.md").read_text())
    assert len(quoted) == 1, "the statement no longer shows Step 2's first run"
    source = (KIT / "lab2" / "vm_manager" / "manager.cpp").read_text()
    vmm = build_vmm(edited(source, [(FIRST_TODO, "if (std::optional<int> status = "
                                     "handle_syscall(vcpu, guest)) { return *status; }")]),
                    tmp_path)
    result = subprocess.run([vmm, "--boot", BOOT, LAB_APP], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    expected, actual = quoted[0].splitlines(), result.stdout.splitlines()
    assert result.returncode == 125
    assert matches(expected, actual), (
        "Step 2 shows this first run:\n" + "\n".join(expected) +
        "\n\nbut the skeleton that calls handle_syscall() prints:\n" + "\n".join(actual))


# What "Before you start" says the VMM's hint says, on PVM, of a program whose
# code PVM cannot emulate in ring 0.
PVM_HINT = "cannot emulate some SSE instructions"


def test_pvm_note_is_what_the_vmm_says_of_a_printf_program(tmp_path):
    """The statement says musl's printf stops in ring 0 on PVM, and quotes the
    hint; here is a printf program, built as students build theirs."""
    assert f'"{PVM_HINT}"' in (HANDOUTS / "lab2.md").read_text()
    if kvm_problem():
        pytest.skip(kvm_problem())
    if not on_pvm():
        pytest.skip("this machine's KVM is not PVM: the program runs in ring 3")
    # A format with a conversion: gcc turns a plain printf("...\\n") into puts().
    (tmp_path / "hello.c").write_text(
        '#include <stdio.h>\n'
        'int main(int argc, char **argv) { (void)argv; printf("%d\\n", argc); return 0; }\n')
    built = subprocess.run(["musl-gcc", "-static", "-O2", "-o", "hello", "hello.c"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    result = subprocess.run([REFERENCE, "./hello"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 125
    assert "KVM_EXIT_INTERNAL_ERROR" in result.stderr and PVM_HINT in result.stderr
    assert "make run-emulated" in result.stderr


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


def test_syscall_registers_figure_is_drawn_from_a_real_run():
    """The figure of the vCPU at a system call's hlt holds the values gdb reads
    in a run of the reference VMM today (its script makes that run)."""
    if kvm_problem():
        pytest.skip(kvm_problem())
    if shutil.which("gdb") is None:
        pytest.skip("gdb is not installed (make test-deps installs it)")
    figure = subprocess.run([HANDOUTS / "figures" / "syscall_registers_svg.py", REFERENCE,
                             BUILD / "vm_src" / "boot.elf", BUILD / "vm_src" / "app"],
                            capture_output=True, text=True, timeout=180)
    assert figure.returncode == 0, figure.stderr
    assert figure.stdout == (HANDOUTS / "figures" / "syscall-registers.svg").read_text(), (
        "handouts/figures/syscall-registers.svg is out of date: run make figures")


@pytest.mark.parametrize("document", sorted(HANDOUTS.glob("*.md")), ids=lambda p: p.name)
def test_figures_the_handouts_show_exist(document):
    for figure in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", document.read_text()):
        assert (document.parent / figure).is_file(), f"{document.name} shows a missing {figure}"


# --- the commands the handouts tell readers to type ---------------------------

SHELL_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)
INLINE_MAKE = re.compile(r"`(make [^`]*)`")


def commands(pattern):
    for document in sorted(HANDOUTS.glob("*.md")):
        for command in sorted(set(pattern.findall(document.read_text()))):
            yield pytest.param(command.strip(), id=f"{document.name}: {command.strip()}")


@pytest.mark.parametrize("block", commands(SHELL_BLOCK))
def test_shell_block_runs(scratch_kit, block):
    """Each block runs as typed: from the top of the kit when it starts with
    `cd`, from lab2/vm_src otherwise. A block that runs the VMM forever (Step 1,
    or the skeleton) is stopped after a few seconds, as a reader would."""
    if kvm_problem():
        pytest.skip(kvm_problem())
    if BUILD != KIT / "build":
        pytest.skip("the handouts' commands use the normal build, not " + str(BUILD))
    top = scratch_kit.parents[1]
    cwd = top if block.startswith("cd ") else scratch_kit
    # (Step 3's block compiles lab2/app_guess.c, which the scratch view links to.)
    result = subprocess.run(["timeout", "-s", "INT", "3", "bash", "-e", "-c", block], cwd=cwd,
                            env=user_environment(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=120)
    for complaint in ["command not found", "No such file or directory", "No rule to make"]:
        assert complaint not in result.stdout, result.stdout[-2000:]
    assert result.returncode in (0, 124), result.stdout[-2000:]  # 124: stopped after 3 s


@pytest.mark.parametrize("command", commands(INLINE_MAKE))
def test_make_command_exists(command):
    """Each `make ...` the handouts name is a target of the kit's Makefile."""
    result = subprocess.run(command.replace("make", "make -n", 1), shell=True, cwd=KIT,
                            env=user_environment(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def statement_make_commands():
    text = (HANDOUTS / "lab2.md").read_text()
    return sorted(set(INLINE_MAKE.findall(text)))


@pytest.mark.parametrize("command", statement_make_commands())
def test_statement_make_command_works_in_lab2_vm_src(command):
    """The statement says each of its `make ...` commands works in lab2/vm_src
    as at the top of the kit: lab2/vm_src/Makefile hands it on."""
    result = subprocess.run(command.replace("make", "make -n", 1), shell=True,
                            cwd=KIT / "lab2" / "vm_src", env=user_environment(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
