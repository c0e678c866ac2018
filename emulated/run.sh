#!/usr/bin/env bash
# Run a command inside an emulated x86-64 machine with AMD-V (QEMU TCG,
# -cpu EPYC,+svm) booting Debian's kernel with kvm-amd loaded, so the command
# gets hardware-style KVM at /dev/kvm. See emulated/README.md.
#
# Usage: emulated/run.sh [--timeout SECONDS] [--memory MiB] [--serial2 SOCKET] [--stream]
#                        PAYLOAD_DIR COMMAND [ARG...]
#
# --stream prints the command's output as it comes, not once the machine has
# powered off: for a command that may never end (Step 1 of the lab), which
# Ctrl-C then stops.
#
# --serial2 SOCKET gives the machine a second serial port, /dev/ttyS1,
# connected to the Unix socket SOCKET on the host, which must be listening
# (QEMU connects to it as it starts). It carries gdb's packets to a
# vm_manager --gdb in the machine (tests/hw/checks.sh).
#
# PAYLOAD_DIR is copied to /kit in the machine; COMMAND runs there with /kit as
# its working directory. The command's output (stdout and stderr together) is
# printed on stdout and run.sh exits with the command's exit status. When the
# machine or this script fails (no status reported, timeout, kernel panic, bad
# arguments) it prints one line on stderr and exits 125.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
OUT_DIR="$REPO_ROOT/build/emulated"
KERNEL_DIR="$OUT_DIR/kernel"
BASE_CPIO="$OUT_DIR/initramfs-base.cpio"
BASE_KEY="$OUT_DIR/initramfs-base.key"
# From busybox-static (fetch-kernel.sh installs it): a static binary runs in
# the machine with no libraries.
BUSYBOX=/bin/busybox

# Lines the guest's init prints around the command's output. Unusual enough
# that no program prints them by accident.
BEGIN_MARKER="@@EMULATED-BEGIN@@"
STATUS_MARKER="@@EMULATED-EXIT-STATUS@@"
ERROR_MARKER="@@EMULATED-ERROR@@"
# Exit status of run.sh when the failure is its own, not the command's (as
# env(1) and timeout(1) do).
OWN_FAILURE=125

TIMEOUT=120
MEMORY=512
SERIAL2=""
STREAM=0
# Console lines quoted when the machine fails.
TAIL_LINES=5

die() {
    echo "emulated/run.sh: $*" >&2
    exit "$OWN_FAILURE"
}

usage() {
    echo "usage: emulated/run.sh [--timeout SECONDS] [--memory MiB] [--serial2 SOCKET] [--stream] PAYLOAD_DIR COMMAND [ARG...]" >&2
    exit "$OWN_FAILURE"
}

parse_args() {
    while (($# > 0)); do
        case $1 in
        --timeout)
            [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--timeout needs a whole number of seconds, got '${2:-}'"
            TIMEOUT=$2
            shift 2
            ;;
        --memory)
            [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || die "--memory needs a whole number of MiB, got '${2:-}'"
            MEMORY=$2
            shift 2
            ;;
        --serial2)
            [[ -S ${2:-} ]] || die "--serial2 needs a listening Unix socket, got '${2:-}'"
            SERIAL2=$2
            shift 2
            ;;
        --stream)
            STREAM=1
            shift
            ;;
        -h | --help) usage ;;
        --) shift; break ;;
        -*) die "unknown option '$1'; see the usage in emulated/run.sh" ;;
        *) break ;;
        esac
    done
    (($# >= 2)) || usage
    PAYLOAD_DIR=$1
    shift
    [[ -d $PAYLOAD_DIR ]] || die "payload '$PAYLOAD_DIR' is not a directory"
    COMMAND=("$@")
}

# PID 1 of the emulated machine (busybox sh). Part of the cached base archive.
init_script() {
    cat <<EOF
#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/
# The kernel's last messages (the console shows only emergencies) usually
# say why; run.sh quotes the last console lines.
fail() {
    dmesg | tail -n 3
    echo "$ERROR_MARKER \$*"
    poweroff -f
}
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The archive has no /dev/console node, so the kernel could not give init a
# console; take it now that devtmpfs is mounted.
exec </dev/console >/dev/console 2>&1
# Only emergencies on the console from here on: kernel chatter would mix
# with the command's output.
dmesg -n 1
for m in \$(cat /lib/modules/modules.order); do
    insmod /lib/modules/\$m || fail "insmod \$m failed"
done
[ -c /dev/kvm ] || fail "/dev/kvm missing after loading kvm-amd: the emulated CPU has no usable SVM"
# On a line of its own: the firmware's and kernel's terminal resets may
# precede it with no newline.
printf '\n%s\n' "$BEGIN_MARKER"
(cd /kit && exec /bin/sh /.emulated-command) </dev/null
status=\$?
# The leading newline ends an unterminated last line of output; run.sh
# removes exactly that newline again.
printf '\n%s %d\n' "$STATUS_MARKER" "\$status"
poweroff -f
EOF
}

# Changes when anything that goes into the base archive changes.
base_key() {
    {
        init_script
        stat -c '%n %s %Y' "$BUSYBOX" "$KERNEL_DIR"/*.ko
        cat "$KERNEL_DIR/modules.order" "$KERNEL_DIR/package"
    } | sha256sum | cut -d' ' -f1
}

# Write a newc archive of directory $1 (contents only) to file $2.
make_cpio() {
    (cd "$1" && find . -mindepth 1 -print0 |
        "$BUSYBOX" cpio -o -H newc -0 -R 0:0 --ignore-devno --renumber-inodes 2>/dev/null) >"$2"
}

# busybox as /bin/sh and every applet, the modules, and init.
build_base() {
    local stage=$1 applet
    mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,kit,lib/modules}
    cp "$BUSYBOX" "$stage/bin/busybox"
    for applet in $("$BUSYBOX" --list-full); do
        [[ -e $stage/$applet ]] || ln -s /bin/busybox "$stage/$applet"
    done
    cp "$KERNEL_DIR"/*.ko "$KERNEL_DIR/modules.order" "$stage/lib/modules/"
    init_script >"$stage/init"
    chmod 755 "$stage/init"
    make_cpio "$stage" "$BASE_CPIO.tmp"
    mv "$BASE_CPIO.tmp" "$BASE_CPIO"
}

ensure_base() {
    local key
    "$SCRIPT_DIR/fetch-kernel.sh" || die "fetch-kernel.sh failed (see above); the emulated machine needs its kernel"
    key=$(base_key)
    [[ -f $BASE_CPIO && $(cat "$BASE_KEY" 2>/dev/null) == "$key" ]] && return 0
    # Parallel runs must not build the archive over each other.
    exec 8>"$OUT_DIR/.initramfs-base.lock"
    flock 8
    if ! [[ -f $BASE_CPIO && $(cat "$BASE_KEY" 2>/dev/null) == "$key" ]]; then
        build_base "$WORK/base"
        echo "$key" >"$BASE_KEY"
    fi
    exec 8>&-
}

# Single-quote one word for sh.
sh_quote() {
    local s=${1//\'/\'\\\'\'}
    printf "'%s'" "$s"
}

# The per-run archive: the payload at /kit and the command to run; appended
# to the base (the kernel unpacks concatenated archives in order).
build_initrd() {
    local stage="$WORK/payload" word line="exec"
    mkdir -p "$stage/kit"
    cp -a "$PAYLOAD_DIR/." "$stage/kit/"
    for word in "${COMMAND[@]}"; do
        line+=" $(sh_quote "$word")"
    done
    echo "$line" >"$stage/.emulated-command"
    make_cpio "$stage" "$WORK/payload.cpio"
    cat "$BASE_CPIO" "$WORK/payload.cpio" >"$WORK/initrd.cpio"
}

# Boot the machine; sets TIMED_OUT and QEMU_STATUS. qemu runs in the
# background so the timeout and Ctrl-C can stop it.
boot() {
    # mitigations=off: the guest kernel's speculation workarounds only cost
    # boot time here (about 0.2 s under TCG) and change nothing KVM does.
    local append="console=ttyS0 quiet loglevel=3 printk.time=1 panic=-1 mitigations=off rdinit=/init"
    # The unpacked ELF kernel boots about twice as fast (see fetch-kernel.sh).
    local kernel="$KERNEL_DIR/vmlinux"
    [[ -f $kernel ]] || kernel="$KERNEL_DIR/vmlinuz"
    local serial2=()
    [[ -n $SERIAL2 ]] && serial2=(-chardev "socket,id=serial2,path=$SERIAL2" -serial chardev:serial2)
    qemu-system-x86_64 -accel tcg -cpu EPYC,+svm -smp 1 -m "$MEMORY" \
        -nographic -no-reboot -nodefaults -serial stdio "${serial2[@]}" -monitor none \
        -kernel "$kernel" -initrd "$WORK/initrd.cpio" -append "$append" \
        </dev/null >"$WORK/console.raw" 2>"$WORK/qemu.err" &
    QEMU_PID=$!
    ((STREAM)) && follow
    # Not on run.sh's stdout: a reader of that pipe would wait for it.
    sleep "$TIMEOUT" >/dev/null 2>&1 &
    SLEEP_PID=$!
    local done_pid
    wait -n -p done_pid "$QEMU_PID" "$SLEEP_PID" || true
    TIMED_OUT=0
    if [[ $done_pid == "$SLEEP_PID" ]]; then
        TIMED_OUT=1
        kill "$QEMU_PID" 2>/dev/null || true
    else
        kill "$SLEEP_PID" 2>/dev/null || true
    fi
    QEMU_STATUS=0
    wait "$QEMU_PID" || QEMU_STATUS=$?
    wait "$SLEEP_PID" 2>/dev/null || true
    QEMU_PID="" SLEEP_PID=""
    if [[ -n ${FOLLOW_PID:-} ]]; then
        wait "$FOLLOW_PID" 2>/dev/null || true
        FOLLOW_PID=""
    fi
    tr -d '\r' <"$WORK/console.raw" >"$WORK/console"
}

# --stream: print the command's output lines as the console receives them,
# between the begin marker and init's status line, without the kernel's lines.
# Blank lines wait for the next line: the one init prints before its status
# line is not the command's.
follow() {
    tail -n +1 -f --pid="$QEMU_PID" "$WORK/console.raw" 2>/dev/null | awk -v begin="$BEGIN_MARKER" -v status="$STATUS_MARKER" '
        { sub(/\r$/, "") }
        !started { if ($0 == begin) started = 1; next }
        $1 == status && $2 ~ /^[0-9]+$/ && NF == 2 { exit }
        /^\[ *[0-9]+\.[0-9]+\] / { next }
        $0 == "" { blank++; next }
        { while (blank > 0) { print ""; blank-- } print; fflush() }
    ' &
    FOLLOW_PID=$!
}

# Line number of init's status line: the last one, so that a command that
# prints the marker itself cannot cut its own output short.
status_line() {
    awk -v status="$STATUS_MARKER" '$1 == status && $2 ~ /^[0-9]+$/ && NF == 2 { n = NR } END { print n + 0 }' \
        "$WORK/console"
}

# The command's output: the lines between the markers, without the kernel's
# timestamped lines, and without the newline init adds before the status.
command_output() {
    awk -v begin="$BEGIN_MARKER" -v end="$(status_line)" '
        !started { if ($0 == begin) started = 1; next }
        NR == end { exit }
        /^\[ *[0-9]+\.[0-9]+\] / { next }
        { if (n++) printf "\n"; printf "%s", $0 }
    ' "$WORK/console"
}

# The last console lines on one line, for failure messages.
console_tail() {
    local tail
    # Without the terminal escapes the firmware and kernel print.
    tail=$(sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[A-Za-z]//g' "$WORK/console" |
        grep -v '^[[:space:]]*$' | tail -n "$TAIL_LINES" |
        sed 's/^/"/; s/$/"/' | paste -sd'|' | sed 's/|/ | /g')
    echo "${tail:-(the console printed nothing)}"
}

# Why no status came back, in a few words.
failure_reason() {
    local err
    if ((TIMED_OUT)); then
        if grep -q "^$BEGIN_MARKER" "$WORK/console"; then
            echo "timed out after $TIMEOUT s: the command was still running (boot and command share --timeout)"
        else
            echo "timed out after $TIMEOUT s before the machine finished booting (raise --timeout)"
        fi
    elif grep -q "^$ERROR_MARKER" "$WORK/console"; then
        echo "the machine's init failed: $(sed -n "s/^$ERROR_MARKER //p" "$WORK/console")"
    elif grep -q 'Kernel panic' "$WORK/console"; then
        echo "the guest kernel panicked: $(grep -m1 'Kernel panic' "$WORK/console" | sed 's/^\[[^]]*\] //')"
    elif ((QEMU_STATUS != 0)); then
        err=$(grep -v 'TCG doesn.t support requested feature' "$WORK/qemu.err" | tail -n 2 | paste -sd' ')
        echo "qemu-system-x86_64 failed with status $QEMU_STATUS: ${err:-no message}"
    else
        echo "the machine stopped without reporting the command's exit status"
    fi
}

# A dynamically linked program fails in the machine with a bare "not found"
# (its loader is not there): say why on a 127.
hint_dynamic() {
    local cmd=${COMMAND[0]} prog
    case $cmd in
    /kit/*) prog="$PAYLOAD_DIR/${cmd#/kit/}" ;;
    /*) return 0 ;;
    */*) prog="$PAYLOAD_DIR/$cmd" ;;
    *) return 0 ;;
    esac
    [[ -f $prog ]] && LC_ALL=C grep -qa -e '/lib64/ld-linux' -e '/lib/ld-musl' "$prog" || return 0
    echo "emulated/run.sh: note: $cmd looks dynamically linked and the machine has no shared libraries; link it with -static" >&2
}

report() {
    local line status
    command_output >"$WORK/output"
    ((STREAM)) || cat "$WORK/output"
    line=$(status_line)
    if ((line > 0)); then
        status=$(awk -v n="$line" 'NR == n { print $2 }' "$WORK/console")
        ((status != 127)) || hint_dynamic
        exit "$status"
    fi
    # End partial output's last line so it reads apart from the message.
    [[ -s $WORK/output ]] && echo
    die "$(failure_reason); last console lines: $(console_tail)"
}

# On exit, also when interrupted: stop qemu and wait for it, so it is gone
# (not a zombie, not still writing) before its files are removed.
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    if [[ -n ${QEMU_PID:-} ]]; then
        kill "$QEMU_PID" 2>/dev/null
        wait "$QEMU_PID" 2>/dev/null
    fi
    [[ -n ${SLEEP_PID:-} ]] && kill "$SLEEP_PID" 2>/dev/null
    [[ -n ${FOLLOW_PID:-} ]] && kill "$FOLLOW_PID" 2>/dev/null
    [[ -n ${WORK:-} ]] && rm -rf "$WORK"
    return 0
}

# shellcheck disable=SC2317 # called by the INT trap
interrupted() {
    trap '' INT
    echo "emulated/run.sh: stopped by Ctrl-C" >&2
    exit 130
}

main() {
    parse_args "$@"
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/emulated-run.XXXXXX")
    trap cleanup EXIT
    trap interrupted INT
    trap 'exit 143' TERM
    ensure_base
    build_initrd
    boot
    report
}

main "$@"
