"""vm_manager --step: the boot narrated instruction by instruction, on real KVM.
Line numbers are checked against boot.asm itself and binutils' addr2line."""
import re

import pytest

from helpers import BUILD, KIT, LAB_APP, REFERENCE, kvm_problem, run

BOOT_ASM = KIT / "vm_src" / "src" / "boot.asm"
BOOT_ELF = BUILD / "vm_src" / "boot.elf"
# "  0x8051    mov cr0, eax        boot.asm:90   start16+17"
INSTRUCTION = re.compile(r"^  (0x[0-9a-f]+) +(.+?)(?: +boot\.asm:(\d+))?(?: +(\S+))?$")


def narrated(stderr):
    """[(address, text, boot.asm line or None, [changes])] from --step's output."""
    steps = []
    for line in stderr.splitlines():
        if line.startswith("            ") and steps:
            steps[-1][3].append(line.strip())
        elif match := INSTRUCTION.match(line):
            address, text, source_line, _ = match.groups()
            steps.append((int(address, 16), text, source_line and int(source_line), []))
    return steps


@pytest.fixture(scope="module")
def stepped(tmp_path_factory):
    if kvm_problem():
        pytest.skip(kvm_problem())
    directory = tmp_path_factory.mktemp("step")
    plain = run([REFERENCE], cwd=tmp_path_factory.mktemp("plain"))
    result = run([REFERENCE, "--step"], cwd=directory)
    return result, plain


def test_step_names_pe_pae_lme_pg_as_they_are_set_each_with_its_line(stepped):
    result, _ = stepped
    source = BOOT_ASM.read_text().splitlines()
    steps = narrated(result.stderr)
    found = {}
    for address, text, line, changes in steps:
        for bit in ["PE", "PAE", "LME", "PG"]:
            if any(re.search(rf"\b{bit} set\b", change) for change in changes):
                found[bit] = (address, text, line)
    assert list(found) == ["PE", "PAE", "LME", "PG"], result.stderr
    # Each with the boot.asm line that sets it: mov cr0 / mov cr4 / wrmsr.
    for bit, instruction in [("PE", "mov cr0, eax"), ("PAE", "mov cr4, eax"),
                             ("LME", "wrmsr"), ("PG", "mov cr0, eax")]:
        address, text, line = found[bit]
        assert text == instruction, found[bit]
        assert source[line - 1].split(";")[0].strip() == instruction, (bit, line)


def test_step_tells_the_mode_and_ring_changes(stepped):
    result, _ = stepped
    assert "mode: real mode (16-bit) -> protected mode (16-bit)" in result.stderr
    assert "mode: protected mode (32-bit) -> compatibility mode" in result.stderr
    assert "-> long mode (64-bit)" in result.stderr
    assert re.search(r"EFER 0x[0-9a-f]+ -> 0x[0-9a-f]+: LMA set \(long mode active\)", result.stderr)
    assert "MSR LSTAR = 0x" in result.stderr and "<syscall_entry>" in result.stderr


def test_step_lines_agree_with_addr2line(stepped):
    result, _ = stepped
    steps = [(address, line) for address, _, line, _ in narrated(result.stderr) if line]
    assert len(steps) > 40
    addresses = [hex(address) for address, _ in steps]
    lines = run(["addr2line", "-e", BOOT_ELF, *addresses], cwd=KIT).stdout.splitlines()
    assert [int(found.rsplit(":", 1)[1]) for found in lines] == [line for _, line in steps]


def test_step_keeps_the_trace_and_the_status(stepped):
    result, plain = stepped
    assert result.returncode == 0, result.stderr
    assert result.stdout == plain.stdout


def test_step_n_goes_n_instructions_into_the_program(kvm, tmp_path):
    result = run([REFERENCE, "--step=5"], cwd=tmp_path)

    entry = int(re.search(r"Entry point address: +(0x[0-9a-f]+)",
                          run(["readelf", "-h", LAB_APP], cwd=tmp_path).stdout).group(1), 16)
    after = result.stderr.split("boot.asm is done: the program starts at ", 1)[1]
    assert int(after.split()[0], 16) == entry
    steps = narrated(after)
    assert len(steps) == 5 and steps[0][0] == entry, result.stderr
    assert result.returncode == 0


def test_boot_elf_holds_the_bytes_of_boot_bin_at_the_same_address(tmp_path):
    # gdb and --step read boot.elf; the VMM loads boot.bin: they must agree.
    flat = tmp_path / "text.bin"
    copied = run(["objcopy", "-O", "binary", "-j", ".text", BOOT_ELF, flat], cwd=tmp_path)
    assert copied.returncode == 0, copied.stderr
    assert flat.read_bytes() == (BUILD / "vm_src" / "boot.bin").read_bytes()
    sections = run(["readelf", "-S", "-W", BOOT_ELF], cwd=tmp_path).stdout
    text_address = re.search(r" \.text +PROGBITS +([0-9a-f]+)", sections).group(1)
    boot_address = re.search(r"^BOOT_ADDRESS +equ +(0x[0-9A-Fa-f]+)", BOOT_ASM.read_text(),
                             flags=re.M).group(1)
    assert int(text_address, 16) == int(boot_address, 16)


def test_step_follows_a_boot_image_made_for_another_address(kvm, tmp_path):
    # The VMM loads boot.bin at whatever address its header names, within
    # [0x4000, 0x10000): --step finds the program's entry, and boot.asm's
    # report, where the image really is.
    source = re.sub(r"^BOOT_ADDRESS +equ +0x[0-9A-Fa-f]+", "BOOT_ADDRESS equ 0x5000",
                    BOOT_ASM.read_text(), count=1, flags=re.M)
    (tmp_path / "boot.asm").write_text(source)
    assembled = run(["nasm", "-f", "bin", "-o", tmp_path / "boot.bin", tmp_path / "boot.asm"],
                    cwd=tmp_path)
    assert assembled.returncode == 0, assembled.stderr

    result = run([REFERENCE, "--step=5", "--boot", tmp_path / "boot.bin", LAB_APP], cwd=tmp_path)

    entry = int(re.search(r"Entry point address: +(0x[0-9a-f]+)",
                          run(["readelf", "-h", LAB_APP], cwd=tmp_path).stdout).group(1), 16)
    assert narrated(result.stderr)[0][0] == 0x5000
    assert f"boot.asm is done: the program starts at {entry:#x}" in result.stderr, result.stderr[-2000:]
    assert result.returncode == 0, result.stderr[-2000:]
