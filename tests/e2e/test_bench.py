"""`make bench` works: its quick mode runs and writes well-formed results.

Timing is never asserted here (the figures of a quick run mean little, and
figures depend on the machine); only that the benchmark runs, measures every
figure it promises, and writes results.json, chart.svg and results.md.
"""
import json
import subprocess
import xml.etree.ElementTree as ElementTree

import pytest

from helpers import BUILD, KIT, kvm_problem

QUICK_OUT = BUILD / "bench" / "quick"

CALLS = ["bare_exit", "stub_exit", "null_syscall", "forwarded_syscall", "native_syscall"]
PROCESSES = ["bare_vm", "vmm", "native", "bare_vm_app"]
WORKLOADS = ["checksum_vmm", "checksum_native", "reads_vmm", "reads_native"]
GOAL_RATIOS = ["forwarded_over_bare_exit", "vmm_over_bare_vm", "vmm_peak_rss_mib"]


@pytest.fixture(scope="module")
def quick_run():
    if kvm_problem():
        pytest.skip(kvm_problem())
    if BUILD != KIT / "build":
        pytest.skip("the benchmark measures the normal build, not " + str(BUILD))
    for name in ("results.json", "chart.svg", "results.md"):
        (QUICK_OUT / name).unlink(missing_ok=True)
    result = subprocess.run(["make", "--no-print-directory", "-s", "bench-quick"],
                            cwd=KIT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_quick_bench_prints_the_table(quick_run):
    out = quick_run.stdout
    for heading in ("Per system call", "Whole process", "Ratios"):
        assert heading in out
    for figure in CALLS + PROCESSES + WORKLOADS:
        assert f"  {figure} " in out, figure
    assert "Real workloads" in out
    assert "PASS" in out or "MISS" in out


def test_results_json_has_every_figure(quick_run):
    results = json.loads((QUICK_OUT / "results.json").read_text())
    assert results["settings"]["quick"] is True
    for figure in CALLS:
        stats = results["calls"][figure]
        assert stats["runs"] >= 1
        assert stats["min"] <= stats["median"] <= stats["max"]
    for figure in PROCESSES:
        stats = results["processes"][figure]
        assert 0 < stats["min"] <= stats["median"] <= stats["max"]
    for figure in WORKLOADS:
        stats = results["workloads"][figure]
        assert 0 < stats["min"] <= stats["median"] <= stats["max"]
    assert results["peak_rss_kib"]["vmm"]["max"] > 0
    ratios = {ratio["name"]: ratio for ratio in results["ratios"]}
    for name in GOAL_RATIOS:
        assert ratios[name]["goal"] is not None
        assert ratios[name]["pass"] in (True, False)


def test_chart_is_an_svg_with_a_bar_per_figure(quick_run):
    root = ElementTree.parse(QUICK_OUT / "chart.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    bars = root.findall("{http://www.w3.org/2000/svg}rect")
    assert len(bars) >= 1 + len(CALLS) + len(PROCESSES)  # the background, then the bars


def test_results_md_is_a_table_to_quote(quick_run):
    text = (QUICK_OUT / "results.md").read_text()
    assert "| forwarded_syscall |" in text and "| vmm |" in text
