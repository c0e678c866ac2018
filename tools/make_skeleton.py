#!/usr/bin/env python3
"""Derive the student's skeleton from the reference solution.

In the reference, each answer sits between marker lines:

    //! BEGIN SOLUTION
    ... the answer: dropped from the skeleton ...
    //! ELSE
    //! ... what the student gets instead, each line behind "//! " ...
    //! END SOLUTION

Usage: make_skeleton.py REFERENCE > SKELETON
"""
import re
import sys

MARKER = re.compile(r"^(\s*)//! ?(.*)$")


def make_skeleton(lines):
    out = []
    state = "outside"
    for number, line in enumerate(lines, 1):
        match = MARKER.match(line)
        text = match.group(2).rstrip() if match else None
        if text == "BEGIN SOLUTION":
            if state != "outside":
                raise SyntaxError(f"line {number}: BEGIN SOLUTION inside a block")
            state = "solution"
        elif text == "ELSE":
            if state != "solution":
                raise SyntaxError(f"line {number}: ELSE without BEGIN SOLUTION")
            state = "skeleton"
        elif text == "END SOLUTION":
            if state == "outside":
                raise SyntaxError(f"line {number}: END SOLUTION without BEGIN SOLUTION")
            state = "outside"
        elif state == "outside":
            out.append(line)
        elif state == "skeleton":
            if not match:
                raise SyntaxError(f"line {number}: skeleton lines start with //!")
            out.append((match.group(1) + match.group(2)).rstrip() + "\n")
    if state != "outside":
        raise SyntaxError("a solution block is not closed by END SOLUTION")
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    with open(sys.argv[1]) as reference:
        try:
            sys.stdout.writelines(make_skeleton(reference.readlines()))
        except SyntaxError as error:
            sys.exit(f"{sys.argv[1]}: {error}")


if __name__ == "__main__":
    main()
