#!/bin/sh
# debug.sh VMM PORT [ARG...]: make debug. Runs the VMM with --gdb PORT and gdb
# connected to it, with the symbols of boot.asm (boot.elf) and of the program,
# and the kit's gdb commands (tools/vmm.gdb). Quitting gdb ends the run.
set -eu
tools=$(cd "$(dirname "$0")" && pwd)
vmm=$1
port=$2
shift 2
guest=$(dirname "$vmm")/../vm_src

# The VMM runs in a session of its own: Ctrl-C typed in this terminal goes to
# gdb, which stops the guest; it must not stop the VMM as well.
setsid "$vmm" --gdb "$port" "$@" &
vmm_pid=$!
trap : INT
gdb -q -x "$tools/vmm.gdb" -ex "file $guest/app" -ex "add-symbol-file $guest/boot.elf" \
    -ex "target remote localhost:$port" || true
# gdb has quit, which killed the run, or detached from it first: then the
# program runs on to its end, or until Ctrl-C.
trap 'kill "$vmm_pid" 2>/dev/null' INT
if kill -0 "$vmm_pid" 2>/dev/null; then
    echo "debug.sh: vm_manager is still running (Ctrl-C stops it)" >&2
fi
wait "$vmm_pid" || true
