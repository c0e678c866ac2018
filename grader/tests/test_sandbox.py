"""The sandbox a submission runs in: what it can see, what it can change, and
its limits."""
import pytest

from grader import sandbox
from grader.sandbox import Limits, Mount
from grader.tests.conftest import KIT, fresh

LIMITS = Limits(seconds=5, output=1 << 20)


@pytest.fixture
def box():
    problem = sandbox.bwrap_problem()
    if problem:
        pytest.skip(problem)
    return sandbox.Sandbox("bwrap")


def shell(box, script, mounts=(), limits=LIMITS):
    return box.run(["sh", "-c", script], mounts=list(mounts), cwd="/", limits=limits)


def test_it_sees_only_what_it_is_given(box):
    top = shell(box, "ls /").stdout.decode().split()
    hidden = shell(box, f"ls {KIT} /home /root").stderr.decode()
    devices = shell(box, "ls /dev").stdout.decode().split()

    assert set(top) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin",
                        "sys", "tmp", "usr"}
    assert hidden.count("No such file") == 3
    assert set(devices) <= {"core", "fd", "full", "kvm", "null", "ptmx", "pts", "random", "shm",
                            "stderr", "stdin", "stdout", "tty", "urandom", "zero"}


def test_it_changes_only_its_writable_mounts(box):
    folder = fresh("sandbox-mounts")
    (folder / "in").mkdir()
    (folder / "out").mkdir()
    (folder / "in" / "kept").write_text("kit file\n")
    mounts = [Mount(folder / "in", "/kit"), Mount(folder / "out", "/out", writable=True)]

    outcome = shell(box, "rm -f /kit/kept; echo x > /kit/new; echo y > /usr/new; echo z > /new;"
                         "echo w > /out/made; echo t > /tmp/private", mounts)

    assert (folder / "in" / "kept").read_text() == "kit file\n"
    assert sorted(p.name for p in (folder / "in").iterdir()) == ["kept"]
    assert (folder / "out" / "made").read_text() == "w\n"
    assert outcome.stderr.count(b"Read-only file system") >= 3


def test_it_has_no_network(box):
    outcome = shell(box, "cat /proc/net/dev")
    interfaces = [line.split(":")[0].strip() for line in outcome.stdout.decode().splitlines()[2:]]
    assert interfaces in ([], ["lo"])


def test_it_is_stopped_at_its_time_limit_with_what_it_started(box):
    outcome = shell(box, "sleep 60 & sleep 60", limits=Limits(seconds=0.5))
    assert outcome.timed_out and outcome.status is None and outcome.seconds < 5


def test_a_flood_of_output_is_stopped_and_only_its_start_kept(box):
    outcome = shell(box, "yes 'a line of output'", limits=Limits(seconds=10, output=1 << 20,
                                                                  capture=1000))
    assert outcome.flooded and outcome.status is None
    assert len(outcome.stdout) == 1000 and outcome.stdout_size > 1 << 20


def test_files_are_limited_in_size(box):
    folder = fresh("sandbox-fsize")
    outcome = shell(box, "head -c 3000000 /dev/zero > /out/big", [Mount(folder, "/out", True)],
                    limits=Limits(seconds=5, file_size=1 << 20))
    assert (folder / "big").stat().st_size == 1 << 20
    assert outcome.signal == 25  # SIGXFSZ
