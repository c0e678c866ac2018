"""Every C++ file of the kit follows .clang-format."""
import subprocess
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]


def cpp_files():
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "*.cpp", "*.hpp"],
                             cwd=KIT, capture_output=True, text=True)
    if tracked.returncode == 0:
        return [KIT / name for name in tracked.stdout.split() if (KIT / name).exists()]
    return [p for p in KIT.rglob("*.[ch]pp") if "build" not in p.parts]


def test_all_cpp_is_clang_formatted():
    files = cpp_files()
    assert files
    result = subprocess.run(["clang-format", "--dry-run", "--Werror", *map(str, files)],
                            capture_output=True, text=True)
    assert result.returncode == 0, (
        "run clang-format -i on these files:\n" + result.stderr[:3000])
