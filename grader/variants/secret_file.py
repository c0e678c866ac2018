"""The instructor's secret: 32 random bytes, kept as hex in a file of the
instructor's, created on first use. Every student's program is drawn from it
(program.py): keep it for the whole term (the same secret gives the same
programs, so the grader can rebuild them) and never hand it out (with it, and
this code, anyone can work out every student's program).

The default file, lab2-variants.secret at the top of the kit, is git-ignored:
neither `make handout` nor `make gradescope` can pack it.
"""
import hashlib
import os
import secrets
from pathlib import Path

from grader import KIT

DEFAULT_PATH = KIT / "lab2-variants.secret"
SECRET_BYTES = 32


class SecretError(Exception):
    """The secret file cannot be used; the message says why and what to do."""


def secret(path=None):
    """The secret's bytes, from `path` (default DEFAULT_PATH); a new secret is
    written there if the file does not exist."""
    path = Path(path or DEFAULT_PATH)
    if not path.exists():
        create(path)
    try:
        text = path.read_text().strip()
    except (OSError, UnicodeDecodeError) as error:
        raise SecretError(f"cannot read the variants' secret {path}: {error}") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise SecretError(f"{path} does not hold a secret (at least 32 hexadecimal digits on one "
                          "line). Restore it from your copy; or, before any student has their "
                          "program, delete it and a new one is made.")
    return key


def create(path):
    """Writes a new secret to `path`, readable by its owner only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process made it first: use theirs
    except OSError as error:
        raise SecretError(f"cannot create the variants' secret {path}: {error}") from None
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_hex(SECRET_BYTES) + "\n")


def secret_id(key):
    """A short name for a secret that reveals nothing of it: the manifest
    records it, so that grading can tell whether it has the secret that made
    the programs."""
    return hashlib.sha256(b"lab2 variants secret id\0" + key).hexdigest()[:16]
