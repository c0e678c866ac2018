#!/bin/sh
# Runs inside the emulated AMD-V machine (busybox sh), from the payload at /kit
# (test_real_programs.py). Each case of /kit/cases runs twice in a fresh
# /tmp/case, the same path both times, made by the same setup: first natively
# (with an empty environment, as the VMM gives its program), then under the
# reference VMM. Each run prints a section the host-side test parses:
#   @@@ run NAME native|vmm
#   @@@ status N
#   @@@ stdout HEX            the program's standard output, in hex
#   @@@ stat / ...            each file left: 'name' (-> 'target')|type|mode|mtime
#   @@@ sha256 / ...          each regular file's contents
#   @@@ stderr / ... / @@@ trace / ...   (for the test's messages)
#   @@@ end
# and first `@@@ started SECONDS`: an mtime from then on is a run's own.
VMM=/kit/vm_manager
BOOT=/kit/boot.bin
CASE=/tmp/case
TEMPLATE=/tmp/template

# Every file of the case's directory, for the host to compare: `stat` lines
# (name, type, mode, mtime; a link's target) and `sha256` lines (contents).
# Two processes per run: starting a process is slow in an emulated machine.
manifest() {
    echo "@@@ stat"
    find . -mindepth 1 -exec stat -c '%N|%F|%a|%Y' {} +
    echo "@@@ sha256"
    find . -type f -exec sha256sum {} +
}

date_everything() {
    find . -exec touch -h -d '2020-01-02 03:04:05' {} +
}

# A fresh directory with the common files and the case's own, all dated
# 2020-01-02, so that both runs see the same times.
fresh() {
    rm -rf "$CASE"
    cp -a "$TEMPLATE" "$CASE"
    cd "$CASE" || exit 1
    if [ -f "$1/setup.sh" ]; then
        sh "$1/setup.sh"
        date_everything
    fi
}

run() {
    name=$1 side=$2 case=$3
    shift 3
    input=/dev/null
    [ -f "$case/stdin" ] && input=$case/stdin
    fresh "$case"
    if [ "$side" = native ]; then
        env -i "$@" <"$input" >/tmp/out 2>/tmp/err
    else
        "$VMM" --boot "$BOOT" --trace /tmp/trace $(cat "$case/vmm_options" 2>/dev/null) "$@" \
            <"$input" >/tmp/out 2>/tmp/err
    fi
    status=$?
    echo "@@@ run $name $side"
    echo "@@@ status $status"
    echo "@@@ stdout $(od -An -tx1 -v /tmp/out | tr -d ' \n')"
    manifest
    echo "@@@ stderr"
    head -c 2000 /tmp/err
    echo
    if [ "$side" = vmm ]; then
        echo "@@@ trace"
        tail -n 12 /tmp/trace
    fi
    echo "@@@ end"
}

mkdir -p /tmp "$TEMPLATE"
(cd "$TEMPLATE" && sh /kit/setup.sh && date_everything)
# Any mtime from now on is a run's own: the setup dates everything 2020-01-02.
echo "@@@ started $(date +%s)"
for case in /kit/cases/*; do
    name=${case##*/}
    eval "set -- $(cat "$case/command")"
    run "$name" native "$case" "$@"
    run "$name" vmm "$case" "$@"
done
