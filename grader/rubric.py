"""Lab 2's rubric: every graded test with its points, in the order students see
them. The points are here and nowhere else.

Each test compares real runs: the student's build against the reference VMM
(or, in a handout without the reference, against the same program run
natively under strace). Run it with `make check` (a student's own check: no
hidden tests) or `make grade` (a class), not with pytest directly.
"""
from grader.session.fixtures import compiler_messages
from grader.session.plugin import Fail, graded, practice

# --- 1. The VMM builds ------------------------------------------------------------------


@graded(10, "Build: manager.cpp builds with the kit's flags")
def test_build(vmm_build):
    if vmm_build.ok:
        return
    if vmm_build.status is None and not vmm_build.timed_out:
        raise Fail(vmm_build.log)  # nothing to build: the submission says why
    if vmm_build.problem:
        raise Fail("vm_manager/manager.cpp cannot be graded: " + vmm_build.problem
                   + " The compiler said:\n" + compiler_messages(vmm_build))
    raise Fail("vm_manager/manager.cpp does not build with the kit's flags (warnings are errors: "
               "-Wall -Wextra -Werror). The compiler said:\n" + compiler_messages(vmm_build)
               + "\nBuild it with `make` and fix the first error first.")


# --- 2. Step 2: the lab program in your VMM, line by line -------------------------------


@graded(8, "Step 2: the OPEN call")
def test_step2_open(step2):
    step2.calls("OPEN")


@graded(10, "Step 2: the WRITE calls")
def test_step2_write(step2):
    step2.calls("WRITE")


@graded(5, "Step 2: the CLOSE call")
def test_step2_close(step2):
    step2.calls("CLOSE")


@graded(5, "Step 2: the EXIT call")
def test_step2_exit(step2):
    step2.calls("EXIT")


@graded(4, "Step 2: the whole trace, exactly")
def test_step2_whole_trace(step2):
    step2.exactly()


@graded(10, "Step 2: the files it leaves, byte for byte")
def test_step2_file(step2):
    step2.same_files()


@graded(8, "Step 2: the VMM exits with the program's exit status")
def test_step2_status(step2):
    step2.same_status()


# --- 3. Step 3: your app_guess.c, run by the reference VMM --------------------------------


@graded(10, "Step 3: app_guess.c makes the lab program's calls (buffer addresses aside)")
def test_step3_calls(step3):
    step3.same_trace()


@graded(5, "Step 3: app_guess.c leaves the same files")
def test_step3_file(step3):
    step3.same_files()


# --- 4. Hidden: other programs, the same calls (grader/programs/) -------------------------


@graded(5, "Hidden: another file name, other flags, mode and sizes", hidden=True)
def test_hidden_other_file(hidden):
    hidden("other_file").everything()


@graded(5, "Hidden: an exit status other than 0", hidden=True)
def test_hidden_exit_status(hidden):
    hidden("exit_status").everything()


@graded(5, "Hidden: two files open at once, fd numbers reused", hidden=True)
def test_hidden_two_files(hidden):
    hidden("two_files").everything()


@graded(5, "Hidden: failing calls and bad pointers get Linux's errors", hidden=True)
def test_hidden_errors(hidden):
    hidden("errors").everything()


@graded(5, "Hidden: names and text from the command line, output on stdout", hidden=True)
def test_hidden_arguments(hidden):
    hidden("arguments").everything()


# --- Practice (make check only, no points): the student's samples/, Step 4 -----------


@practice("{case}")
def test_practice(practice):
    practice.everything()
