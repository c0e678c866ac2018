"""Fixtures of the tests that run the VMM (helpers.py has the rest)."""
from pathlib import Path

import pytest

from helpers import PROGRAMS, kvm_problem, run


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
