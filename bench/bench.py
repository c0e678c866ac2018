#!/usr/bin/python3
"""The benchmark driver behind `make bench` (see bench/README.md).

Runs every measurement in one go, interleaved (each round runs every command
once, so that all of them see the same machine), then prints a table, the
ratios against the benchmark's goals, and writes results.json, chart.svg and
results.md into the output directory.

    bench.py --build BUILD_DIR --out OUT_DIR [--vmm PATH] [--vmm-name TEXT] [--quick]

The VMM is the reference in the instructors' kit and the student's own in the
handout. A VMM that does not yet run the lab program as Linux does (the
skeleton of Step 1, a Step 2 under way) is not measured: the figures that need
it are left out, saying why, and the others are measured all the same.

Only the Python standard library; the processes are timed by spawn_timer (C).
"""
import argparse
import datetime
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

FULL = {"calls": 20000, "call_rounds": 11, "process_rounds": 301,
        "checksum_bytes": 1 << 20, "small_reads": 100000, "workload_rounds": 3}
QUICK = {"calls": 1000, "call_rounds": 2, "process_rounds": 3,
         "checksum_bytes": 64 << 10, "small_reads": 2000, "workload_rounds": 1}

# The benchmark's goals; a ratio is reported PASS or MISS, never asserted.
GOALS = {
    "forwarded_over_bare_exit": 1.10,
    "vmm_over_bare_vm": 1.25,
    "qemu_over_vmm": 4.0,
    "vmm_peak_rss_mib": 8.0,
}


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", required=True, type=Path, help="the kit's build/ directory")
    parser.add_argument("--out", required=True, type=Path, help="where results go")
    parser.add_argument("--vmm", type=Path, help="the VMM to measure "
                        "(default: BUILD/solutions/vm_manager)")
    parser.add_argument("--vmm-name", default="the reference VMM",
                        help="what the report calls it, such as 'your VMM'")
    parser.add_argument("--quick", action="store_true",
                        help="a few runs only: checks that everything works, in seconds; "
                        "the figures mean little")
    return parser.parse_args()


def kvm_problem():
    if not os.path.exists("/dev/kvm"):
        return "there is no /dev/kvm on this machine"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm is not accessible (add yourself to the kvm group)"
    return None


def machine_description():
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if Path("/sys/module/kvm_pvm").is_dir():
        kvm = "PVM (kvm_pvm): guest ring-0 code is emulated"
    elif Path("/sys/module/kvm_intel").is_dir():
        kvm = "kvm_intel (VT-x)"
    elif Path("/sys/module/kvm_amd").is_dir():
        kvm = "kvm_amd (AMD-V)"
    else:
        kvm = "unknown"
    return {
        "kernel": platform.release(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "kvm": kvm,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


class Runner:
    """Writes a spec file for spawn_timer, runs it, returns the samples."""

    def __init__(self, spawn_timer, work):
        self.spawn_timer = spawn_timer
        self.work = work

    def run(self, commands, rounds):
        """commands: list of (label, argv). Returns {label: [(seconds, maxrss_kib)]}."""
        spec = self.work / "spec.tsv"
        lines = []
        for label, argv in commands:
            fields = [label, str(self.work), "0", *map(str, argv)]
            assert all("\t" not in f and "\n" not in f for f in fields), fields
            lines.append("\t".join(fields))
        spec.write_text("\n".join(lines) + "\n")
        result = subprocess.run([str(self.spawn_timer), str(rounds), str(spec)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit("bench: a measured command failed:\n" + result.stderr.strip() +
                     "\n(run it by hand in " + str(self.work) + " to see why)")
        samples = {label: [] for label, _ in commands}
        for line in result.stdout.splitlines():
            label, _round, ns, rss, _status = line.split("\t")
            samples[label].append((int(ns) / 1e9, int(rss)))
        return samples


def files_in(directory):
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


def vmm_problem(vmm, app, work):
    """Why `vmm` cannot be measured on the lab program, or None: it must run
    the program as Linux does, to the same exit status and the same files.
    Timed figures of a run that loops or crashes would mean nothing."""
    native_dir, vmm_dir = work / "check-native", work / "check-vmm"
    for directory in (native_dir, vmm_dir):
        directory.mkdir(parents=True)
    native = subprocess.run([str(app)], cwd=native_dir, capture_output=True, timeout=60)
    try:
        # Bounded: the skeleton of Step 1 would run for ever.
        run = subprocess.run([str(vmm), "--max-exits", "10000", "--timeout", "10", str(app)],
                             cwd=vmm_dir, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return "it did not stop within 60 s"
    if run.returncode != native.returncode:
        last = run.stderr.strip().splitlines()[:1]
        return (f"it exits with status {run.returncode} where the program exits with "
                f"{native.returncode}" + (f" ({last[0]})" if last else ""))
    if files_in(vmm_dir) != files_in(native_dir):
        return "the files the program leaves are not those it leaves when run natively"
    return None


def answer(argv, work):
    """What a program prints on its standard output, run in `work`."""
    return subprocess.run([str(a) for a in argv], cwd=work, capture_output=True,
                          timeout=600).stdout


def summary(values, scale):
    values = [v * scale for v in values]
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": len(values),
    }


def per_call(samples, with_calls, without_calls, calls, scale=1e6):
    """Cost of one call in µs: (T(N calls) - T(0 calls)) / N, round by round
    (both runs of a round are neighbours in time), then the median."""
    pairs = zip(samples[with_calls], samples[without_calls])
    return summary([(a[0] - b[0]) / calls for a, b in pairs], scale)


def measure(args, settings):
    build, out = args.build, args.out
    bench = build / "bench"
    vmm = args.vmm or build / "solutions" / "vm_manager"
    boot, app = build / "vm_src" / "boot.bin", build / "vm_src" / "app"
    bare_vm, bare_vm_musl = bench / "bare_vm", bench / "bare_vm_musl"
    loop = bench / "syscall_loop"
    workload = bench / "file_workload"
    qemu = shutil.which("qemu-x86_64")
    for needed in (vmm, boot, app, bare_vm, loop, workload, bench / "spawn_timer"):
        if not needed.exists():
            sys.exit(f"bench: {needed} is missing: run make bench")

    work = out / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    problem = vmm_problem(vmm, app, out / "check")
    shutil.rmtree(out / "check", ignore_errors=True)
    runner = Runner(bench / "spawn_timer", work)
    n = settings["calls"]

    # 1. Per call: each program runs with N calls and with 0, in the same round.
    commands = [
        ("bare_exit_N", [bare_vm, "--exits", n, boot]),
        ("bare_exit_0", [bare_vm, "--exits", 0, boot]),
        ("stub_exit_N", [bare_vm, "--syscalls", n, boot]),
        ("null_syscall_N", [bare_vm, boot, loop, n]),
        ("null_syscall_0", [bare_vm, boot, loop, 0]),
        ("native_syscall_N", [loop, n]),
        ("native_syscall_0", [loop, 0]),
    ]
    if not problem:
        commands += [("forwarded_syscall_N", [vmm, loop, n]), ("forwarded_syscall_0", [vmm, loop, 0])]
    if qemu:
        commands += [("qemu_syscall_N", [qemu, loop, n]), ("qemu_syscall_0", [qemu, loop, 0])]
    s = runner.run(commands, settings["call_rounds"])
    calls = {
        "bare_exit": per_call(s, "bare_exit_N", "bare_exit_0", n),
        "stub_exit": per_call(s, "stub_exit_N", "bare_exit_0", n),
        "null_syscall": per_call(s, "null_syscall_N", "null_syscall_0", n),
        "native_syscall": per_call(s, "native_syscall_N", "native_syscall_0", n),
    }
    if not problem:
        calls["forwarded_syscall"] = per_call(s, "forwarded_syscall_N", "forwarded_syscall_0", n)
    if qemu:
        calls["qemu_syscall"] = per_call(s, "qemu_syscall_N", "qemu_syscall_0", n)

    # 2. Whole processes: the lab program, and the floors. The same absolute
    #    path for the program everywhere: musl's start-up reads argv[0].
    commands = [
        ("bare_vm", [bare_vm, boot]),
        ("native", [app]),
        ("bare_vm_app", [bare_vm, boot, app]),
    ]
    if not problem:
        commands.insert(1, ("vmm", [vmm, app]))
    if bare_vm_musl.exists():
        commands.append(("bare_vm_musl", [bare_vm_musl, boot]))
    if qemu:
        commands.append(("qemu", [qemu, app]))
    s = runner.run(commands, settings["process_rounds"])
    processes = {label: summary([t for t, _ in runs], 1e3) for label, runs in s.items()}
    rss = {label: summary([r for _, r in runs], 1) for label, runs in s.items()}

    # 3. Real workloads, whole processes: work on a file's bytes with few
    #    calls, and many small reads with little work (file_workload.c). The
    #    same answer natively and under qemu-x86_64, or the figures are about a
    #    broken run; a VMM that answers otherwise (one that does not carry out
    #    read yet) is left out of these figures, saying why.
    data = work / "input.bin"
    data.write_bytes(random.Random(2026).randbytes(settings["checksum_bytes"]))
    programs = {"checksum": [workload, "checksum", data.name],
                "reads": [workload, "reads", data.name, settings["small_reads"]]}
    commands, workload_problems = [], []
    for name, argv in programs.items():
        native = answer(argv, work)
        if qemu and answer([qemu, *argv], work) != native:
            sys.exit(f"bench: {name} does not print the same under qemu-x86_64 as natively")
        commands.append((f"{name}_native", argv))
        if qemu:
            commands.append((f"{name}_qemu", [qemu, *argv]))
        if problem:
            continue
        # The VMM's trace goes to a file: its standard output is the program's.
        if answer([vmm, "--trace", "check.trace", *argv], work) == native:
            commands.append((f"{name}_vmm", [vmm, *argv]))
        else:
            workload_problems.append(f"file_workload {name} does not print under "
                                     f"{args.vmm_name} what it prints natively")
    s = runner.run(commands, settings["workload_rounds"])
    workloads = {label: summary([t for t, _ in runs], 1e3) for label, runs in s.items()}

    return {
        "vmm": str(vmm),
        "vmm_name": args.vmm_name,
        # Why the VMM's figures are missing, if they are.
        "vmm_not_measured": problem,
        "qemu": qemu,
        "calls": calls,
        "processes": processes,
        "workloads": workloads,
        "workloads_not_measured": workload_problems,
        "peak_rss_kib": rss,
    }


def ratios(r):
    calls, processes = r["calls"], r["processes"]
    out = []

    def add(name, value, goal, kind, text, note="(for reading the one above)"):
        # A ratio of a negative figure is noise (possible in --quick): never a PASS.
        passed = None if goal is None else value > 0 and (value <= goal if kind == "max"
                                                           else value >= goal)
        out.append({"name": name, "value": value, "goal": goal, "kind": kind,
                    "pass": passed, "text": text, "note": note})

    if r["vmm_not_measured"]:
        return out  # every ratio is about the VMM
    fwd = calls["forwarded_syscall"]["median"]
    add("forwarded_over_bare_exit", fwd / calls["bare_exit"]["median"],
        GOALS["forwarded_over_bare_exit"], "max", "forwarded_syscall / bare_exit")
    add("forwarded_over_null_syscall", fwd / calls["null_syscall"]["median"], None, "max",
        "forwarded_syscall / null_syscall (same guest code; the VMM's own work)")
    add("vmm_over_bare_vm", processes["vmm"]["median"] / processes["bare_vm"]["median"],
        GOALS["vmm_over_bare_vm"], "max", "lab program: VMM / bare_vm")
    add("vmm_over_bare_vm_app", processes["vmm"]["median"] / processes["bare_vm_app"]["median"],
        None, "max", "lab program: VMM / bare_vm_app (same guest code; the VMM's own work)")
    if "qemu" in processes:
        add("qemu_over_vmm", processes["qemu"]["median"] / processes["vmm"]["median"],
            GOALS["qemu_over_vmm"], "min", "lab program: qemu-x86_64 / VMM (times faster)")
    add("vmm_peak_rss_mib", r["peak_rss_kib"]["vmm"]["max"] / 1024,
        GOALS["vmm_peak_rss_mib"], "max", "VMM peak RSS on the lab program, MiB")
    workloads = r["workloads"]
    for name in ("checksum", "reads"):
        if f"{name}_vmm" not in workloads:
            continue
        add(f"{name}_vmm_over_native", workloads[f"{name}_vmm"]["median"] /
            workloads[f"{name}_native"]["median"], None, "max", f"{name}: VMM / native",
            "(no goal: what the VM costs on real work)")
        if f"{name}_qemu" in workloads:
            add(f"{name}_vmm_over_qemu", workloads[f"{name}_vmm"]["median"] /
                workloads[f"{name}_qemu"]["median"], None, "max",
                f"{name}: VMM / qemu-x86_64", "(no goal)")
    return out


CALL_ROWS = [
    ("bare_exit", "`hlt; jmp` in bare_vm, resumed with no work: one VM exit round trip"),
    ("stub_exit", "`syscall; jmp` in bare_vm: syscall -> boot.asm stub `hlt; jmp rcx`, no work"),
    ("null_syscall", "syscall_loop under bare_vm's null handler (RAX set, nothing else)"),
    ("forwarded_syscall", "syscall_loop under {vmm} (trace, host write)"),
    ("native_syscall", "syscall_loop run natively"),
    ("qemu_syscall", "syscall_loop under qemu-x86_64"),
]
WORKLOAD_ROWS = [
    ("checksum_vmm", "file_workload checksum: a file's bytes hashed, 64 KiB reads, under {vmm}"),
    ("checksum_native", "the same, natively"),
    ("checksum_qemu", "the same, under qemu-x86_64"),
    ("reads_vmm", "file_workload reads: small reads of 64 bytes, under {vmm}"),
    ("reads_native", "the same, natively"),
    ("reads_qemu", "the same, under qemu-x86_64"),
]
PROCESS_ROWS = [
    ("bare_vm", "the floor: C, creates the VM and vCPU, boots to long mode, first hlt"),
    ("vmm", "the lab program under {vmm}"),
    ("native", "the lab program run natively"),
    ("qemu", "the lab program under qemu-x86_64"),
    ("bare_vm_app", "the lab program under bare_vm's null handler (extra)"),
    ("bare_vm_musl", "bare_vm linked with musl instead of glibc (extra)"),
]


def sentence(text):
    """`text` as the start of a sentence: "your VMM" -> "Your VMM"."""
    return text[:1].upper() + text[1:]


def format_report(r, settings, quick):
    lines = []
    m = r["machine"]
    lines.append(f"ScratchVM Lab 2 benchmark{' (QUICK: figures not meaningful)' if quick else ''}"
                 f" - {r['date']}")
    lines.append(f"  machine: {m['cpus']} CPUs, {m['cpu']}; Linux {m['kernel']}; KVM: {m['kvm']};"
                 f" load average at start {m['load_average'][0]}")
    lines.append(f"  VMM: {r['vmm']}")
    if r["vmm_not_measured"]:
        lines += textwrap.wrap(
            f"{sentence(r['vmm_name'])} is not measured: {r['vmm_not_measured']}. "
            "forwarded_syscall and vmm need a VMM that runs the lab program to its end as Linux "
            "does; the other figures measure KVM itself, and the program natively and under "
            "qemu-x86_64.", width=100, initial_indent="  ", subsequent_indent="  ")
    lines.append("")
    lines.append(f"Per system call, in µs: (time with N = {settings['calls']} calls - time with 0)"
                 f" / N, median of {settings['call_rounds']} rounds")
    lines.append(f"  {'figure':<19} {'median':>8} {'min':>8} {'max':>8}  what")
    for key, text in CALL_ROWS:
        text = text.format(vmm=r["vmm_name"])
        if key in r["calls"]:
            c = r["calls"][key]
            lines.append(f"  {key:<19} {c['median']:8.2f} {c['min']:8.2f} {c['max']:8.2f}  {text}")
        elif key == "forwarded_syscall":
            lines.append(f"  {key:<19} {'n/a':>8}  (not measured: see above)")
        else:
            lines.append(f"  {key:<19} {'n/a':>8}  (qemu-x86_64 not installed: apt install qemu-user)")
    lines.append("")
    lines.append(f"Whole process, in ms: spawn to exit, median of {settings['process_rounds']} runs")
    lines.append(f"  {'figure':<19} {'median':>8} {'min':>8} {'max':>8}  {'peak RSS':>9}  what")
    for key, text in PROCESS_ROWS:
        text = text.format(vmm=r["vmm_name"])
        if key in r["processes"]:
            p, kib = r["processes"][key], r["peak_rss_kib"][key]["max"]
            lines.append(f"  {key:<19} {p['median']:8.3f} {p['min']:8.3f} {p['max']:8.3f}"
                         f"  {kib / 1024:6.2f} MiB  {text}")
        else:
            lines.append(f"  {key:<19} {'n/a':>8}")
    lines.append("")
    lines.append(f"Real workloads, in ms: spawn to exit, median of {settings['workload_rounds']} "
                 f"runs; checksum of {settings['checksum_bytes'] >> 10} KiB, "
                 f"{settings['small_reads']} small reads")
    lines.append(f"  {'figure':<19} {'median':>8} {'min':>8} {'max':>8}  what")
    for key, text in WORKLOAD_ROWS:
        text = text.format(vmm=r["vmm_name"])
        if key in r["workloads"]:
            w = r["workloads"][key]
            lines.append(f"  {key:<19} {w['median']:8.1f} {w['min']:8.1f} {w['max']:8.1f}  {text}")
        else:
            lines.append(f"  {key:<19} {'n/a':>8}")
    for why in r["workloads_not_measured"]:
        lines.append(f"  ({why}: not measured)")
    lines.append("")
    lines.append("Ratios (same run) against the goals: reported, not asserted" +
                 ("" if r["ratios"] else ": none without the VMM's figures"))
    for ratio in r["ratios"]:
        if ratio["goal"] is None:
            verdict = ratio["note"]
        else:
            sign = "<=" if ratio["kind"] == "max" else ">="
            verdict = f"goal {sign} {ratio['goal']:<5}  {'PASS' if ratio['pass'] else 'MISS'}"
        lines.append(f"  {ratio['text']:<72} {ratio['value']:7.2f}  {verdict}")
    return "\n".join(lines)


def format_markdown(r, settings):
    """The same figures as a Markdown table, for the handout to quote."""
    rows = ["| figure | median | what |", "|---|---:|---|"]
    for key, text in CALL_ROWS:
        if key in r["calls"]:
            rows.append(f"| {key} | {r['calls'][key]['median']:.2f} µs | "
                        f"{text.format(vmm=r['vmm_name'])} |")
    for key, text in PROCESS_ROWS:
        if key in r["processes"]:
            rows.append(f"| {key} | {r['processes'][key]['median']:.3f} ms | "
                        f"{text.format(vmm=r['vmm_name'])} |")
    for key, text in WORKLOAD_ROWS:
        if key in r["workloads"]:
            rows.append(f"| {key} | {r['workloads'][key]['median']:.1f} ms | "
                        f"{text.format(vmm=r['vmm_name'])} |")
    if "vmm" in r["peak_rss_kib"]:
        rows.append(f"| vmm peak RSS | {r['peak_rss_kib']['vmm']['max'] / 1024:.2f} MiB | "
                    f"{r['vmm_name']} on the lab program |")
    else:
        rows.append(f"\n{sentence(r['vmm_name'])} is not measured: {r['vmm_not_measured']}.\n")
    if r["ratios"]:
        rows.append("")
        rows.append("| ratio | value | goal |")
        rows.append("|---|---:|---|")
    for ratio in r["ratios"]:
        goal = ("-" if ratio["goal"] is None else
                f"{'≤' if ratio['kind'] == 'max' else '≥'} {ratio['goal']} "
                f"{'PASS' if ratio['pass'] else 'MISS'}")
        rows.append(f"| {ratio['text']} | {ratio['value']:.2f} | {goal} |")
    m = r["machine"]
    header = (f"Measured by `make bench` on {r['date']}: {m['cpus']} CPUs, {m['cpu']}, "
              f"Linux {m['kernel']}, KVM: {m['kvm']}. Per-call figures: median of "
              f"{settings['call_rounds']} rounds of N = {settings['calls']} calls; "
              f"whole-process figures: median of {settings['process_rounds']} runs.\n\n")
    return header + "\n".join(rows) + "\n"


def svg_chart(r):
    """Two groups of horizontal bars, per call (µs) and whole process (ms), and
    a caption saying where and when. Grey: the calibration guests and floors."""
    groups = [
        ("Per system call (µs, median)", [(k, r["calls"][k]["median"]) for k, _ in CALL_ROWS
                                          if k in r["calls"]], "{:.2f} µs"),
        ("Whole process (ms, median)", [(k, r["processes"][k]["median"]) for k, _ in PROCESS_ROWS
                                        if k in r["processes"]], "{:.2f} ms"),
        ("Real workloads (ms, median)", [(k, r["workloads"][k]["median"])
                                         for k, _ in WORKLOAD_ROWS if k in r["workloads"]],
         "{:.1f} ms"),
    ]
    width, label_w, bar_w, row_h = 640, 150, 380, 22
    colours = {"bare_exit": "#888", "stub_exit": "#aaa", "null_syscall": "#aaa",
               "bare_vm": "#888", "bare_vm_app": "#aaa", "bare_vm_musl": "#aaa",
               "forwarded_syscall": "#2a6fdb", "vmm": "#2a6fdb",
               "native_syscall": "#3a9d5d", "native": "#3a9d5d",
               "qemu_syscall": "#d9822b", "qemu": "#d9822b",
               "checksum_vmm": "#2a6fdb", "reads_vmm": "#2a6fdb",
               "checksum_native": "#3a9d5d", "reads_native": "#3a9d5d",
               "checksum_qemu": "#d9822b", "reads_qemu": "#d9822b"}
    parts, y = [], 10
    for title, bars, fmt in groups:
        y += 18
        parts.append(f'<text x="10" y="{y}" font-weight="bold">{title}</text>')
        y += 8
        top = max((v for _, v in bars), default=1) or 1
        for key, value in bars:
            length = max(1.0, bar_w * max(value, 0) / top)
            parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{key}</text>')
            parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{length:.1f}" height="{row_h - 6}"'
                         f' fill="{colours.get(key, "#555")}"/>')
            parts.append(f'<text x="{label_w + length + 5:.1f}" y="{y + 15}">'
                         f'{fmt.format(value)}</text>')
            y += row_h
        y += 6
    m = r["machine"]
    y += 8
    parts.append(f'<text x="10" y="{y}" font-size="10" fill="#555">make bench, {r["date"]}: '
                 f'{m["cpus"]} CPUs, Linux {m["kernel"]}, KVM: {m["kvm"]}</text>')
    height = y + 10
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">\n'
            f'<rect width="{width}" height="{height}" fill="white"/>\n'
            + "\n".join(parts) + "\n</svg>\n")


def main():
    args = parse_arguments()
    # Absolute paths: the commands run in OUT/work.
    args.build, args.out = args.build.resolve(), args.out.resolve()
    args.vmm = args.vmm.resolve() if args.vmm else None
    problem = kvm_problem()
    if problem:
        sys.exit(f"bench: {problem}; the benchmark needs KVM")
    settings = QUICK if args.quick else FULL
    args.out.mkdir(parents=True, exist_ok=True)
    machine = machine_description()
    results = measure(args, settings)
    results["machine"] = machine
    results["date"] = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    results["settings"] = dict(settings, quick=args.quick)
    results["ratios"] = ratios(results)

    report = format_report(results, settings, args.quick)
    print(report)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "chart.svg").write_text(svg_chart(results))
    (args.out / "results.md").write_text(format_markdown(results, settings))
    (args.out / "report.txt").write_text(report + "\n")
    print(f"\nwritten: {args.out / 'results.json'}, {args.out / 'chart.svg'}, "
          f"{args.out / 'results.md'}")


if __name__ == "__main__":
    main()
