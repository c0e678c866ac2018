#!/usr/bin/env bash
# make_handout.sh OUT.tar.gz [PROGRAM]: packs the student handout (make handout).
# PROGRAM is the lab program it carries, prebuilt: by default the kit's own,
# build/vm_src/app; make variants packs each student's own program instead.
# make_handout.sh DIR: lays it out in DIR instead, without the web page and
# the benchmark (the Gradescope autograder starts from it:
# grader/commands/gradescope.py).
#
# What students get: the engine, the skeleton, boot.asm, the lab program
# prebuilt (its source stays with the instructor: Step 3 is to guess it), the
# sample programs (lab2/samples), the statement with its figures, the public
# part of the grader (make check), the benchmark (make bench) and the emulated
# machine. Never the reference solution, the answers, the lab program's source
# or the grader's hidden tests.
set -euo pipefail
out=$(realpath -m "$1")
kit=$(cd "$(dirname "$0")/.." && pwd)
build=${KIT_BUILD:-$kit/build}
program=$(realpath -m "${2:-$build/vm_src/app}")
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
top=$stage/lab2-handout
cd "$kit"

# The kit's own files (as tracked by git when it is a clone).
kit_files() {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -- "$@"
    else
        find "$@" -type f
    fi
}
copy() {
    local file
    for file in "$@"; do
        mkdir -p "$top/$(dirname "$file")"
        cp -p "$file" "$top/$file"
    done
}

copy .clang-format tools/build.mk tools/deps.sh tools/debug.sh tools/vmm.gdb vm_src/src/boot.asm \
    handouts/lab2.md handouts/style.css
copy $(kit_files vm_manager lab2 emulated handouts/figures | grep -v '\.py$')
# The grader's public part: not its hidden programs, its tests, the Gradescope
# templates, nor the instructors' variants and similarity check.
copy $(kit_files grader | grep -v -e '^grader/programs/' -e '^grader/tests/' -e '^grader/commands/gradescope_files/' \
    -e '^grader/variants/' -e '^grader/similarity/')
cp handouts/student/Makefile "$top/Makefile"
cp handouts/student/README.md "$top/README.md"
cp "$program" "$top/vm_src/app"
if [[ $out != *.tar.gz ]]; then
    rm -rf "$out" && mkdir -p "$(dirname "$out")" && mv "$top" "$out"
    exit 0
fi
# make bench: the kit's benchmark, which measures the student's own VMM there,
# its programs prebuilt (their sources stay here, like the lab program's).
# Students only: an autograder laid out from the handout (above) grades, it
# does not measure.
copy bench/README.md bench/bench.mk bench/bench.py
make -C "$kit" --no-print-directory -s bench-programs >&2
mkdir -p "$top/bench/prebuilt"
for program in bare_vm bare_vm_musl syscall_loop file_workload spawn_timer; do
    cp "$build/bench/$program" "$top/bench/prebuilt/$program"
done
cp "$build/handouts/lab2.html" "$top/handouts/lab2.html"
mkdir -p "$(dirname "$out")"
tar -C "$stage" -czf "$out" lab2-handout
echo "$out"
