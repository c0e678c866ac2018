"""One grading session: pytest on the rubric, for one submission."""
import importlib.util
import os
import sys
from pathlib import Path

from grader import KIT

GRADER = KIT / "grader"
RUBRIC = GRADER / "rubric.py"
TEST_TIMEOUT = 240  # seconds: a backstop per test; the sandbox's limits come first


def pytest_args(*, submission, snapshot, out, mode, sandbox, cache, work=None, student=None,
                program=None):
    """pytest's command line (after `python3 -m pytest`) for grading one submission."""
    args = [str(RUBRIC), "--rootdir", str(KIT), "-c", os.devnull, "-p", "grader.session.plugin",
            "-p", "grader.session.fixtures", "-p", "no:cacheprovider", "--assert=plain",
            "--submission", str(submission), "--snapshot", str(snapshot), "--out", str(out),
            "--mode", mode, "--sandbox", sandbox, "--cache", str(cache)]
    if importlib.util.find_spec("pytest_timeout") is not None:
        args += ["-p", "pytest_timeout", f"--timeout={TEST_TIMEOUT}"]
    if work:
        args += ["--work", str(work)]
    if student:
        args += ["--student", student]
    if program:
        args += ["--program", str(program)]
    if mode == "check":
        args += ["-qq", "--no-header", "-p", "no:warnings", "--tb=no", "-rN",
                 "-o", "console_output_style=classic"]
    else:
        args += ["-q"]
    return args


def environment():
    """The environment of a grading session: the grader importable, no plugins
    but ours, and Python's caches kept out of the kit's tree."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(KIT), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ in the kit's tree
    return env


def python():
    """The Python that has Debian's pytest."""
    return "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
