"""The similarity check of a class's submissions: handlers copied from a
classmate are found, even renamed and stripped of their comments.

    make similarity SUBMISSIONS=dir [FILE=app_guess.c] [OUT=dir]

compares every student's vm_manager/manager.cpp (or app_guess.c) with every
other's, the skeleton handed out (lab2/) given as the template whose code
everyone shares and which must not count, and writes in OUT
(build/grader/similarity/ by default):

    pairs.csv     student_a,student_b,similarity: every pair, similarity in [0, 1],
                  most similar first
    report/       Dolos's own report: its web viewer and its data (report/data/);
                  `make similarity-report` serves it to a browser

`flagged(pairs_csv, threshold)` gives each student's pairs at or above a
threshold: the gradebook's behaviour column.

The checker is Dolos (Ghent University; https://dolos.ugent.be), used through
its library @dodona/dolos-lib and its viewer @dodona/dolos-web from the npm
registry, run with Node.js; npm installs them into build/similarity/ from
package.json and package-lock.json here (pinned versions). Why Dolos:

- it compares syntax trees (tree-sitter's C and C++ grammars), not text:
  renamed identifiers, other comments and other layout do not hide a copy;
- it takes a template (Dolos's "ignore" file) whose fragments no pair is
  credited with: every submission here is the skeleton plus some 80 lines,
  and without the template independent pairs score 0.59 to 0.80 (measured on
  the class of tests/class/), with it they stay under 0.40 while a renamed
  copy without comments scores 0.80;
- it comes with a report made for teachers: pairs, the shared fragments side
  by side, clusters of students.

Tried and not chosen: Debian's similarity-tester (Dick Grune's sim_c++)
compares tokens well but has no template to discount and no report but text;
MOSS is a remote service; JPlag is not packaged for Debian or npm. The kit
uses Dolos's library (@dodona/dolos-lib) rather than its command line:
dolos.mjs does what `dolos run` does, the analysis and then the report's CSV
files, in the format Dolos's viewer reads.
"""
from .compare import SimilarityError, compare
from .flags import flagged

__all__ = ["SimilarityError", "compare", "flagged"]
