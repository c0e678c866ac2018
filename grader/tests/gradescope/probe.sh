#!/bin/bash
# Run as PID 1 of a container made as a submission's (conftest.py's probe):
# prints what the container is, one "@key: value" line per fact.
fact() {
    local value=$2
    echo "@$1: ${value//$'\n'/ | }"
}
fact uid "$(id -u)"
fact pid "$$"
fact capabilities "$(sed -n 's/^CapEff:\t//p' /proc/self/status)"
fact bounding "$(sed -n 's/^CapBnd:\t//p' /proc/self/status)"
for namespace in mnt pid net ipc uts; do
    fact "namespace $namespace" "$(readlink /proc/self/ns/$namespace)"
done
fact devices "$(cd /dev && echo *)"
fact cpus "$(nproc)"
fact interfaces "$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')"
fact "timer_list bytes" "$(wc -c </proc/timer_list)"
fact "write /proc/sys" "$( (echo autograder >/proc/sys/kernel/domainname) 2>&1 || true)"
# The grader's own probe (as root: no user namespace, as bubblewrap does for root).
fact "bwrap as root" "$(bwrap --unshare-pid --dev-bind / / --proc /proc true 2>&1; echo "status $?")"
# As an unprivileged sandbox would: a user namespace, a pid namespace, its /proc.
fact "bwrap in a user namespace" "$(bwrap --unshare-user --unshare-pid --dev-bind / / --proc /proc true 2>&1; echo "status $?")"
# Memory: more than the container's 768 MiB, touched page by page.
fact "900 MiB" "$(python3 -c 'b = bytearray(900 << 20); print("allocated", len(b))' 2>&1; echo "status $?")"
fact "private/ for another uid" "$(setpriv --reuid 200000 --regid 200000 --clear-groups cat /autograder/source/private/programs/hidden.json 2>&1; echo "status $?")"
fact end yes
