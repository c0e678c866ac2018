"""Building a variant as the kit builds its lab program: the distribution's
musl-gcc, with the flags of tools/build.mk (APP_CFLAGS), from a file named
app.c, so that the same source always gives the same bytes (the compiler
records the source's name in the program)."""
import functools
import shlex
import subprocess
import tempfile
from pathlib import Path

from grader import KIT



class BuildError(Exception):
    """A variant does not build: the message has the compiler's words."""


@functools.cache
def cflags():
    """The lab program's compiler flags, as tools/build.mk has them."""
    result = subprocess.run(["make", "-C", str(KIT), "--no-print-directory", "-s",
                             "print-APP_CFLAGS"], capture_output=True, text=True)
    flags = shlex.split(result.stdout)
    if result.returncode != 0 or not flags:
        raise BuildError(f"cannot read APP_CFLAGS from tools/build.mk: {result.stderr.strip()}")
    return flags


def build(variant, out_path):
    """Builds `variant` into the static program `out_path`."""
    out_path = Path(out_path).resolve()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="variant.") as scratch:
        (Path(scratch) / "app.c").write_text(variant.source)
        result = subprocess.run(["musl-gcc", *cflags(), "-o", str(out_path), "app.c"],
                                cwd=scratch, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise BuildError(f"the variant of {variant.student} does not build:\n{result.stderr}")
    return out_path
