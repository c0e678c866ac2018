"""The Lab 2 grader: make check, make grade, make gradescope (see README.md)."""
from pathlib import Path

KIT = Path(__file__).resolve().parent.parent  # the kit (or handout) the grader is part of
BUILD = KIT / "build"
