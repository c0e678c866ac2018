"""Real programs under the reference VMM, in ring 3, as natively.

Debian's busybox-static (glibc, static) and a few musl stdio programs run in
the emulated AMD-V machine (emulated/run.sh), where the program runs in ring 3
as on a student's hardware (this machine's PVM cannot run glibc's SSE2 code in
ring 0). Each case runs twice there, in one boot for the whole list
(real_programs.sh): natively, then under the reference VMM, in a fresh
/tmp/case made by the same setup. Its standard output, the files it leaves
(type, mode, mtime, contents) and its exit status must be the same.

Differences that come from the surroundings, not the VMM, are kept out by the
cases themselves: the same directory path both times, files dated by the
setup, an empty environment for both, no pids or clock times in the output,
and file times a run sets to "now" compared as "new"."""
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from helpers import BUILD, KIT, run

HERE = Path(__file__).resolve().parent
BOOT_TIMEOUT = 600  # seconds: boot plus every case, twice, with room for a slow machine
BUSYBOX = "/bin/busybox"  # busybox-static: also the emulated machine's own shell

# The files every case starts with (real_programs.sh dates them all 2020-01-02).
COMMON_SETUP = r"""
printf 'alpha beta\ngamma delta\nalpha omega\n' > a.txt
printf 'alpha beta\ngamma DELTA\nalpha omega\nzeta\n' > b.txt
printf 'one\ntwo\nthree\nfour\nfive\nsix\n' > lines.txt
printf 'banana\napple\ncherry\napple\nbanana\napple\n' > words.txt
printf 'root:x:0:0:root\nuser:x:1000:1000:a user\n' > table.txt
printf 'a 1\nb 2\nc 3.5\n' > nums.txt
mkdir -p dir/sub empty
printf 'inner\n' > dir/sub/in.txt
printf 'top\n' > dir/top.txt
ln -s a.txt link
"""


@dataclass
class Case:
    name: str
    command: list
    setup: str = ""       # shell lines run natively after the common setup
    stdin: str = None     # the program's standard input, else /dev/null
    vmm_options: list = field(default_factory=list)


def applet(name, *args, **kwargs):
    return Case(name, [BUSYBOX, name.split(":")[0], *args], **kwargs)


# Each busybox applet once at least; the name is the case's (applet:variant).
# What needs a fork (zcat, a shell) or a second process is not here: the VMM
# runs one program. bzip2 needs more than the default 8 MiB of guest memory.
BUSYBOX_CASES = [
    applet("echo", "hello", "world"),
    applet("printf", r"%s-%05d|%x\n", "a", "42", "255"),
    applet("cat", "a.txt", "lines.txt"),
    applet("tac", "lines.txt"),
    applet("rev", "lines.txt"),
    applet("wc", "a.txt", "lines.txt", "words.txt"),
    applet("head", "-n", "3", "lines.txt"),
    applet("tail", "-n", "2", "lines.txt"),
    applet("tail:bytes", "-c", "7", "words.txt"),
    applet("sort", "-r", "words.txt"),
    applet("sort:numeric", "-n", "-k2", "nums.txt"),
    applet("uniq", "-c", stdin="apple\napple\nbanana\ncherry\ncherry\n"),
    applet("tr", "a-z", "A-Z", stdin="make me LOUD\n"),
    applet("cut", "-d:", "-f1,3", "table.txt"),
    applet("sed", "-n", "s/a/A/gp", "a.txt"),
    applet("sed:in-place", "-i", "s/alpha/ALPHA/", "a.txt"),
    applet("grep", "-n", "alpha", "a.txt", "b.txt"),
    applet("grep:no-match", "-c", "nothing", "a.txt"),
    applet("awk", "{ s += $2 } END { printf \"%.2f %d\\n\", s, NR }", "nums.txt"),
    applet("od", "-A", "x", "-t", "x1z", "a.txt"),
    applet("hexdump", "-C", "lines.txt"),
    applet("xxd", "words.txt"),
    applet("md5sum", "a.txt", "b.txt"),
    applet("sha1sum", "a.txt"),
    applet("sha256sum", "a.txt", "lines.txt"),
    applet("sha512sum", "words.txt"),
    applet("base64", "table.txt"),
    applet("seq", "1", "3", "20"),
    applet("expr", "6", "*", "7"),
    applet("basename", "/some/dir/file.txt", ".txt"),
    applet("dirname", "/some/dir/file.txt"),
    applet("true"),
    applet("false"),
    applet("test", "-f", "a.txt", "-a", "-d", "dir", "-a", "-L", "link"),
    applet("cmp", "a.txt", "b.txt"),
    applet("diff", "a.txt", "b.txt"),
    applet("fold", "-w", "6", "a.txt"),
    applet("nl", "lines.txt"),
    applet("paste", "lines.txt", "words.txt"),
    applet("expand", stdin="a\tb\tc\n"),
    applet("strings", "-n", "3", "a.txt"),
    applet("ls", "-a", "dir"),
    applet("ls:long", "-ln", "dir"),
    applet("ls:recursive", "-R"),
    applet("stat", "-c", "%n %s %a %F %h", "a.txt", "dir", "link", "empty"),
    applet("find", ".", "-name", "*.txt"),
    applet("find:types", ".", "-type", "d"),
    applet("du", "-a", "dir"),
    applet("pwd"),
    applet("realpath", "dir/sub/../top.txt", "link"),
    applet("readlink", "link"),
    applet("cp", "a.txt", "copy.txt"),
    applet("cp:recursive", "-r", "dir", "dir2"),
    applet("mv", "a.txt", "dir/moved.txt"),
    applet("rm", "-r", "dir", "lines.txt"),
    applet("rmdir", "empty"),
    applet("mkdir", "-p", "x/y/z"),
    applet("mkdir:mode", "-m", "700", "private"),
    applet("touch", "-d", "2001-02-03 04:05:06", "new.txt", "a.txt"),
    applet("ln", "-s", "lines.txt", "symbolic"),
    applet("ln:hard", "a.txt", "hard"),
    applet("link", "a.txt", "another"),
    applet("unlink", "b.txt"),
    applet("chmod", "640", "a.txt", "dir"),
    applet("chown", "0:0", "a.txt", "dir"),
    applet("truncate", "-s", "5", "a.txt"),
    applet("dd", "if=lines.txt", "of=part.txt", "bs=4", "count=3", "skip=1"),
    applet("tee", "t1.txt", "t2.txt", stdin="to every file\n"),
    applet("tar", "-cf", "out.tar", "dir"),
    applet("tar:extract", "-xf", "in.tar", setup="tar -cf in.tar dir && rm -r dir"),
    applet("tar:list", "-tvf", "in.tar", setup="tar -cf in.tar dir lines.txt"),
    applet("gzip", "-c", "-n", "words.txt"),
    applet("gzip:file", "-9", "lines.txt"),
    applet("gunzip", "-c", "w.gz", setup="gzip -c words.txt > w.gz"),
    applet("bzip2", "-c", "lines.txt", vmm_options=["--mem", "32M"]),
    applet("bunzip2", "l.bz2", setup="bzip2 -c lines.txt > l.bz2", vmm_options=["--mem", "32M"]),
    applet("xz", "-c", "a.txt"),
    applet("unxz", "-c", "a.xz", setup="xz -c a.txt > a.xz"),
    applet("uuencode", "a.txt", "a.txt"),
    applet("date", "-u", "-d", "@1700000000", "+%Y-%m-%d %H:%M:%S"),
    applet("id", "-u"),
    applet("uname", "-s", "-m"),
    applet("env"),
    applet("sleep", "0.2"),
    applet("factor", "360", "97"),
    applet("shuf", "-i", "1-1", "-n", "1"),
    applet("dos2unix", "crlf.txt", setup=r"printf 'a\r\nb\r\n' > crlf.txt"),
    applet("sha3sum", "a.txt"),
    applet("crc32", "a.txt"),
]

# musl stdio programs (tests/hw/programs/): built with musl-gcc -static.
STDIO_CASES = [
    Case("stdio_wordfreq", ["/kit/programs/stdio_wordfreq", "words.txt"]),
    Case("stdio_copy", ["/kit/programs/stdio_copy", "lines.txt", "LINES.TXT"]),
    Case("stdio_tree", ["/kit/programs/stdio_tree"]),
    Case("stdio_guess", ["/kit/programs/stdio_guess"]),
    Case("stdio_numbers", ["/kit/programs/stdio_numbers"], stdin="3 1.5\n-2 10\n4e2\n"),
]

CASES = BUSYBOX_CASES + STDIO_CASES


@pytest.fixture(scope="module")
def payload(tmp_path_factory):
    """The reference VMM, boot.bin, the musl programs, the script, and one
    directory per case: its command, setup, input and VMM options."""
    root = tmp_path_factory.mktemp("real-programs")
    shutil.copy2(BUILD / "solutions" / "vm_manager", root / "vm_manager")
    shutil.copy2(BUILD / "vm_src" / "boot.bin", root / "boot.bin")
    (root / "programs").mkdir()
    for source in sorted((HERE / "programs").glob("*.c")):
        result = run(["musl-gcc", "-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o",
                      root / "programs" / source.stem, source], cwd=root)
        assert result.returncode == 0, result.stderr
    shutil.copy2(HERE / "real_programs.sh", root / "real_programs.sh")
    (root / "setup.sh").write_text(COMMON_SETUP)
    for number, case in enumerate(CASES):
        directory = root / "cases" / f"{number:03d}-{case.name.replace(':', '-')}"
        directory.mkdir(parents=True)
        (directory / "command").write_text(shlex.join(case.command) + "\n")
        if case.setup:
            (directory / "setup.sh").write_text(case.setup + "\n")
        if case.stdin is not None:
            (directory / "stdin").write_text(case.stdin)
        if case.vmm_options:
            (directory / "vmm_options").write_text(" ".join(case.vmm_options) + "\n")
    return root


def manifest(stat, sha256, started):
    """The files a run left, one line each, sorted: name, type, mode, mtime
    (or "new" for a time the run set from the clock), contents or target."""
    contents = {}
    for line in sha256.splitlines():
        digest, name = line.split(maxsplit=1)
        contents[name] = digest
    files = []
    for line in stat.splitlines():
        name, kind, mode, mtime = line.rsplit("|", 3)
        target = ""
        if " -> " in name:  # a symbolic link: its target, not its time
            name, target = name.split(" -> ", 1)
            mtime = ""
        name, target = name.strip("'"), target.strip("'")
        if mtime and int(mtime) >= started:
            mtime = "new"
        files.append(f"{name} {kind} {mode} {mtime} {contents.get(name, target)}".rstrip())
    return sorted(files)


def parse_runs(console):
    """{(case directory name, "native" or "vmm"): {status, stdout, files, stderr, trace}}."""
    started = int(re.search(r"^@@@ started (\d+)$", console, flags=re.M).group(1))
    runs = {}
    for section in re.split(r"^@@@ run ", console, flags=re.M)[1:]:
        header, _, body = section.partition("\n")
        name, side = header.split()
        parts = dict(re.findall(r"^@@@ (stat|sha256|stderr|trace)\n(.*?)(?=^@@@ )", body,
                                flags=re.M | re.S))
        runs[(name, side)] = {
            "status": int(re.search(r"^@@@ status (\d+)$", body, flags=re.M).group(1)),
            "stdout": bytes.fromhex(re.search(r"^@@@ stdout ([0-9a-f]*)$", body,
                                              flags=re.M).group(1)),
            "files": manifest(parts.get("stat", ""), parts.get("sha256", ""), started),
            "stderr": parts.get("stderr", "").strip(),
            "trace": parts.get("trace", "").strip(),
        }
    return runs


@pytest.fixture(scope="module")
def runs(payload):
    """Every case, natively and under the VMM, from one boot of the emulated machine."""
    machine = run([KIT / "emulated" / "run.sh", "--timeout", str(BOOT_TIMEOUT), payload,
                   "sh", "./real_programs.sh"], cwd=KIT, timeout=BOOT_TIMEOUT + 60)
    assert machine.returncode == 0, (
        f"the emulated machine failed (status {machine.returncode}): {machine.stderr}\n"
        f"its console:\n{machine.stdout[-3000:]}")
    return parse_runs(machine.stdout)


def directory_of(case):
    return f"{CASES.index(case):03d}-{case.name.replace(':', '-')}"


def differences(runs, case):
    """What differs between the native run and the VMM's: [] when nothing does."""
    key = directory_of(case)
    assert (key, "native") in runs and (key, "vmm") in runs, (
        f"{case.name} did not report: the machine's console is in the log")
    native, vmm = runs[(key, "native")], runs[(key, "vmm")]
    found = []
    if native["status"] != vmm["status"]:
        found.append(f"exit status {native['status']} natively, {vmm['status']} under the VMM")
    if native["stdout"] != vmm["stdout"]:
        found.append(f"stdout natively {native['stdout'][:300]!r}\n"
                     f"  under the VMM {vmm['stdout'][:300]!r}")
    if native["files"] != vmm["files"]:
        found.append("files natively:\n    " + "\n    ".join(native["files"]) +
                     "\n  under the VMM:\n    " + "\n    ".join(vmm["files"]))
    if found:
        found.append(f"the VMM's stderr: {vmm['stderr']}\nits trace ends:\n{vmm['trace']}")
    return found


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_runs_under_the_vmm_as_natively(runs, case):
    found = differences(runs, case)
    assert not found, f"{shlex.join(case.command)}:\n" + "\n".join(found)


def test_at_least_40_busybox_applets_and_3_stdio_programs_run_as_natively(runs):
    same_applets = {c.command[1] for c in BUSYBOX_CASES if not differences(runs, c)}
    same_programs = [c.name for c in STDIO_CASES if not differences(runs, c)]
    print(f"\n  identical under the VMM in ring 3: {len(same_applets)} busybox applets "
          f"({sum(not differences(runs, c) for c in BUSYBOX_CASES)} of {len(BUSYBOX_CASES)} "
          f"cases), {len(same_programs)} of {len(STDIO_CASES)} musl stdio programs", end="")
    assert len(same_applets) >= 40 and len(same_programs) >= 3


def test_the_cases_are_not_trivially_the_same(runs):
    # A case whose native run failed or printed nothing proves little: most must do work.
    native = [runs[(directory_of(c), "native")] for c in CASES]
    assert sum(r["stdout"] != b"" for r in native) >= len(CASES) * 2 // 3
    assert sum(r["status"] == 0 for r in native) >= len(CASES) - 8
