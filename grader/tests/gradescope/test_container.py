"""The container is Gradescope's, as far as grading can tell: root without
CAP_SYS_ADMIN, its own pid, mount and network namespaces, no /dev/kvm, /proc
masked as Docker masks it, 768 MiB of memory, one CPU; and so no nested
sandbox can start in it."""
import os

import pytest

# Docker's default capabilities, as CapEff shows them (container.sh's list).
DOCKER_DEFAULT = 0xa80425fb
CAP_SYS_ADMIN = 21


def test_it_is_root_with_dockers_default_capabilities_only(probe):
    _, facts = probe
    assert facts["uid"] == "0"
    assert int(facts["capabilities"], 16) == DOCKER_DEFAULT
    assert int(facts["bounding"], 16) == DOCKER_DEFAULT
    assert not int(facts["capabilities"], 16) >> CAP_SYS_ADMIN & 1


def test_it_has_its_own_pid_mount_and_network_namespaces(probe):
    _, facts = probe
    assert facts["pid"] == "1"
    for namespace in ("mnt", "pid", "net", "ipc", "uts"):
        assert facts[f"namespace {namespace}"] != os.readlink(f"/proc/self/ns/{namespace}")
    assert facts["interfaces"].split() == ["lo"]


def test_it_has_no_dev_kvm(probe):
    _, facts = probe
    devices = facts["devices"].split()
    assert "null" in devices and "urandom" in devices
    assert "kvm" not in devices


def test_its_proc_is_masked_as_dockers(probe):
    _, facts = probe
    assert facts["timer_list bytes"] == "0"
    assert "Read-only file system" in facts["write /proc/sys"]


def test_a_nested_bubblewrap_sandbox_cannot_start(probe):
    """As on Gradescope: the grader's own way (as root) and an unprivileged
    sandbox's (a user namespace) both fail."""
    _, facts = probe
    assert facts["bwrap as root"].endswith("status 1")
    assert "bwrap: Creating new namespace failed: Operation not permitted" in facts["bwrap as root"]
    assert facts["bwrap in a user namespace"].endswith("status 1")
    assert ("bwrap: Can't mount proc on /newroot/proc: Operation not permitted"
            in facts["bwrap in a user namespace"])


def test_its_memory_is_capped_at_768_mib(probe):
    ran, facts = probe
    if not any(m.startswith("memory: 768 MiB, cgroup") for m in ran.limits["mechanisms"]):
        pytest.skip("this machine lets no memory cgroup be made: "
                    + "; ".join(ran.limits["mechanisms"]))
    assert "allocated" not in facts["900 MiB"] and facts["900 MiB"].endswith("status 137")
    assert ran.limits["oom_kills"] >= 1


def test_it_has_one_cpu(probe):
    _, facts = probe
    assert facts["cpus"] == "1"


def test_another_uid_cannot_read_the_private_files(probe):
    """The compilers run as a uid of their own: the reference and the hidden
    programs (private/) must be root's only."""
    _, facts = probe
    assert "Permission denied" in facts["private/ for another uid"]
    assert facts["private/ for another uid"].endswith("status 1")


def test_the_probe_ran_to_its_end(probe):
    ran, facts = probe
    assert facts.get("end") == "yes", ran.log
