"""The variants' tests run programs as the kit's own tests do (tests/helpers.py):
the real reference VMM on real KVM, the real musl-gcc, and strace's view of
the same program run natively."""
import sys
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(KIT / "tests"))
sys.path.insert(0, str(KIT))

from helpers import kvm_problem  # noqa: E402


@pytest.fixture
def kvm():
    problem = kvm_problem()
    if problem:
        pytest.skip(problem)
