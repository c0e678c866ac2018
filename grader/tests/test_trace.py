"""Comparing traces line by line: fd renaming, pairing, what is shown."""
from grader.judge import strace, trace
from grader.judge.trace import EXTRA, MATCHING, MISSING, WRONG

LAB = ["OPEN ./ay_caramba 32834 511 - return 3", "WRITE 3 40200d 16 - return 16",
       "WRITE 3 40201e 12 - return 12", "CLOSE 3 - return 0", "EXIT 0"]


def verdicts(expected, actual):
    return [row.verdict for row in trace.compare(expected, actual)[0]]


def test_identical_traces_match():
    assert verdicts(LAB, LAB) == [MATCHING] * 5


def test_fds_may_differ_by_a_consistent_renaming():
    host = [line.replace(" 3 ", " 8 ").replace("return 3", "return 8") for line in LAB]
    assert verdicts(LAB, host) == [MATCHING] * 5


def test_an_inconsistent_fd_is_wrong():
    actual = list(LAB)
    actual[2] = "WRITE 9 40201e 12 - return 12"
    assert verdicts(LAB, actual) == [MATCHING, MATCHING, WRONG, MATCHING, MATCHING]


def test_two_expected_fds_cannot_share_one_actual_fd():
    expected = ["OPEN a 0 0 - return 3", "OPEN b 0 0 - return 4", "WRITE 3 1 1 - return 1",
                "WRITE 4 1 1 - return 1"]
    actual = ["OPEN a 0 0 - return 5", "OPEN b 0 0 - return 6", "WRITE 5 1 1 - return 1",
              "WRITE 5 1 1 - return 1"]
    assert verdicts(expected, actual) == [MATCHING, MATCHING, MATCHING, WRONG]


def test_an_fd_nobody_opened_must_be_the_same_number():
    assert verdicts(["WRITE 1 10 2 - return 2"], ["WRITE 1 10 2 - return 2"]) == [MATCHING]
    assert verdicts(["WRITE 1 10 2 - return 2"], ["WRITE 2 10 2 - return 2"]) == [WRONG]


def test_a_closed_fd_keeps_its_name_until_reused():
    expected = ["OPEN f 0 0 - return 3", "CLOSE 3 - return 0", "CLOSE 3 - return -9",
                "OPEN g 0 0 - return 3", "CLOSE 3 - return 0"]
    actual = ["OPEN f 0 0 - return 7", "CLOSE 7 - return 0", "CLOSE 7 - return -9",
              "OPEN g 0 0 - return 9", "CLOSE 9 - return 0"]
    assert verdicts(expected, actual) == [MATCHING] * 5


def test_undefined_calls_pair_with_the_call_they_stand_for():
    actual = ["undefined syscall 158", "undefined syscall 218", "undefined syscall 2",
              "undefined syscall 1", "undefined syscall 1", "undefined syscall 3",
              "undefined syscall 231"] + ["undefined syscall 60"] * 5
    rows, _ = trace.compare(LAB, actual)
    paired = [(row.expected.kind if row.expected else None, row.verdict) for row in rows]
    # exit_group (231) is the call that ends the program: it stands for EXIT.
    assert paired == [(None, EXTRA), (None, EXTRA), ("OPEN", WRONG), ("WRITE", WRONG),
                      ("WRITE", WRONG), ("CLOSE", WRONG), ("EXIT", WRONG), (None, EXTRA)]
    assert rows[-1].repeat == 5
    assert "does not handle open (system call 2)" in rows[2].why
    assert "does not handle exit_group (system call 231)" in rows[6].why


def test_calls_are_named_from_the_kernels_table():
    rows, _ = trace.compare(["OPEN f 0 0 - return 3"], ["undefined syscall 158"])
    assert "arch_prctl (system call 158)" in rows[0].why
    assert "open" not in rows[0].why.split("where")[0]


def test_a_line_that_differs_only_in_format_is_explained_field_by_field():
    expected = ["OPEN ./ay_caramba 32834 511 - return 3", "WRITE 3 40200d 16 - return 16"]
    actual = ["OPEN ./ay_caramba 0100102 0777 - return 3", "WRITE 3 0x40200d 16 - return 16"]
    rows, _ = trace.compare(expected, actual)
    assert [row.verdict for row in rows] == [WRONG, WRONG]
    assert ("flags printed in octal (0100102); the trace prints it in decimal (%lld): 32834"
            in rows[0].why)
    assert "mode printed in octal (0777)" in rows[0].why
    assert "buffer printed as 0x40200d; the trace prints hex without 0x: 40200d" in rows[1].why
    unsigned = trace.compare(["OPEN x 0 0 - return -2"],
                             ["OPEN x 0 0 - return 18446744073709551614"])[0][0]
    assert "printed unsigned" in unsigned.why and "-2" in unsigned.why


def test_results_are_shown_with_their_errno_names():
    rows, _ = trace.compare(["WRITE 3 40200d 16 - return 16", "OPEN f 0 0 - return -2"],
                            ["WRITE 3 40200d 16 - return -9", "OPEN f 0 0 - return -13"])
    assert "result -9 (EBADF), expected 16" in rows[0].why
    assert "result -13 (EACCES), expected -2 (ENOENT)" in rows[1].why


def test_a_result_equal_to_the_calls_number_points_at_rax_not_written_back():
    rows, _ = trace.compare(["OPEN ./f 66 420 - return -13"], ["OPEN ./f 66 420 - return 2"])
    assert "RAX still holds the call's own number (2)" in rows[0].why
    rows, _ = trace.compare(["CLOSE 3 - return 0"], ["CLOSE 3 - return 3"])
    assert "mark_regs_dirty" in rows[0].why


def test_the_path_of_an_unreadable_pointer_is_not_graded():
    assert verdicts(["OPEN (bad address) 0 0 - return -14"],
                    ["OPEN <invalid pointer> 0 0 - return -14"]) == [MATCHING]


def test_control_characters_are_escaped_in_the_table():
    rows, _ = trace.compare(["OPEN a 0 0 - return 3"], ["OPEN a\x1b[2J 0 0 - return 3"])
    table = trace.side_by_side(rows)
    assert "\x1b" not in table and "\\x1b" in table


def test_missing_and_extra_lines():
    assert verdicts(LAB, LAB[:3] + ["KVM_EXIT_HLT"]) == [MATCHING] * 3 + [MISSING, MISSING,
                                                                           EXTRA]


def test_paths_with_spaces_and_any_address():
    line = trace.parse("OPEN a file name.txt 33345 420 - return 3")
    assert line.fields == ("a file name.txt", 33345, 420, 3)
    loose = trace.without_addresses(["WRITE 3 7fffb9 20 - return 20"])
    assert verdicts(loose, ["WRITE 3 40200d 20 - return 20"]) == [MATCHING]


def test_side_by_side_marks_each_row_and_shortens_long_tables():
    table = trace.side_by_side(trace.compare(LAB, LAB[:1] + ["x"] * 100 + ["y"] * 100)[0])
    lines = table.splitlines()
    assert lines[0].startswith("expected (reference)") and lines[0].endswith("|")
    assert lines[1].endswith("| matching")
    assert "(x100)" in table and len(lines) < 45


def test_strace_log_becomes_the_reference_trace_lines():
    log = """\
123 open("./ay_caramba", 0x8042, 0777) = 3
123 write(0x3, 0x40200d, 0x10)   = 0x10
123 write(0x3, 0x7ffc1234abcd, 0xc) = 0xc
123 close(0x3)                   = 0
123 open("missing", 0x8000)      = -1 ENOENT (No such file or directory)
123 open(0x7f000000, 0x8000)     = -1 EFAULT (Bad address)
123 close(0x2a)                  = -1 EBADF (Bad file descriptor)
123 exit_group(0x2a)             = ?
"""
    assert strace.trace_lines(log.replace("123 ", "")) == [
        "OPEN ./ay_caramba 32834 511 - return 3", "WRITE 3 40200d 16 - return 16",
        "WRITE 3 * 12 - return 12", "CLOSE 3 - return 0", "OPEN missing 32768 0 - return -2",
        "OPEN (bad address) 32768 0 - return -14", "CLOSE 42 - return -9", "EXIT 42"]


def test_the_native_ground_truth_escapes_paths_as_the_vmm_does():
    log = ('open("a\\nEXIT 0\\33[2J\\\\", O_RDWR|O_CREAT, 0777) = 3\n'
           'exit_group(0)                           = ?\n')
    assert strace.trace_lines(log.replace("O_RDWR|O_CREAT", "0102")) == [
        "OPEN a\\nEXIT 0\\x1b[2J\\\\ 66 511 - return 3", "EXIT 0"]


# Lines of the calls beyond the lab's, as the engine's Trace::call prints them
# (a stdio program under the reference: its name in capitals, its arguments,
# its result).
STDIO = ["BRK 0 - return 408000", "MMAP 0 4096 3 34 -1 0 - return 7bf000",
         "IOCTL 3 21523 7ffea0 - return -25", "WRITEV 3 7ffe50 2 - return 28"]


def test_other_calls_are_trace_lines_of_their_own_kind():
    kinds = [trace.parse(line).kind for line in STDIO]
    assert kinds == ["BRK", "MMAP", "IOCTL", "WRITEV"]
    assert trace.parse("FROBNICATE 1 - return 0").kind == "OTHER"  # no such system call
    assert verdicts(STDIO, STDIO) == [MATCHING] * 4


def test_an_other_call_pairs_with_its_undefined_line_and_names_its_errno():
    rows, _ = trace.compare(STDIO[:1] + LAB, ["undefined syscall 12"] + LAB)
    assert [row.verdict for row in rows] == [WRONG] + [MATCHING] * 5
    assert "does not handle brk (system call 12)" in rows[0].why

    rows, _ = trace.compare([STDIO[2]], ["IOCTL 3 21523 7ffea0 - return 0"])
    assert rows[0].verdict == WRONG and "expected -25 (ENOTTY)" in rows[0].why


def test_a_strace_line_it_cannot_read_is_left_out_not_a_crash():
    log = """\
open("a", 0x42, 0644)            = 3
write(0x3, 0x402000, 0x10 <unfinished ...>) = ?
open(0x1, 0x2, 0x3, 0x4)         = 3
close(0x3)                       = -1 ENOTSUPP (Unknown error 524)
close(0x3)                       = 0
exit_group(0)                    = ?
"""
    assert strace.trace_lines(log) == ["OPEN a 66 420 - return 3", "CLOSE 3 - return 0",
                                       "EXIT 0"]
