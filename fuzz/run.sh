#!/usr/bin/env bash
# run.sh TARGET SECONDS [LIBFUZZER-OPTION...]: runs build/fuzz/TARGET_fuzzer
# for SECONDS (or until -runs=N, if given), then prints one line: executions,
# corpus size, and whether it found anything. Run from the kit's top directory.
#
#   build/fuzz/corpus/TARGET/     what the fuzzer found interesting: kept between runs
#   fuzz/corpus/TARGET/           the hand-made seeds (fuzz/make_seeds.py), never written
#   build/fuzz/seeds/TARGET/      seeds made at build time (the lab program, for elf_loader)
#   build/fuzz/findings/TARGET/   the input of a crash, leak or timeout, if any
#   build/fuzz/TARGET.log         libFuzzer's output
set -euo pipefail

target=$1
seconds=$2
shift 2
build=build/fuzz
fuzzer=$build/${target}_fuzzer
corpus=$build/corpus/$target
findings=$build/findings/$target
log=$build/$target.log
mkdir -p "$corpus" "$findings"
# The targets' scratch directories (fuzz/scratch_dir.hpp) go here, on tmpfs if
# there is one, and are removed even after a crash.
TMPDIR=$(mktemp -d /dev/shm/scratchvm-fuzz.XXXXXX 2>/dev/null || mktemp -d)
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT

directories=("$corpus" "fuzz/corpus/$target")
[ -d "$build/seeds/$target" ] && directories+=("$build/seeds/$target")

case $target in
syscall) options=(-max_len=8192) ;;       # room for two pages of guest memory
elf_loader) options=(-max_len=32768) ;;   # the lab program is about 20 KB
*) options=(-max_len=4096) ;;
esac

status=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$findings/" "${options[@]}" "$@" "${directories[@]}" >"$log" 2>&1 || status=$?

executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
corpus_size=$(find "$corpus" -type f | wc -l)
if [ "$status" -eq 0 ]; then
    printf '  FUZZ   %-12s %s executions, corpus of %s inputs, no finding\n' "$target" \
        "${executions:-?}" "$corpus_size"
else
    printf '  FUZZ   %-12s FINDING (status %s) after %s executions; the input is in %s:\n' \
        "$target" "$status" "${executions:-?}" "$findings"
    ls "$findings" >&2
    echo "--- the end of $log:" >&2
    tail -n 40 "$log" >&2
    exit 1
fi
