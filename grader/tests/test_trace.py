"""Comparing traces line by line: fd renaming, pairing, what is shown."""
from grader.judge import strace, trace
from grader.judge.trace import EXTRA, MATCHING, MISSING, WRONG

LAB = ["OPEN ./ay_caramba 32834 511 - return 3", "WRITE 3 40200d 16 - return 16",
       "WRITE 3 40201e 12 - return 12", "CLOSE 3 - return 0", "EXIT 0"]


def verdicts(expected, actual):
    return [row.verdict for row in trace.compare(expected, actual)]


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
    rows = trace.compare(LAB, actual)
    paired = [(row.expected.kind if row.expected else None, row.verdict) for row in rows]
    assert paired == [(None, EXTRA), (None, EXTRA), ("OPEN", WRONG), ("WRITE", WRONG),
                      ("WRITE", WRONG), ("CLOSE", WRONG), (None, EXTRA), ("EXIT", WRONG),
                      (None, EXTRA)]
    assert rows[-1].repeat == 4
    assert "does not handle system call 2" in rows[2].why


def test_missing_and_extra_lines():
    assert verdicts(LAB, LAB[:3] + ["KVM_EXIT_HLT"]) == [MATCHING] * 3 + [MISSING, MISSING,
                                                                           EXTRA]


def test_paths_with_spaces_and_any_address():
    line = trace.parse("OPEN a file name.txt 33345 420 - return 3")
    assert line.fields == ("a file name.txt", 33345, 420, 3)
    loose = trace.without_addresses(["WRITE 3 7fffb9 20 - return 20"])
    assert verdicts(loose, ["WRITE 3 40200d 20 - return 20"]) == [MATCHING]


def test_side_by_side_marks_each_row_and_shortens_long_tables():
    table = trace.side_by_side(trace.compare(LAB, LAB[:1] + ["x"] * 100 + ["y"] * 100))
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
