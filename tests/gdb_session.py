"""Running a real gdb (gdb -batch) against vm_manager --gdb PORT, as make debug
does: the kit's gdb commands (tools/vmm.gdb), the program's symbols and
boot.asm's (boot.elf)."""
import selectors
import socket
import subprocess
import time

from helpers import BUILD, KIT, LAB_APP

BOOT_ELF = BUILD / "vm_src" / "boot.elf"
GDB_COMMANDS = KIT / "tools" / "vmm.gdb"

# The acceptance session: stop at the first three system calls, read their
# numbers, then let the program finish.
SYSTEM_CALLS_SESSION = ["break syscall_entry", "continue", "print $rax", "continue",
                        "print $rax", "continue", "print $rax", "delete", "continue"]


def free_port():
    """A TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gdb_command(port, commands, program=LAB_APP, boot_elf=BOOT_ELF, target="127.0.0.1"):
    """gdb -batch connected to localhost:PORT, running `commands` one by one."""
    command = ["gdb", "-batch", "-nx", "-x", str(GDB_COMMANDS), "-ex", f"file {program}",
               "-ex", f"add-symbol-file {boot_elf}", "-ex", f"target remote {target}:{port}"]
    for line in commands:
        command += ["-ex", line]
    return command


def run_under_gdb(vmm_command, commands, cwd, program=LAB_APP, timeout=60):
    """Starts the VMM with --gdb on a free port, runs gdb's commands against
    it, and waits for both: (gdb's CompletedProcess, the VMM's)."""
    port = free_port()
    vmm = subprocess.Popen([str(c) for c in vmm_command[:1]] + ["--gdb", str(port)] +
                           [str(c) for c in vmm_command[1:]], cwd=cwd, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        gdb = subprocess.run(gdb_command(port, commands, program), cwd=cwd, text=True,
                             capture_output=True, timeout=timeout)
        stdout, stderr = vmm.communicate(timeout=timeout)
    finally:
        vmm.kill()
        vmm.wait()
    return gdb, subprocess.CompletedProcess(vmm.args, vmm.returncode, stdout, stderr)


def printed_values(gdb_output):
    """The values gdb's `print` commands showed: "$1 = 158" -> ["158"]."""
    return [line.split(" = ", 1)[1] for line in gdb_output.splitlines()
            if line.startswith("$") and " = " in line]


def run_gdb_over(stream, commands, timeout=120):
    """Runs gdb's commands against a stub at the other end of `stream` (a
    connected socket, such as the emulated machine's serial port): gdb
    connects to a local port, whose bytes are relayed to and from `stream`."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(timeout)
        gdb = subprocess.Popen(gdb_command(listener.getsockname()[1], commands), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            connection, _ = listener.accept()
            relay(connection, stream, until=time.monotonic() + timeout)
            connection.close()
            stdout, stderr = gdb.communicate(timeout=timeout)
        finally:
            gdb.kill()
            gdb.wait()
    return subprocess.CompletedProcess(gdb.args, gdb.returncode, stdout, stderr)


def relay(a, b, until):
    """Copies bytes both ways between two sockets until one closes."""
    selector = selectors.DefaultSelector()
    selector.register(a, selectors.EVENT_READ, b)
    selector.register(b, selectors.EVENT_READ, a)
    while time.monotonic() < until:
        for key, _ in selector.select(timeout=1):
            data = key.fileobj.recv(65536)
            if not data:
                return
            key.data.sendall(data)
