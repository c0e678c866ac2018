#!/usr/bin/env bash
# Runs a command in a container made as Docker makes Gradescope's: a root file
# system of overlay layers, new mount, pid, ipc and uts namespaces (and a new
# network namespace, unless --network), /proc with Docker's masked and
# read-only paths, a /dev of its own without kvm, /sys read-only, and root
# with Docker's default capabilities only (no CAP_SYS_ADMIN).
#
# Usage (as root):
#   container.sh [--network] --lower DIR [--lower DIR]... --upper DIR --work DIR
#                --root DIR -- COMMAND [ARG...]
#
# The layers: each --lower read-only, the first on top; --upper takes every
# change (--work is overlayfs's own scratch directory, on the same file system
# as --upper); --root is where the merged root is mounted, in the container's
# mount namespace only. COMMAND runs as PID 1 of the container, in its root,
# with Docker's environment; container.sh exits with its status. Everything
# mounted here goes away with the container.
#
# What it does not do as Docker does: no seccomp filter, no AppArmor profile,
# no cgroup file system inside. The memory and CPU limits are the caller's (a
# cgroup the caller puts this process in).
set -euo pipefail

die() {
    echo "container.sh: $*" >&2
    exit 125
}

# Docker's default capabilities (moby's oci/caps/defaults.go); everything
# else, CAP_SYS_ADMIN among them, is dropped from every set.
CAPABILITIES=chown,dac_override,fsetid,fowner,mknod,net_raw,setgid,setuid,setfcap,setpcap
CAPABILITIES+=,net_bind_service,sys_chroot,kill,audit_write
# Docker's masked paths (hidden) and read-only paths under /proc and /sys
# (moby's oci/defaults.go).
MASKED="/proc/asound /proc/acpi /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list
        /proc/timer_stats /proc/sched_debug /proc/scsi /sys/firmware /sys/devices/virtual/powercap"
READ_ONLY="/proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger"
ENVIRONMENT=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
             HOSTNAME=autograder HOME=/root)

network=0 lowers=() upper="" work="" root=""
while (($# > 0)); do
    case $1 in
    --network) network=1; shift ;;
    --lower) lowers+=("$2"); shift 2 ;;
    --upper) upper=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --root) root=$2; shift 2 ;;
    --inside) shift ;;  # set by the second stage below
    --) shift; break ;;
    *) die "unknown option '$1'" ;;
    esac
done
if (($# == 0 || ${#lowers[@]} == 0)) || [[ -z $upper || -z $work || -z $root ]]; then
    die "usage: container.sh [--network] --lower DIR... --upper DIR --work DIR --root DIR -- COMMAND..."
fi
[[ $(id -u) == 0 ]] || die "must run as root (it mounts and makes namespaces)"

if [[ -z ${CONTAINER_STAGE:-} ]]; then
    # First stage: the namespaces. --kill-child: if this process is killed, so
    # is the container's PID 1, and with it every process of the container.
    unshare_args=(--mount --pid --ipc --uts --kill-child --propagation private)
    ((network)) || unshare_args+=(--net)
    args=()
    ((network)) && args+=(--network)
    for lower in "${lowers[@]}"; do args+=(--lower "$lower"); done
    CONTAINER_STAGE=inside exec unshare "${unshare_args[@]}" -- "$0" "${args[@]}" \
        --upper "$upper" --work "$work" --root "$root" -- "$@"
fi
unset CONTAINER_STAGE

# Second stage, in the new namespaces (this is the container's PID 1 until it
# becomes COMMAND).
lowerdir=$(IFS=:; echo "${lowers[*]}")
mount -t overlay overlay -o "lowerdir=$lowerdir,upperdir=$upper,workdir=$work" "$root"

mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t tmpfs -o nosuid,strictatime,mode=755,size=65536k tmpfs "$root/dev"
mknod -m 666 "$root/dev/null" c 1 3
mknod -m 666 "$root/dev/zero" c 1 5
mknod -m 666 "$root/dev/full" c 1 7
mknod -m 666 "$root/dev/random" c 1 8
mknod -m 666 "$root/dev/urandom" c 1 9
mknod -m 666 "$root/dev/tty" c 5 0
mkdir -p "$root/dev/pts" "$root/dev/shm" "$root/dev/mqueue"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5,nosuid,noexec devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o nosuid,nodev,noexec,size=65536k shm "$root/dev/shm"
mount -t mqueue -o nosuid,nodev,noexec mqueue "$root/dev/mqueue"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
ln -s /proc/kcore "$root/dev/core"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"

for path in $MASKED; do
    if [[ -d $root$path ]]; then
        mount -t tmpfs -o ro,size=0 tmpfs "$root$path"
    elif [[ -e $root$path ]]; then
        mount --bind "$root/dev/null" "$root$path"
    fi
done
for path in $READ_ONLY; do
    if [[ -e $root$path ]]; then
        mount --bind "$root$path" "$root$path"
        mount -o remount,bind,ro "$root$path"
    fi
done

# Docker gives the container the host's name servers (setup.sh's apt needs
# them) and a name of its own.
[[ -e $root/etc/resolv.conf && ! -L $root/etc/resolv.conf ]] || {
    rm -f "$root/etc/resolv.conf"
    touch "$root/etc/resolv.conf"
}
mount --bind /etc/resolv.conf "$root/etc/resolv.conf"
hostname autograder
((network)) || ip link set lo up

# The container's root becomes the root, as runc makes it (pivot_root, not
# chroot: a chrooted process may not make a user namespace, a container's may),
# and the host's is let go. From here on, commands are the container's own.
cd "$root"
pivot_root . .
umount -l .
cd /
exec setpriv --bounding-set "-all,+${CAPABILITIES//,/,+}" --inh-caps -all --ambient-caps -all -- \
    /usr/bin/env -i "${ENVIRONMENT[@]}" "$@"
