"""The Lab 2 grader. See grader/README.md.

    python3 -m grader check [--lab lab2] [--out build/grader/check]
    python3 -m grader grade SUBMISSIONS [--out build/grader/grade] [--jobs N]
    python3 -m grader gradescope [--out build/grader/gradescope]   (pack the autograder zip)
    python3 -m grader prepare                                      (inside Gradescope: setup.sh)
    python3 -m grader autograde SUBMISSION RESULTS_DIR             (inside Gradescope)
    python3 -m grader bench [--copies 300] [--emulated 3]
"""
import argparse
import os
import signal
import sys
from pathlib import Path

from grader.session import KIT

OUT = KIT / "build" / "grader"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m grader", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="check lab2/ as a student (make check)")
    check.add_argument("--lab", default=str(KIT / "lab2"))
    check.add_argument("--out", default=str(OUT / "check"))
    check.add_argument("--sandbox", default="auto", choices=["auto", "bwrap", "none"])
    check.add_argument("--oracle", default="auto", choices=["auto", "native"],
                       help="native: compare with the program run natively, as in a handout")

    grade = commands.add_parser("grade", help="grade a folder of submissions (make grade)")
    grade.add_argument("submissions")
    grade.add_argument("--out", default=str(OUT / "grade"))
    grade.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    grade.add_argument("--sandbox", default="bwrap", choices=["auto", "bwrap", "none"])
    grade.add_argument("--cache", default=str(OUT / "cache"))
    grade.add_argument("--roster", help="a CSV with student, email, sid columns")
    grade.add_argument("--variants", help="the class's lab programs (make variants' folder); "
                       "default: dist/variants when a roster is given and it exists")
    grade.add_argument("--force", action="store_true",
                       help="grade every submission again, changed or not")

    pack = commands.add_parser("gradescope", help="pack the Gradescope autograder zip")
    pack.add_argument("--out", default=str(OUT / "gradescope"))
    pack.add_argument("--variants", help="the class's lab programs (make variants' folder)")

    commands.add_parser("prepare", help="prepare the grading kit once (Gradescope's setup.sh)")

    auto = commands.add_parser("autograde", help="grade one submission on Gradescope")
    auto.add_argument("submission")
    auto.add_argument("results")
    auto.add_argument("--sandbox", default="auto", choices=["auto", "bwrap", "none"])

    bench = commands.add_parser("bench", help="time the grading of many copies (make grade-bench)")
    bench.add_argument("--copies", type=int, default=300)
    bench.add_argument("--emulated", type=int, default=3,
                       help="copies graded in the emulated machine")
    bench.add_argument("--out", default=str(OUT / "bench"))
    bench.add_argument("--jobs", type=int, default=os.cpu_count() or 2)

    args = parser.parse_args(argv)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `make check | head` stops quietly
    if args.command == "check":
        from grader.commands import check as command
        return command.main(args.lab, args.out, args.sandbox, args.oracle)
    if args.command == "grade":
        from grader.commands import grade
        return grade.main(args.submissions, args.out, jobs=args.jobs, sandbox_kind=args.sandbox,
                          cache=args.cache, roster=args.roster, force=args.force,
                          variants=args.variants)
    if args.command == "gradescope":
        from grader.commands import gradescope
        return gradescope.pack(Path(args.out), variants=args.variants)
    if args.command == "prepare":
        from grader.commands import gradescope
        gradescope.prepare()
        return 0
    if args.command == "autograde":
        from grader.commands import gradescope
        return gradescope.autograde(Path(args.submission), Path(args.results), args.sandbox)
    if args.command == "bench":
        from grader.commands import bench
        return bench.main(args.copies, Path(args.out), args.jobs, args.emulated)
    return 2


if __name__ == "__main__":
    sys.exit(main())
