"""The sandbox a submission runs in: what it can see, what it can change, its
limits, and what its report says. Each limit is tested with and without
bubblewrap ("none", where the runner alone holds it), as the grader's user,
and, for the process and disk limits, as an unprivileged user too."""
import json
import os
import random
import subprocess
import textwrap

import pytest

from grader import sandbox
from grader.sandbox import Limits, Mount, users
from grader.tests.conftest import KIT, fresh

LIMITS = Limits(seconds=5, output=1 << 20, processes=16, scratch=1 << 20)
SCRATCH = ["/run/work"]
# Digits in the command lines of this run's processes only (in a sleep's
# seconds, a comment): pgrep -f TOKEN finds what this run left, never another
# run's processes on the same machine.
TOKEN = f"{os.getpid()}{random.randrange(10**8):08d}"


@pytest.fixture(params=["bwrap", "none"])
def box(request, runner):
    if request.param == "bwrap":
        problem = sandbox.bwrap_problem(runner)
        if problem:
            pytest.skip(problem)
    return sandbox.choose(request.param, runner)[0]


@pytest.fixture
def bwrap_box(runner):
    problem = sandbox.bwrap_problem(runner)
    if problem:
        pytest.skip(problem)
    return sandbox.choose("bwrap", runner)[0]


def shell(box, script, mounts=(), limits=LIMITS, watch=False):
    return box.run(["sh", "-c", script], mounts=list(mounts), cwd="/run/work", limits=limits,
                   scratch=SCRATCH, collect=SCRATCH, watch=watch)


def python(box, code, limits=LIMITS):
    return box.run(["python3", "-c", textwrap.dedent(code)], mounts=[], cwd="/run/work",
                   limits=limits, scratch=SCRATCH, collect=SCRATCH, watch=True)



def left_running():
    """This run's sandboxed processes still alive (pgrep's output)."""
    return subprocess.run(["pgrep", "-f", TOKEN], capture_output=True).stdout

def test_it_sees_only_what_it_is_given(bwrap_box):
    top = shell(bwrap_box, "ls /").stdout.decode().split()
    hidden = shell(bwrap_box, f"ls {KIT} /home /root").stderr.decode()
    devices = shell(bwrap_box, "ls /dev").stdout.decode().split()

    assert set(top) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "run",
                        "sbin", "sys", "tmp", "usr"}
    assert hidden.count("No such file") == 3
    assert set(devices) <= {"core", "fd", "full", "kvm", "null", "ptmx", "pts", "random", "shm",
                            "stderr", "stdin", "stdout", "tty", "urandom", "zero"}


def test_it_writes_only_in_its_own_directories(bwrap_box):
    folder = fresh("sandbox-mounts")
    (folder / "kept").write_text("kit file\n")

    outcome = shell(bwrap_box, "rm -f /kit/kept; echo x > /kit/new; echo y > /usr/new; "
                               "echo z > /new; echo w > made; echo t > /tmp/private",
                    [Mount(folder, "/kit")])

    assert sorted(p.name for p in folder.iterdir()) == ["kept"]
    assert outcome.files["/run/work"]["made"].data == b"w\n"
    assert outcome.stderr.count(b"Read-only file system") >= 3


def test_its_directories_have_a_quota(box):
    outcome = shell(box, "for i in 1 2 3 4; do head -c 400000 /dev/zero > f$i; done; df .")

    sizes = sum(f.size for f in outcome.files["/run/work"].values())
    if box.kind == "bwrap":
        assert sizes <= LIMITS.scratch and outcome.behaviour.full == ["/run/work"]
        assert "filled its /run/work to the quota" in outcome.behaviour.notes()
    else:  # no sandbox: only each file's size is limited
        assert sizes == 1_600_000


def test_it_has_no_network(bwrap_box):
    outcome = shell(bwrap_box, "cat /proc/net/dev")
    interfaces = [line.split(":")[0].strip() for line in outcome.stdout.decode().splitlines()[2:]]
    assert interfaces in ([], ["lo"])


def test_it_is_stopped_at_its_time_limit_with_what_it_started(box):
    outcome = shell(box, f"sleep 61.{TOKEN} & sleep 61.{TOKEN}", limits=Limits(seconds=0.5))

    assert outcome.timed_out and outcome.status is None and outcome.seconds < 5
    assert outcome.behaviour.left_running >= 1  # the sleeps, beside the shell
    assert not left_running()


def test_what_it_leaves_running_is_killed_and_reported(box):
    outcome = shell(box, f"setsid sh -c 'sleep 77.{TOKEN} &' ; (sleep 77.{TOKEN} &) ; echo done")

    assert outcome.status == 0 and outcome.stdout == b"done\n"
    assert outcome.behaviour.left_running == 2
    assert "left 2 processes running after it ended (killed)" in outcome.behaviour.notes()
    assert not left_running()


def test_a_flood_of_output_is_stopped_and_only_its_start_kept(box):
    outcome = shell(box, "yes 'a line of output'", limits=Limits(seconds=10, output=1 << 20,
                                                                  capture=1000))
    assert outcome.flooded and outcome.status is None
    assert len(outcome.stdout) == 1000 and outcome.stdout_size > 1 << 20


def test_more_files_than_are_listed_is_said(box):
    outcome = shell(box, "for i in $(seq 12); do : > f$i; done",
                    limits=Limits(seconds=5, max_files=10))

    assert len(outcome.files["/run/work"]) == 10
    assert outcome.behaviour.too_many_files == ["/run/work"]
    assert any("left more files in /run/work than are compared" in note
               for note in outcome.behaviour.notes())
    assert shell(box, ": > f1").behaviour.too_many_files == []


def test_files_are_limited_in_size(box):
    outcome = shell(box, "head -c 3000000 /dev/zero > big",
                    limits=Limits(seconds=5, file_size=1 << 20, scratch=8 << 20))
    assert outcome.files["/run/work"]["big"].size == 1 << 20
    assert outcome.signal == 25  # SIGXFSZ


FORK_BOMB = f"""
# {TOKEN}
import os, time
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.01)
"""


def test_a_fork_bomb_is_stopped_at_the_process_limit(box):
    outcome = box.run(["python3", "-c", FORK_BOMB], mounts=[], cwd="/run/work", scratch=SCRATCH,
                      collect=SCRATCH, limits=Limits(seconds=10, processes=16))

    assert outcome.too_many_processes and outcome.status is None and outcome.seconds < 5
    assert outcome.behaviour.process_peak == 16
    assert "started 16 processes, its limit (a fork bomb?): stopped" in outcome.behaviour.notes()
    assert not left_running()


@pytest.mark.skipif(os.geteuid() != 0, reason="as root only")
def test_as_root_it_runs_under_a_uid_of_its_own(box):
    secret = fresh("sandbox-secret") / "root-only"
    secret.write_text("root's\n")
    secret.chmod(0o600)

    outcome = shell(box, f"id -u; cat {secret} /run/secret", [Mount(secret, "/run/secret")])

    uid = int(outcome.stdout.decode().split()[0])
    assert box.users.first <= uid < box.users.first + 16
    assert b"Permission denied" in outcome.stderr


def test_sockets_signals_and_writes_outside_are_refused_and_reported(box):
    outcome = python(box, """
        import os, socket, signal
        for attempt in [lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM),
                        lambda: os.kill(1, signal.SIGTERM),
                        lambda: os.kill(-1, signal.SIGKILL),
                        lambda: open("/usr/evil", "w"),
                        lambda: open("mine.txt", "w").write("ok")]:
            try:
                attempt()
                print("allowed")
            except OSError as error:
                print("refused", error.errno)
        os.kill(os.getpid(), 0)  # its own: fine
        """)

    assert outcome.stdout.decode().split("\n")[:5] == ["refused 13", "refused 1", "refused 1",
                                                       "refused 13", "allowed"]
    refused = outcome.behaviour.refused
    assert refused["sockets"] == (1, ["socket(AF_INET)"])
    assert refused["signals"] == (2, ["kill(1, SIGTERM)", "kill(-1, SIGKILL)"])
    assert refused["writes_outside"][0] == 1 and "/usr/evil" in refused["writes_outside"][1][0]
    assert outcome.files["/run/work"]["mine.txt"].data == b"ok"
    notes = " ".join(outcome.behaviour.notes())
    assert "network sockets" in notes and "signal processes not its own" in notes


def test_it_cannot_start_a_user_namespace(box):
    outcome = shell(box, "unshare --user true; echo $?", watch=True)
    assert outcome.stdout.strip() != b"0"


def test_not_as_root_the_limits_hold_too(runner, tmp_path):
    """The same limits, for a grader that runs as an unprivileged user: then
    bubblewrap gives the command a user namespace of its own."""
    if os.geteuid() != 0:
        pytest.skip("needs root to become an unprivileged user")
    tmp_path.chmod(0o755)
    code = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(KIT)!r})
        from grader import sandbox
        from grader.sandbox import Limits
        box = sandbox.choose("auto", {str(runner)!r})[0]
        def run(script, seconds=2):
            return box.run(["sh", "-c", script], mounts=[], cwd="/run/work", scratch=["/run/work"],
                           collect=["/run/work"], limits=Limits(seconds=seconds, processes=16,
                                                                scratch=1 << 20))
        bomb = box.run(["python3", "-c", {FORK_BOMB!r}], mounts=[], cwd="/run/work",
                       scratch=["/run/work"], collect=["/run/work"],
                       limits=Limits(seconds=10, processes=16))
        disk = run("head -c 3000000 /dev/zero > f; id -u")
        print(json.dumps({{"kind": box.kind, "peak": bomb.behaviour.process_peak,
                          "stopped": bomb.too_many_processes,
                          "full": disk.behaviour.full, "uid": disk.stdout.decode().strip()}}))
        """)
    done = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           "/usr/bin/python3", "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": "/"})
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)

    assert seen["kind"] == "bwrap"
    assert seen["peak"] == 16 and seen["stopped"]
    assert seen["full"] == ["/run/work"]
    assert not left_running()


def test_the_graders_uids_are_used_only_where_they_exist(tmp_path):
    """Root in a user namespace that maps root alone (as some container runners
    make) has no other uid to run commands as: the grader then does not try."""
    everything = tmp_path / "everything"
    everything.write_text("         0          0 4294967295\n")
    root_alone = tmp_path / "root_alone"
    root_alone.write_text("         0          0          1\n")

    assert users._mapped(everything, users.FIRST_UID, users.UIDS)
    assert not users._mapped(root_alone, users.FIRST_UID, users.UIDS)
    assert not users._mapped(tmp_path / "missing", users.FIRST_UID, users.UIDS)
