"""Fixtures of the tests that run the VMM (helpers.py has the rest)."""
import shutil
from pathlib import Path

import pytest

from helpers import BUILD, KIT, PROGRAMS, REFERENCE, kvm_problem, run, tree


@pytest.fixture
def kvm():
    problem = kvm_problem()
    if problem:
        pytest.skip(problem)


@pytest.fixture(scope="session")
def build_program(tmp_path_factory):
    """Builds a program with the distribution's musl-gcc -static: NAME is
    tests/e2e/programs/NAME.c, or the path of a .c file."""
    out = tmp_path_factory.mktemp("programs")

    def build(name, *flags, compiler="musl-gcc"):
        source = Path(name) if str(name).endswith(".c") else PROGRAMS / f"{name}.c"
        if compiler == "musl-gcc":
            flags = ("-static", *flags)
        binary = out / (source.stem + "".join("-" + f.strip("-") for f in flags))
        if not binary.exists():
            result = run([compiler, *flags, "-O2", "-Wall", "-Werror", "-o", binary, source],
                         cwd=out)
            assert result.returncode == 0, result.stderr
        return binary

    return build


@pytest.fixture(scope="session")
def reference_variant(tmp_path_factory):
    """Builds the reference VMM with one line of its source replaced (what a
    student might write instead), as the kit's Makefile builds the reference:
    reference_variant(NAME, OLD, NEW) gives the path of the VMM."""
    out = tmp_path_factory.mktemp("variants")

    def make_variable(name):
        return run(["make", "-s", "--no-print-directory", f"print-{name}"], cwd=KIT).stdout.split()

    def build(name, old, new):
        binary = out / name
        if not binary.exists():
            source = (KIT / "solutions" / "lab2" / "vm_manager" / "manager.cpp").read_text()
            assert source.count(old) == 1, f"the reference has no single {old!r}: update the test"
            (out / f"{name}.cpp").write_text(source.replace(old, new))
            result = run(["g++", *make_variable("CXXFLAGS"), "-I", KIT / "vm_manager", "-o",
                          binary, out / f"{name}.cpp", BUILD / "engine" / "libvmm.a",
                          *make_variable("VMM_LDFLAGS")], cwd=out, timeout=120)
            assert result.returncode == 0, result.stderr
        return binary

    return build


@pytest.fixture
def both(kvm, build_program, tmp_path):
    """both(NAME, ARG...): programs/NAME.c, built without SSE (report.h says
    why), run natively, then under the reference VMM, in tmp_path/work made
    afresh each time: (native, vm, native files, vm files, the VMM's trace lines)."""
    work = tmp_path / "work"

    def run_both(name, *args):
        program = build_program(name, "-mgeneral-regs-only")
        work.mkdir()
        native = run([program, *args], cwd=work, env={})
        native_files = tree(work)
        shutil.rmtree(work)
        work.mkdir()
        vm = run([REFERENCE, "--trace", tmp_path / "trace", program, *args], cwd=work)
        trace = (tmp_path / "trace").read_text().splitlines()
        vm_files = tree(work)
        shutil.rmtree(work)
        return native, vm, native_files, vm_files, trace

    return run_both
