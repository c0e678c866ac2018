"""The submissions the self-tests grade: the reference, the skeleton, and
deliberately broken VMMs, each derived from the reference by a small edit made
here, so that they follow the reference when it changes. An edit whose anchor
is no longer in the reference fails loudly: update the edit."""
import io
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]
REFERENCE = KIT / "solutions" / "lab2" / "vm_manager" / "manager.cpp"
SKELETON_LAB = KIT / "lab2"
LAB_SOURCE = KIT / "vm_src" / "src" / "app.c"  # the right answer to Step 3


def replace_once(text, anchor, replacement):
    count = text.count(anchor)
    if count != 1:
        raise AssertionError(f"the reference has {count} copies of {anchor!r}, not one: update "
                             "the broken submission made from it (grader/tests/submissions.py)")
    return text.replace(anchor, replacement)


def function_body(text, signature, body):
    """Replaces the body of the function defined by `signature` (its first line)."""
    start = text.index(signature + "\n{\n") + len(signature)
    end = text.index("\n}\n", start) + 3
    return text[:start] + "\n{\n" + body.rstrip("\n") + "\n}\n" + text[end:]


def with_includes(text, *headers):
    anchor = "#include <unistd.h>\n"
    return replace_once(text, anchor, anchor + "".join(f"#include <{h}>\n" for h in headers))


SYS_WRITE = "int64_t sys_write(Guest& guest, uint64_t fd, uint64_t buffer, uint64_t count)"
SYS_OPEN = "int64_t sys_open(Guest& guest, uint64_t path_address, uint64_t flags, uint64_t mode)"
SYS_CLOSE = "int64_t sys_close(Guest& guest, uint64_t fd)"
MAIN_RUN = "        return run_vm(options);\n"


def compile_error(ref, _):
    return replace_once(ref, "guest.trace.close(fd, result);", "guest.trace.close(fd, result)")


def handler_loop(ref, _):
    """An endless loop on the host, in the write handler: --timeout cannot stop it."""
    return replace_once(ref, SYS_WRITE + "\n{\n", SYS_WRITE + "\n{\n"
                        "    static volatile unsigned spin = 0;\n"
                        "    for (;;) {\n        spin = spin + 1;\n    }\n")


def segfault(ref, _):
    """Uses the guest's buffer address as a host pointer."""
    anchor = "    const int host_fd = guest.files.host_fd(fd);\n"
    return replace_once(ref, anchor,
                        anchor + "    *reinterpret_cast<volatile char*>(buffer) = 0;\n")


def wrong_fd(ref, _):
    """Traces the host fd in WRITE lines, and the guest fd everywhere else."""
    return replace_once(ref, "guest.trace.write(fd, buffer, count, result);",
                        "guest.trace.write(host_fd, buffer, count, result);")


def fake_trace(ref, lab_trace):
    """Prints the lab program's trace without running anything."""
    text = "\n".join(lab_trace) + "\n"
    return replace_once(ref, MAIN_RUN, f'        std::fputs(R"FAKE({text})FAKE", stdout);\n'
                                       "        return 0;\n")


def deleter(ref, _):
    """Before running, deletes what it can reach: its boot image, its program,
    its own binary, and everything beside its working directory."""
    code = """        {
            namespace fs = std::filesystem;
            std::error_code ignored;
            fs::remove(options.boot_image, ignored);
            fs::remove(options.arguments[0], ignored);
            fs::remove(fs::read_symlink("/proc/self/exe", ignored), ignored);
            const fs::path here = fs::absolute(options.workdir, ignored);
            for (const fs::directory_entry& entry :
                 fs::directory_iterator(here / "..", ignored)) {
                if (!fs::equivalent(entry.path(), here, ignored)) {
                    fs::remove_all(entry.path(), ignored);
                }
            }
        }
"""
    return replace_once(with_includes(ref, "filesystem"), MAIN_RUN, code + MAIN_RUN)


def flood(ref, _):
    """Writes megabytes of debugging output at every system call, in large blocks."""
    anchor = "    kvm_regs& regs = vcpu.regs();\n"
    return replace_once(with_includes(ref, "string"), anchor, anchor +
                        "    static const std::string block(1 << 20, '.');\n"
                        "    for (int i = 0; i < 32; ++i) {\n"
                        "        [[maybe_unused]] ssize_t ignored = ::write(1, block.data(), "
                        "block.size());\n    }\n")


def before_running(ref, code, *headers):
    """The reference, doing `code` first of all in main()."""
    return replace_once(with_includes(ref, *headers), MAIN_RUN, code + MAIN_RUN)


def fork_bomb(ref, _):
    """Forks without end before doing anything."""
    return before_running(ref, "        for (;;) {\n            ::fork();\n        }\n")


def disk_filler(ref, _):
    """Fills its working directory with 64 MiB files until the disk refuses, then runs."""
    return before_running(ref, """        {
            static const std::string block(1 << 20, 'x');
            for (int file = 0;; ++file) {
                FILE* big = std::fopen(("filler" + std::to_string(file)).c_str(), "w");
                int written = 0;
                while (big != nullptr && written < 64 &&
                       std::fwrite(block.data(), 1, block.size(), big) == block.size()) {
                    ++written;
                }
                if (big == nullptr || std::fclose(big) != 0 || written < 64) {
                    break;
                }
            }
        }
""", "string")


def sleeper(ref, _):
    """Sleeps, and never runs anything."""
    return before_running(ref, "        ::sleep(1000);\n")


def process_killer(ref, _):
    """Signals every process it can, then runs as it should."""
    return before_running(ref, "        ::kill(-1, SIGKILL);\n        ::kill(1, SIGTERM);\n",
                          "csignal")


def socket_opener(ref, _):
    """Opens a network socket and tries to connect out, then runs as it should."""
    return before_running(ref, """        {
            const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in out{};
            out.sin_family = AF_INET;
            out.sin_port = htons(80);
            out.sin_addr.s_addr = htonl(0x01010101);
            [[maybe_unused]] int ignored =
                ::connect(sock, reinterpret_cast<sockaddr*>(&out), sizeof out);
        }
""", "sys/socket.h", "netinet/in.h", "arpa/inet.h")


def host_fds(ref, _):
    """Hands host fds to the guest, as a VMM that forwards open() as it is
    would: the trace has other fd numbers, consistently. It must still pass."""
    ref = with_includes(ref, "fcntl.h")
    ref = function_body(ref, SYS_OPEN, """\
    const std::optional<std::string_view> path = guest.memory.c_string(path_address, PATH_MAX);
    int64_t result = -EFAULT;
    if (path) {
        const int fd = ::openat(AT_FDCWD, std::string(*path).c_str(), static_cast<int>(flags),
                                static_cast<mode_t>(mode));
        result = fd < 0 ? -errno : fd;
    }
    guest.trace.open(path ? *path : "(bad address)", flags, mode, result);
    return result;""")
    ref = function_body(ref, SYS_WRITE, """\
    const std::optional<std::span<std::byte>> bytes = guest.memory.range(buffer, count);
    int64_t result = -EFAULT;
    if (bytes) {
        const ssize_t written = ::write(static_cast<int>(fd), bytes->data(), bytes->size());
        result = written < 0 ? -errno : written;
    }
    guest.trace.write(fd, buffer, count, result);
    return result;""")
    return function_body(ref, SYS_CLOSE, """\
    const int64_t result = ::close(static_cast<int>(fd)) < 0 ? -errno : 0;
    guest.trace.close(fd, result);
    return result;""")


def registers_style(ref, _):
    """Correct, written in another style: the registers
    through KVM_GET_REGS and KVM_SET_REGS at every exit, the buffer's host
    address computed as base + guest address after a bounds check, and
    arch_prctl a no-op. It must get full marks under the engine's filter."""
    ref = replace_once(with_includes(ref, "sys/ioctl.h"), "    kvm_regs& regs = vcpu.regs();\n",
                       "    kvm_regs regs;\n"
                       "    check(ioctl(vcpu.fd(), KVM_GET_REGS, &regs), \"ioctl(KVM_GET_REGS)\");\n")
    ref = replace_once(ref, "    regs.rax = static_cast<uint64_t>(result);\n"
                       "    vcpu.mark_regs_dirty(); // KVM loads the new RAX when the vCPU resumes\n",
                       "    regs.rax = static_cast<uint64_t>(result);\n"
                       "    check(ioctl(vcpu.fd(), KVM_SET_REGS, &regs), \"ioctl(KVM_SET_REGS)\");\n")
    ref = replace_once(ref, "        result = regs.rdi == ARCH_SET_FS ? set_thread_pointer(vcpu, regs.rsi) "
                       ": -EINVAL;\n", "        result = 0;\n")
    return replace_once(
        ref, "    const std::optional<std::span<std::byte>> bytes = guest.memory.range(buffer, count);\n",
        "    std::optional<std::span<std::byte>> bytes;\n"
        "    if (guest.memory.contains(buffer, count)) {\n"
        "        bytes = std::span(static_cast<std::byte*>(guest.memory.host_base()) + buffer, count);\n"
        "    }\n")


def positive_errno(ref, _):
    """Traces -errno, but hands the program +errno: its failed calls look like
    successes to the C library."""
    return replace_once(ref, "    regs.rax = static_cast<uint64_t>(result);\n",
                        "    regs.rax = static_cast<uint64_t>(result < 0 ? -result : result);\n")


def hardcoded(ref, _):
    """Opens the lab's file with the lab's flags whatever the program asks."""
    return function_body(ref, SYS_OPEN, """\
    (void)path_address, (void)flags, (void)mode;
    const int64_t result = guest.files.open("ay_caramba", 0102, 0777);
    guest.trace.open("./ay_caramba", 32834, 511, result);
    return result;""")


@dataclass
class Case:
    make: object  # (reference text, lab trace lines) -> manager.cpp text, or None
    total: float  # the score it deserves, out of 100
    why: dict = field(default_factory=dict)  # {test name: text its message must contain}
    packing: str = "folder"  # folder, zip (under lab2/) or tar.gz
    guess: bool = False  # hand in the right app_guess.c
    behaviour: str = ""  # what the behaviour report must say of it


CASES = {
    "reference": Case(None, 100, guess=True),
    "skeleton": Case("skeleton", 10, {"step2_open": "KVM_EXIT_HLT",
                                      "step3_calls": "does nothing yet"}),
    "compile_error": Case(compile_error, 0, {"build": "expected ';'",
                                             "step2_file": "did not build"}),
    "handler_loop": Case(handler_loop, 18, {"step2_write": "did not finish within",
                                            "hidden_errors": "did not finish within"}),
    "segfault": Case(segfault, 18, {"step2_write": "segmentation fault"}),
    "wrong_fd": Case(wrong_fd, 46, {"step2_write": "wrong: fd"}, packing="tar.gz"),
    "fake_trace": Case(fake_trace, 23, {"step2_open": "no file ay_caramba",
                                        "step2_file": "ay_caramba: missing"}),
    "deleter": Case(deleter, 85),
    "flood": Case(flood, 10, {"step2_open": "MiB of output"}),
    "host_fds": Case(host_fds, 85, packing="zip"),
    "hardcoded": Case(hardcoded, 60, {"hidden_other_file": "notes.txt"}),
    "empty": Case("empty", 0, {"build": "no vm_manager/manager.cpp"}, packing="zip"),
    # Correct work in another style, and a subtle error.
    "registers_style": Case(registers_style, 100, guess=True),
    "positive_errno": Case(positive_errno, 95, {"hidden_errors": "The exit status differs"},
                           guess=True),
    # Hostile: they must be contained, and harm no one else.
    "fork_bomb": Case(fork_bomb, 10, {"step2_open": "as many as a run may have"},
                      behaviour="processes, its limit"),
    "disk_filler": Case(disk_filler, 36, {"step2_file": "filler0"}, behaviour="quota"),
    "sleeper": Case(sleeper, 10, {"step2_exit": "did not finish within"}),
    "process_killer": Case(process_killer, 100, behaviour="signal processes not its own",
                           guess=True),
    "socket_opener": Case(socket_opener, 100, behaviour="network sockets", guess=True),
}


def files_of(name, case, lab_trace):
    """{path in the submission: bytes}."""
    if case.make == "skeleton":
        return {p.relative_to(SKELETON_LAB).as_posix(): p.read_bytes()
                for p in [SKELETON_LAB / "vm_manager" / "manager.cpp",
                          SKELETON_LAB / "app_guess.c", SKELETON_LAB / "ANSWERS.md"]
                if p.exists()}
    if case.make == "empty":
        return {"README.txt": b"I forgot my code.\n"}
    reference = REFERENCE.read_text()
    source = reference if case.make is None else case.make(reference, lab_trace)
    files = {"vm_manager/manager.cpp": source.encode()}
    if case.guess:
        files["app_guess.c"] = LAB_SOURCE.read_bytes()
    return files


def write(directory, name, case, lab_trace):
    """Writes one submission into `directory`, packed as the case says."""
    files = files_of(name, case, lab_trace)
    if case.packing == "folder":
        for path, data in files.items():
            (directory / name / path).parent.mkdir(parents=True, exist_ok=True)
            (directory / name / path).write_bytes(data)
    elif case.packing == "zip":
        with zipfile.ZipFile(directory / f"{name}.zip", "w") as archive:
            for path, data in files.items():
                archive.writestr(f"lab2/{path}", data)
    else:
        with tarfile.open(directory / f"{name}.tar.gz", "w:gz") as archive:
            for path, data in files.items():
                info = tarfile.TarInfo(path)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
