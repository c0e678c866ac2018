"""make variants: one lab program per student of a roster.

    python3 -m grader.variants ROSTER [--out dist/variants] [--secret FILE]
"""
import argparse
import sys
from pathlib import Path

from grader.intake import roster
from .build import KIT, BuildError
from .outputs import generate, read_roster
from .secret_file import DEFAULT_PATH, SecretError, secret


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m grader.variants", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("roster", help="a CSV file with a 'student' column (and email, sid)")
    parser.add_argument("--out", default=str(KIT / "dist" / "variants"))
    parser.add_argument("--secret", default=str(DEFAULT_PATH),
                        help="the instructor's secret (created on first use)")
    args = parser.parse_args(argv)
    secret_path = Path(args.secret)
    is_new = not secret_path.exists()
    try:
        students = read_roster(args.roster)
        key = secret(secret_path)
        if is_new:
            print(f"A new secret was made in {secret_path}. Keep it, and a copy of it, for the "
                  "whole term: the same secret gives the same programs, and grading needs it. "
                  "Never hand it out.")
        print(f"Variants of {args.roster}, into {args.out}:")
        manifest = generate(students, args.out, key)
    except (roster.RosterError, SecretError) as error:
        print(f"make variants: {error}", file=sys.stderr)
        return 2
    except BuildError as error:
        print(f"make variants: {error}", file=sys.stderr)
        return 1
    print(f"{len(manifest['students'])} students: hand each one their own "
          f"STUDENT/lab2-handout.tar.gz; keep app.c and {Path(args.out) / 'manifest.json'} "
          "to yourself.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
