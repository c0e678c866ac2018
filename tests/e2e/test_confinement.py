"""The VMM's seccomp filter (confine_vmm): a correct VMM of any style runs
under it, and a call that no VMM needs stops the VMM with a message naming it.

The VMMs here are the reference with small edits, built as the kit builds it:
one handles each exit the way the original course's answer did (KVM_GET_REGS
and KVM_SET_REGS every exit, host pointers computed as the base of guest
memory plus the guest address), and, after confine_vmm, makes the calls that
VMM_PROBE names."""
import pytest

from helpers import (BUILD, REFERENCE, REFERENCE_SOURCE, SANITIZED, build_vmm, edited, run,
                     user_environment)

# Calls a VMM may make once the guest runs, whatever its style: on files and
# the file system, time, the process, a thread. Each is checked.
ORDINARY_CALLS = r"""
static void ordinary_calls()
{
    char buffer[16];
    iovec pieces[] = {{buffer, 4}, {buffer + 4, 4}};
    check(mkdir("probe.d", 0755), "mkdir");
    int fd = static_cast<int>(check(open("probe.d/a", O_RDWR | O_CREAT | O_TRUNC, 0644), "open"));
    check(close(static_cast<int>(check(openat(AT_FDCWD, "probe.d/a", O_RDONLY), "openat"))), "close");
    check(write(fd, "01234567", 8), "write");
    check(pwrite(fd, "89", 2, 8), "pwrite");
    check(writev(fd, pieces, 2), "writev");
    check(lseek(fd, 0, SEEK_SET), "lseek");
    check(read(fd, buffer, 4), "read");
    check(pread(fd, buffer, 4, 2), "pread");
    check(readv(fd, pieces, 2), "readv");
    struct stat info;
    check(fstat(fd, &info), "fstat");
    check(stat("probe.d/a", &info), "stat");
    check(fsync(fd), "fsync");
    check(fdatasync(fd), "fdatasync");
    check(ftruncate(fd, 4), "ftruncate");
    check(fcntl(fd, F_GETFL), "fcntl");
    check(close(static_cast<int>(check(dup(fd), "dup"))), "close");
    check(dup2(fd, 200), "dup2"); // numbers no fd of the VMM has
    check(dup3(fd, 201, O_CLOEXEC), "dup3");
    check(close(200) | close(201) | close(fd), "close");
    check(rename("probe.d/a", "probe.d/b"), "rename");
    check(chmod("probe.d/b", 0600), "chmod");
    check(access("probe.d/b", R_OK), "access");
    check(unlink("probe.d/b"), "unlink");
    check(rmdir("probe.d"), "rmdir");
    timespec now;
    check(clock_gettime(CLOCK_MONOTONIC, &now), "clock_gettime");
    check(time(nullptr), "time");
    utsname machine;
    check(uname(&machine), "uname");
    check(getpid(), "getpid");
    std::thread([] {}).join();
}
"""

# The calls no VMM needs, and how the message names each.
FORBIDDEN_CALLS = {
    "socket": ("socket(AF_INET, SOCK_STREAM, 0);", "socket(2)"),
    "execve": ('char* none[] = {nullptr};\n        execve("/bin/true", none, none);',
               "execve(2)"),
    "fork": ("fork();", "clone(2)"),
    "kill": ("kill(1, 0);", "kill(2)"),
    "ptrace": ("ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);", "ptrace(2)"),
    "mount": ('mount("none", "/mnt", "tmpfs", 0, nullptr);', "mount(2)"),
    "create_vm": ("ioctl(-1, KVM_CREATE_VM, 0);", "ioctl(KVM_CREATE_VM)"),
    "memory_region": ("ioctl(-1, KVM_SET_USER_MEMORY_REGION, nullptr);",
                      "ioctl(KVM_SET_USER_MEMORY_REGION)"),
    "unknown_ioctl": ("ioctl(-1, 0x1234, 0);", "ioctl(0x1234)"),
}

PROBE = ORDINARY_CALLS + r"""
// What the test asks for in VMM_PROBE, once the VMM is confined.
static void probe_the_filter()
{
    const char* probe = std::getenv("VMM_PROBE");
    const std::string what = probe != nullptr ? probe : "";
    if (what == "ordinary") {
        ordinary_calls();
    }
""" + "".join(f'    if (what == "{name}") {{\n        {call}\n    }}\n'
              for name, (call, _) in FORBIDDEN_CALLS.items()) + "}\n"

HEADERS = """#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>

#include <csignal>
#include <cstdlib>
#include <ctime>
#include <thread>
"""

# The edits: (what the reference says, what the edited VMM says instead).
EDITS = [
    ('#include "vmm.hpp"\n', '#include "vmm.hpp"\n' + HEADERS),
    ("using namespace vmm;\n", "using namespace vmm;\n" + PROBE),
    ("    confine_vmm(options.seccomp);\n",
     "    confine_vmm(options.seccomp);\n    probe_the_filter();\n"),
    # The registers through KVM_GET_REGS and KVM_SET_REGS, not kvm_run's copy.
    ("    kvm_regs& regs = vcpu.regs();\n",
     "    kvm_regs regs;\n"
     "    check(ioctl(vcpu.fd(), KVM_GET_REGS, &regs), \"ioctl(KVM_GET_REGS)\");\n"),
    ("    vcpu.mark_regs_dirty(); // KVM loads the new RAX when the vCPU resumes\n"
     "    return std::nullopt;\n    //! ELSE",
     "    check(ioctl(vcpu.fd(), KVM_SET_REGS, &regs), \"ioctl(KVM_SET_REGS)\");\n"
     "    return std::nullopt;\n    //! ELSE"),
    # The buffer's host address as base + guest address, after a bounds check.
    ("    const std::optional<std::span<std::byte>> bytes = guest.memory.range(buffer, count);\n",
     "    std::optional<std::span<std::byte>> bytes;\n"
     "    if (guest.memory.contains(buffer, count)) {\n"
     "        bytes = std::span(static_cast<std::byte*>(guest.memory.host_base()) + buffer, count);\n"
     "    }\n"),
]


@pytest.fixture(scope="module")
def style_vmm(tmp_path_factory):
    """The reference, edited as EDITS say, built with the kit's flags."""
    if SANITIZED:
        pytest.skip("under SANITIZE the VMM installs no seccomp filter")
    return build_vmm(edited(REFERENCE_SOURCE.read_text(), EDITS),
                     tmp_path_factory.mktemp("style_vmm"))


def run_probe(vmm, probe, cwd):
    env = user_environment()
    if probe:
        env["VMM_PROBE"] = probe
    return run([vmm, "--boot", BUILD / "vm_src" / "boot.bin", BUILD / "vm_src" / "app"],
               cwd=cwd, env=env)


def test_vmm_in_the_original_answers_style_runs_under_the_filter(kvm, style_vmm, tmp_path):
    (tmp_path / "style").mkdir()
    (tmp_path / "reference").mkdir()
    result = run_probe(style_vmm, None, tmp_path / "style")
    reference = run([REFERENCE], cwd=tmp_path / "reference")

    assert result.stderr == ""
    assert result.returncode == 0
    assert result.stdout == reference.stdout


def test_ordinary_calls_of_a_vmm_pass_the_filter(kvm, style_vmm, tmp_path):
    result = run_probe(style_vmm, "ordinary", tmp_path)
    reference = run([REFERENCE], cwd=tmp_path)

    assert result.stderr == ""
    assert result.returncode == 0
    assert result.stdout == reference.stdout


@pytest.mark.parametrize("probe", FORBIDDEN_CALLS)
def test_call_no_vmm_needs_is_stopped_and_named(kvm, style_vmm, tmp_path, probe):
    result = run_probe(style_vmm, probe, tmp_path)

    name = FORBIDDEN_CALLS[probe][1]
    assert result.returncode == 125
    assert result.stderr.startswith(f"vm_manager: the seccomp filter stopped {name}: "), \
        result.stderr
    assert "--no-seccomp" in result.stderr
    assert result.stdout == ""
