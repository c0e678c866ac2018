"""How a run ended, in words, and what to look at: the sentences under a
failed test."""
import signal

from grader.judge import syscalls, trace
from grader.machines.runs import RUN_LIMITS, VMM_MAX_EXITS, VMM_STOPPED, VMM_TIMEOUT

_SIGNALS = {
    signal.SIGSEGV: "crashed with a segmentation fault (SIGSEGV): it used a bad pointer. "
                    "A guest address is not a host address: turn it into one with "
                    "guest.memory (range(), c_string()), which also checks it",
    signal.SIGBUS: "crashed with a bus error (SIGBUS): it used a bad pointer",
    signal.SIGFPE: "crashed with an arithmetic error (SIGFPE, a division by zero?)",
    signal.SIGILL: "crashed on an illegal instruction (SIGILL)",
    signal.SIGABRT: "aborted (SIGABRT): an uncaught exception, a failed assert(), or a "
                    "corrupted heap",
    signal.SIGSYS: "was stopped by a seccomp filter (SIGSYS): it made a system call that "
                   "no handler needs",
    signal.SIGXFSZ: "wrote a file larger than the limit and was stopped (SIGXFSZ)",
    signal.SIGKILL: "was killed (SIGKILL): out of memory?",
}


# Calls musl's stdio makes that a program calling open/write/close does not.
STDIO_CALLS = {"brk", "mmap", "munmap", "ioctl", "writev", "readv", "lseek", "fstat"}


def first_lines(text, count=6):
    """The first lines of what a run said, and its hints wherever they are (a
    crash report ends with them, after the register dump)."""
    lines = [trace.shown(line) for line in text.splitlines() if line.strip()]
    hints = [line for line in lines[count:] if line.startswith(("hint:", "note:"))]
    more = len(lines) - count - len(hints)
    shown = lines[:count] + ([f"... ({more} more lines)"] if more > 0 else []) + hints
    return "\n".join("    " + line for line in shown)


def how_it_ended(run):
    """One sentence (or a few) on how `run` ended, with what it said."""
    who = run.runner[0].upper() + run.runner[1:]
    if run.flooded:
        return (f"{who} wrote more than {RUN_LIMITS.output >> 20} MiB of output and was "
                "stopped: it prints far too much (a print in a loop?).")
    if run.too_many_processes:
        return (f"{who} started {RUN_LIMITS.processes} processes, as many as a run may have, "
                "and was stopped: a VMM needs one (a fork() in a loop?).")
    if run.timed_out:
        return (f"{who} did not finish within {RUN_LIMITS.seconds:g} s and was killed. It "
                "hangs outside the guest, in the VMM's own code (an endless loop in a "
                f"handler?): --timeout {VMM_TIMEOUT} only stops a guest that keeps running.")
    status = run.status
    said = f" It said:\n{first_lines(run.stderr)}" if run.stderr.strip() else ""
    number = run.signal
    if number is not None and status not in (130, 143):
        known = _SIGNALS.get(number)
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ \
            else f"signal {number}"
        text = known or f"was killed by {name}"
        return f"{who} {text} (exit status {status}).{said}"
    if status == VMM_STOPPED:
        return (f"{who} was stopped (exit status {status}: --timeout {VMM_TIMEOUT} or "
                f"--max-exits {VMM_MAX_EXITS}): the program never exited.{said}")
    if status == 125:
        return f"{who} failed (exit status 125: the guest crashed or the VMM failed).{said}"
    if status == 2:
        return f"{who} rejected its command line (exit status 2).{said}"
    return f"{who} exited with status {status}.{said}"


def hints(run):
    """What the output suggests the student should look at."""
    out = []
    lines = run.trace
    if any(line.strip() == "KVM_EXIT_HLT" for line in lines) or b"KVM_EXIT_HLT" in run.stdout:
        out.append("Your VMM still prints KVM_EXIT_HLT at each exit, as in Step 1: in "
                   "run_vm(), call handle_syscall() instead (the TODO(step 2) there), and "
                   "return the exit status it gives.")
    elif lines and all(line.startswith("undefined syscall") for line in lines):
        out.append("Every call is still \"undefined syscall\": handle_syscall() must call "
                   "sys_open(), sys_write(), sys_close() for their numbers, and end the VMM "
                   "at exit_group (or exit), with the program's status.")
    ends = [syscalls.number("exit_group"), syscalls.number("exit")]
    if any(line in (f"undefined syscall {n}" for n in ends) for line in lines):
        out.append(f"exit_group ({ends[0]}) or exit ({ends[1]}) is undefined, so the program "
                   "cannot end: musl calls exit again and again until the VMM is stopped.")
    if run.trace_truncated:
        out.append(f"(Its trace is longer than the grader reads: only its first "
                   f"{RUN_LIMITS.file_capture >> 10} KiB, {RUN_LIMITS.capture >> 10} KiB on "
                   "standard output, were compared.)")
    return out


def stdio_hint(expected, actual):
    """Why the actual trace lines make calls the expected ones do not, when
    they are stdio's (a Step 3 guess written with fopen and fprintf), or ""."""
    def calls(lines):
        return {line.kind.lower() for line in map(trace.parse, lines)} & STDIO_CALLS
    extra = sorted(calls(actual) - calls(expected))
    if not extra:
        return ""
    return (f"{', '.join(extra)}: calls the C library makes for stdio (fopen, fprintf and "
            "fclose buffer the writes, then make them with writev); a program that calls "
            "open, write and close itself makes none of them.")


def explain(run):
    return "\n".join([how_it_ended(run), *hints(run)])
