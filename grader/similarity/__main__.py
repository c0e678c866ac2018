"""make similarity: which students' submissions are most alike.

    python3 -m grader.similarity SUBMISSIONS --out DIR --modules build/similarity
                                 [--file manager.cpp|app_guess.c]
"""
import argparse
import sys

from .compare import FILES, SimilarityError, compare


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m grader.similarity", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", help="a folder: one folder, .tar.gz or .zip per student")
    parser.add_argument("--out", required=True)
    parser.add_argument("--modules", required=True, help="where npm installed Dolos")
    parser.add_argument("--file", default="manager.cpp", help=" or ".join(FILES))
    args = parser.parse_args(argv)
    try:
        notes = compare(args.submissions, args.out, args.modules, args.file)
    except SimilarityError as error:
        print(f"make similarity: {error}", file=sys.stderr)
        return 2
    for note in notes:
        print(f"  {note}")
    print(f"{args.out}/pairs.csv: every pair of students, most similar first.\n"
          f"{args.out}/report/: Dolos's report; `make similarity-report` shows it in a browser.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
