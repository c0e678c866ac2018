"""vm_manager/vmm.hpp is the map of the engine: it lists every module, in
layers, each using only the modules listed above it. Checked against the
#include lines of each module's .hpp and .cpp."""
import re
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "vm_manager"


def mapped_modules():
    """The modules vmm.hpp's map lists, in its order."""
    header = (ENGINE / "vmm.hpp").read_text().split("#pragma once")[0]
    return re.findall(r"^//   ([a-z0-9_]+)\.hpp ", header, flags=re.M)


def used_modules(module):
    """The engine's modules that `module`'s .hpp and .cpp include."""
    used = set()
    for part in [ENGINE / f"{module}.hpp", ENGINE / f"{module}.cpp"]:
        if part.exists():
            used |= set(re.findall(r'^#include "([a-z0-9_]+)\.hpp"', part.read_text(), flags=re.M))
    return used - {module}


def test_the_map_lists_every_module_once():
    listed = mapped_modules()
    assert len(listed) == len(set(listed)), "a module is listed twice"
    every = {path.stem for path in ENGINE.glob("*.hpp")} - {"vmm"}
    assert set(listed) == every, (f"not in vmm.hpp's map: {sorted(every - set(listed))}; "
                                  f"no such module: {sorted(set(listed) - every)}")


def test_each_module_uses_only_those_listed_above_it():
    listed = mapped_modules()
    wrong = [f"{module} uses {used}, listed below it"
             for position, module in enumerate(listed)
             for used in sorted(used_modules(module))
             if used not in listed[:position]]
    assert not wrong, "\n".join(wrong)
