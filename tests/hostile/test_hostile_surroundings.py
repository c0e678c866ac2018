"""A hostile start: standard streams closed or broken, limits set by whoever
started the VMM, inputs that would block it or exhaust its memory. The VMM
must neither hang nor die from a signal, nor lose its output without saying so."""
import os
import resource
import subprocess
from pathlib import Path

import pytest

from helpers import BOOT, LAB_APP, REFERENCE, run

PROGRAMS = Path(__file__).resolve().parent / "programs"
SET_UP_TIMEOUT = 10  # seconds: far more than a refused input takes


def message(result):
    return result.stderr.decode() if isinstance(result.stderr, bytes) else result.stderr


# --- standard streams -------------------------------------------------------------

def test_closed_standard_streams_never_become_the_vmms_own_fds(kvm, build_program, tmp_path):
    def close_standard_streams():
        for fd in (0, 1, 2):
            os.close(fd)

    result = run([REFERENCE, "--trace", "trace", build_program(PROGRAMS / "standard_streams.c")],
                 cwd=tmp_path, preexec_fn=close_standard_streams)

    assert result.returncode == 0, "a write to fd 0, 1 or 2 failed: they are not /dev/null"
    assert [line.rsplit(" ", 1)[1] for line in (tmp_path / "trace").read_text().splitlines()] \
        == ["1", "1", "1", "0"]


def broken_pipe():
    """The write end of a pipe whose reader has gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    return write_end


def test_guest_writing_to_a_pipe_without_reader_gets_epipe(kvm, build_program, tmp_path):
    stdout = broken_pipe()
    result = subprocess.run([REFERENCE, "--trace", "trace",
                             build_program(PROGRAMS / "closed_pipe.c")],
                            cwd=tmp_path, stdout=stdout, stderr=subprocess.PIPE, timeout=30)
    os.close(stdout)

    assert result.returncode == 0, message(result)  # not -SIGPIPE: the VMM ignores it
    trace = (tmp_path / "trace").read_text().splitlines()
    assert trace[0].startswith("WRITE 1 ") and trace[0].endswith("- return -32")  # EPIPE


def test_trace_to_a_pipe_without_reader_stops_the_run_with_a_message(kvm, tmp_path):
    stdout = broken_pipe()
    result = subprocess.run([REFERENCE], cwd=tmp_path, stdout=stdout, stderr=subprocess.PIPE,
                            timeout=30)
    os.close(stdout)

    assert result.returncode == 125
    assert message(result).startswith(
        "vm_manager: writing the trace to standard output failed: Broken pipe")


def test_trace_to_a_full_disk_stops_the_run_with_a_message(kvm, tmp_path):
    with open("/dev/full", "w") as full:
        result = subprocess.run([REFERENCE], cwd=tmp_path, stdout=full, stderr=subprocess.PIPE,
                                timeout=30)

    assert result.returncode == 125
    assert "writing the trace to standard output failed: No space left on device" in \
        message(result)


# --- file-size limits ----------------------------------------------------------------

def test_the_guests_file_size_limit_never_cuts_the_vmms_output(kvm, build_program, tmp_path):
    # Standard output is a file, which the guest fills up to its 64 MiB limit:
    # the trace lines written there after it are the VMM's, and go on.
    with open(tmp_path / "out", "wb") as out:
        result = subprocess.run([REFERENCE, build_program(PROGRAMS / "fill_stdout.c")],
                                cwd=tmp_path, stdout=out, stderr=subprocess.PIPE, timeout=60)

    assert result.returncode == 0, message(result)
    assert (tmp_path / "out").stat().st_size > 64 << 20
    with open(tmp_path / "out", "rb") as out:
        out.seek(-200, os.SEEK_END)
        last_lines = out.read().split(b"\n")[-3:]
    assert last_lines[0].endswith(b"- return -27")  # EFBIG, for the guest's write
    assert last_lines[1:] == [b"EXIT 0", b""]


def test_trace_past_a_file_size_limit_from_outside_stops_the_run_with_a_message(
        kvm, build_program, tmp_path):
    def small_file_size_limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    result = run([REFERENCE, "--trace", "trace", build_program(PROGRAMS / "unknown_calls.c")],
                 cwd=tmp_path, preexec_fn=small_file_size_limit)

    assert result.returncode == 125  # not -SIGXFSZ, nor 0 with the trace cut
    assert result.stderr.startswith("vm_manager: writing the trace to the trace file trace "
                                    "failed: File too large")
    assert (tmp_path / "trace").stat().st_size == 4096


# --- inputs that would block or exhaust the VMM ------------------------------------------

@pytest.mark.parametrize("which", ["APP", "--boot", "--trace"])
def test_a_fifo_as_an_input_is_refused_without_blocking(kvm, tmp_path, which):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    command = {"APP": [REFERENCE, fifo], "--boot": [REFERENCE, "--boot", fifo],
               "--trace": [REFERENCE, "--trace", fifo]}[which]

    result = run(command, cwd=tmp_path, timeout=SET_UP_TIMEOUT)

    assert result.returncode == 125
    assert "not a regular file" in result.stderr


@pytest.mark.parametrize("which", ["APP", "--boot"])
def test_a_huge_sparse_input_is_refused_before_it_is_read(kvm, tmp_path, which):
    huge = tmp_path / "huge"
    with open(huge, "wb") as file:
        file.truncate(8 << 30)  # 8 GiB, holding nothing
    command = [REFERENCE, huge] if which == "APP" else [REFERENCE, "--boot", huge, LAB_APP]

    result = run(command, cwd=tmp_path, timeout=SET_UP_TIMEOUT)

    assert result.returncode == 125
    assert "8589934592 bytes, more than the guest's memory holds (8388608 bytes)" in \
        result.stderr


def test_a_program_larger_than_guest_memory_suggests_mem(kvm, tmp_path):
    big = tmp_path / "big"
    with open(big, "wb") as file:
        file.write(LAB_APP.read_bytes())
        file.truncate(16 << 20)

    result = run([REFERENCE, "--boot", BOOT, big], cwd=tmp_path, timeout=SET_UP_TIMEOUT)

    assert result.returncode == 125
    assert "a larger --mem, up to 1 GiB, may help" in result.stderr
