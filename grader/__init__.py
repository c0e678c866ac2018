"""The Lab 2 grader: make check, make grade, make gradescope (see README.md)."""
