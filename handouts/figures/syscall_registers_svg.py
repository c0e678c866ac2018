#!/usr/bin/env python3
"""Draws the figure of the vCPU at the `hlt` of one system call, from a real run.

Usage: syscall_registers_svg.py VMM BOOT_ELF APP > syscall-registers.svg
(`make figures` runs it with the reference VMM and the lab program.)

The VMM runs APP under its gdb stub (vm_manager --gdb), and gdb stops at
boot.asm's syscall_entry when RAX holds 1, the program's first write. There
it reads what the VMM finds in kvm_run at the KVM_EXIT_HLT: the call's number
and arguments, and RCX and R11 as `syscall` left them. `stepi` then executes
the `hlt`: the VMM carries the call out, and gdb reads RAX, now the result,
and RIP, now syscall_entry + 1, where KVM reports the exit. Every value drawn
comes from that run; the program runs as ./app in a directory of its own, so
that its stack (argv[0] is on it) is the same wherever the kit is.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from html import escape

# The registers the figure shows, in the order of the system-call convention.
REGISTERS = ["rax", "rdi", "rsi", "rdx", "r10", "r8", "r9", "rcx", "r11", "rip"]
WIDTH, ROW = 960, 34


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def values_from_a_run(vmm, boot_elf, app):
    """{name: text} of what gdb printed at the first write's `hlt`, and after it."""
    with tempfile.TemporaryDirectory() as work:
        shutil.copy(app, os.path.join(work, "app"))
        port = free_port()
        machine = subprocess.Popen([vmm, "--gdb", str(port), "./app"], cwd=work, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        commands = ["set confirm off", "file ./app", f"add-symbol-file {boot_elf}",
                    "set tcp connect-timeout 15", f"target remote 127.0.0.1:{port}",
                    "break syscall_entry if $rax == 1", "continue",
                    "echo @@at-hlt\\n", "info registers " + " ".join(REGISTERS),
                    "info symbol $rcx", "x/s $rsi", "x/i $rcx - 2",
                    "stepi", "echo @@after-hlt\\n", "info registers rax rip", "info symbol $rip",
                    "delete", "continue"]
        try:
            gdb = subprocess.run(["gdb", "-batch", "-nx"] + [a for c in commands for a in ("-ex", c)],
                                 cwd=work, capture_output=True, text=True, timeout=120)
            trace, errors = machine.communicate(timeout=60)
        finally:
            machine.kill()
            machine.wait()
    if "@@after-hlt" not in gdb.stdout or machine.returncode != 0:
        sys.exit("syscall_registers_svg.py: the run under gdb did not go as planned:\n"
                 + gdb.stdout[-1500:] + gdb.stderr[-1500:] + errors[-1500:])
    before, after = gdb.stdout.split("@@at-hlt", 1)[1].split("@@after-hlt", 1)
    registers = lambda text: dict(re.findall(r"^(\w+)\s+(0x[0-9a-f]+)", text, re.M))
    found = {name: value for name, value in registers(before).items() if name in REGISTERS}
    found["rip_at_break"] = found.pop("rip")
    found.update({f"{name}_after": value for name, value in registers(after).items()})
    found["return_symbol"] = re.search(r"^(\S+ \+ \d+) in section", before, re.M).group(1)
    found["buffer_text"] = re.search(r':\s+(".*")$', before, re.M).group(1)
    found["syscall_at"] = re.search(r"^\s+(0x[0-9a-f]+) <[^>]*>:\s+syscall", before, re.M).group(1)
    if int(found["rip_after"], 16) != int(found["rip_at_break"], 16) + 1:
        sys.exit("syscall_registers_svg.py: after the hlt, RIP is not syscall_entry + 1")
    found["trace_line"] = next(line for line in trace.splitlines() if line.startswith("WRITE"))
    return found


def flags(value):
    """RFLAGS in words: "PF ZF set, IF clear" (Intel SDM vol. 1, 3.4.3)."""
    names = {0: "CF", 2: "PF", 4: "AF", 6: "ZF", 7: "SF", 8: "TF", 9: "IF", 10: "DF", 11: "OF"}
    bits = int(value, 16)
    set_ = [name for bit, name in names.items() if bits >> bit & 1]
    return " ".join(set_) + " set" + ("" if bits >> 9 & 1 else ", IF clear")


def svg(v):
    number, result = int(v["rax"], 16), int(v["rax_after"], 16)
    function = v["return_symbol"].split(" ")[0]
    read, written, left = ("#e6f0fb", "#2b6cb0"), ("#fdf1dc", "#b7791f"), ("#f2f2f2", "#666")
    rows = [
        ("RAX", f'{v["rax"]} → {v["rax_after"]}',
         f"the call's number, {number}: write → its result: {result} bytes written",
         "reads, then writes", written),
        ("RDI", v["rdi"], f'1st argument: the file descriptor, {int(v["rdi"], 16)}', "reads",
         read),
        ("RSI", v["rsi"], f'2nd: the buffer, {v["buffer_text"]}, a guest address', "reads",
         read),
        ("RDX", v["rdx"], f'3rd: the count, {int(v["rdx"], 16)} bytes', "reads", read),
        ("R10", v["r10"], "4th argument (write has only 3)", "reads, for calls that have it",
         read),
        ("R8", v["r8"], "5th argument", "reads, for calls that have it", read),
        ("R9", v["r9"], "6th argument", "reads, for calls that have it", read),
        ("RCX", v["rcx"], f"set by syscall: the return address, in musl's {function}",
         "leaves it", left),
        ("R11", v["r11"], f"set by syscall: the program's RFLAGS ({flags(v['r11'])})",
         "leaves it", left),
        ("RIP", v["rip_after"], "syscall_entry + 1: KVM reports the exit past the hlt",
         "leaves it", left),
    ]
    flow = [("the program (musl)", f'{v["syscall_at"]}: syscall'),
            ("boot.asm: syscall_entry", f'{v["rip_at_break"]}: hlt'),
            ("the VMM: KVM_EXIT_HLT", f'RIP {v["rip_after"]}, RAX ← {result}'),
            ("KVM_RUN: back to the program", f'jmp rcx or sysret: {v["rcx"]}')]
    flow_top, box, gap = 60, 212, 24
    table_top = flow_top + 100
    height = table_top + ROW * len(rows) + 100
    mono = 'font-family="DejaVu Sans Mono, monospace"'
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans, Arial, sans-serif" '
           f'font-size="13">',
           "  <title>The vCPU at the hlt of one system call, drawn from a real run</title>",
           "  <defs>",
           '    <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
           'markerHeight="8" orient="auto">',
           '      <path d="M0,0 L10,5 L0,10 z" fill="#333"/>',
           "    </marker>",
           "  </defs>",
           f'  <rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
           f'  <text x="{WIDTH // 2}" y="26" text-anchor="middle" font-size="17" '
           f'font-weight="bold">The vCPU at the hlt of write(3, "Hello World !!!\\n", 16)'
           f'</text>',
           f'  <text x="{WIDTH // 2}" y="46" text-anchor="middle" fill="#555">the lab '
           f"program's first write, as the VMM finds it in kvm_run; drawn from a real run "
           f"(make figures)</text>"]
    for i, (title, what) in enumerate(flow):
        x = 20 + i * (box + gap)
        out.append(f'  <rect x="{x}" y="{flow_top}" width="{box}" height="52" rx="6" '
                   f'fill="#fafafa" stroke="#888"/>')
        out.append(f'  <text x="{x + box // 2}" y="{flow_top + 21}" text-anchor="middle" '
                   f'font-size="12">{escape(title)}</text>')
        out.append(f'  <text x="{x + box // 2}" y="{flow_top + 41}" text-anchor="middle" '
                   f'{mono} font-size="12">{escape(what)}</text>')
        if i + 1 < len(flow):
            out.append(f'  <line x1="{x + box + 3}" y1="{flow_top + 26}" x2="{x + box + gap - 3}"'
                       f' y2="{flow_top + 26}" stroke="#333" marker-end="url(#arrow)"/>')
    columns = [(20, "register"), (90, "value"), (230, "what it holds at the exit"),
               (700, "the VMM")]
    for x, title in columns:
        out.append(f'  <text x="{x + 8}" y="{table_top - 8}" font-weight="bold">{title}</text>')
    y = table_top
    for name, value, meaning, vmm, (fill, stroke) in rows:
        out.append(f'  <rect x="20" y="{y}" width="{WIDTH - 40}" height="{ROW - 4}" '
                   f'fill="{fill}" stroke="{stroke}"/>')
        out.append(f'  <text x="28" y="{y + 20}" {mono} font-weight="bold" fill="{stroke}">'
                   f'{name}</text>')
        out.append(f'  <text x="98" y="{y + 20}" {mono}>{escape(value)}</text>')
        out.append(f'  <text x="238" y="{y + 20}">{escape(meaning)}</text>')
        out.append(f'  <text x="708" y="{y + 20}" fill="{stroke}">{escape(vmm)}</text>')
        y += ROW
    y += 8
    legend = [(read, "read by the VMM in kvm_run (vcpu.regs()): the number and the arguments"),
              (written, "written by the VMM, then vcpu.mark_regs_dirty(): the result, or -errno"),
              (left, "left as they are: the way back to the program")]
    for (fill, stroke), text in legend:
        out.append(f'  <rect x="20" y="{y}" width="16" height="14" fill="{fill}" '
                   f'stroke="{stroke}"/>')
        out.append(f'  <text x="44" y="{y + 12}">{escape(text)}</text>')
        y += 22
    out.append(f'  <text x="20" y="{y + 12}" fill="#555">its trace line: '
               f'<tspan {mono}>{escape(v["trace_line"])}</tspan></text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[1])
    vmm, boot_elf, app = (os.path.abspath(a) for a in sys.argv[1:])
    sys.stdout.write(svg(values_from_a_run(vmm, boot_elf, app)))


if __name__ == "__main__":
    main()
