#!/usr/bin/env bash
# Make sure build/emulated/kernel/ holds Debian's kernel (vmlinuz) and the
# modules that give the emulated machine hardware-style (AMD-V/SVM) KVM:
# kvm-amd and everything it depends on, uncompressed so busybox insmod can load
# them. Also makes sure qemu-system-x86 and busybox-static are installed.
#
# Cached: when everything is already there it does nothing and prints nothing.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
OUT_DIR="$REPO_ROOT/build/emulated"
KERNEL_DIR="$OUT_DIR/kernel"
# The module we want; its dependencies are found by reading the .ko files.
TOP_MODULE=kvm-amd
HOST_PACKAGES=(qemu-system-x86 busybox-static)

die() {
    echo "fetch-kernel.sh: $*" >&2
    exit 1
}

# Prefix for commands that need root: nothing when root, sudo when it needs no
# password; fails when neither is possible.
root_prefix() {
    if [[ $(id -u) -eq 0 ]]; then
        echo ""
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        echo "sudo"
    else
        return 1
    fi
}

# The kit's one package installer; its messages go to stderr, since run.sh's
# stdout is the command's output.
ensure_host_packages() {
    "$REPO_ROOT/tools/deps.sh" "${HOST_PACKAGES[@]}" >&2
}

kernel_cached() {
    local f
    [[ -f $KERNEL_DIR/.complete ]] || return 1
    while read -r f; do
        [[ -f $KERNEL_DIR/$f ]] || return 1
    done <"$KERNEL_DIR/.complete"
}

# Name of the versioned image package, e.g. linux-image-6.1.0-56-amd64.
image_package_name() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ && !found { print $2; found = 1 }'
}

# apt-get download into the current directory; as root, apt complains that its
# sandbox user cannot write here, which is harmless, so output is shown only
# when the download fails.
download_package() {
    local pkg=$1 log
    log=$(apt-get download "$pkg" 2>&1) && return 0
    echo "fetch-kernel.sh: 'apt-get download $pkg' failed; updating the package lists" >&2
    local prefix
    prefix=$(root_prefix) || die "cannot run 'apt-get update' without root; run 'sudo apt-get update' and retry. apt said: $log"
    $prefix apt-get update >&2
    apt-get download "$pkg" >&2 || die "could not download $pkg with apt-get; check that Debian's apt repositories are reachable"
}

# The module file for a module name (names use '_' where file names may use '-').
find_module_file() {
    local root=$1 name=${2//-/_} f base
    while IFS= read -r f; do
        base=$(basename "$f")
        base=${base%%.ko*}
        if [[ ${base//-/_} == "$name" ]]; then
            echo "$f"
            return 0
        fi
    done < <(find "$root" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst')
    return 1
}

# Copy a module to dest uncompressed, whatever compression Debian used.
copy_uncompressed() {
    local src=$1 dest=$2
    case $src in
    *.ko.xz) xz -dc "$src" >"$dest" ;;
    *.ko.zst) zstd -qdc "$src" >"$dest" ;;
    *) cp "$src" "$dest" ;;
    esac
}

# Unpack the ELF kernel from the bzImage's xz payload into $2. QEMU boots an
# ELF kernel straight at its PVH entry point (Debian builds CONFIG_PVH), which
# skips the firmware's boot path and the in-guest decompression: under TCG
# that halves the boot (about 6 s -> 3 s). Returns 1 when not possible; run.sh
# then boots vmlinuz.
extract_vmlinux() {
    local bzimage=$1 dest=$2 offset
    # awk reads all of grep's output, and xz's input comes from a process
    # substitution: no SIGPIPE for pipefail to report.
    offset=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$bzimage" | awk -F: 'NR == 1 { print $1 }')
    [[ -n $offset ]] || return 1
    xz -dc --single-stream < <(tail -c +$((offset + 1)) "$bzimage") >"$dest" 2>/dev/null || return 1
    [[ $(head -c 4 "$dest" | od -An -c | tr -d ' ') == '177ELF' ]]
}

# The .modinfo section is NUL-separated key=value strings; read 'depends'
# without needing kmod's modinfo on the host.
module_depends() {
    tr '\0' '\n' <"$1" | awk -F= '$1 == "depends" && !found { gsub(",", " ", $2); print $2; found = 1 }'
}

# Copy module NAME and its dependencies into STAGE, appending each to
# STAGE/modules.order after its dependencies (the order insmod needs).
add_module() {
    local modroot=$1 stage=$2 name=$3 src file dep
    src=$(find_module_file "$modroot" "$name") || die "module $name not found in the kernel package"
    file=$(basename "${src%%.ko*}").ko
    grep -qx "$file" "$stage/modules.order" && return 0
    copy_uncompressed "$src" "$stage/$file"
    for dep in $(module_depends "$stage/$file"); do
        add_module "$modroot" "$stage" "$dep"
    done
    echo "$file" >>"$stage/modules.order"
}

fetch_kernel() {
    local pkg deb kver stage
    # Global, not local: the EXIT trap runs after this function has returned.
    TMP_DIR=$(mktemp -d)
    local tmp=$TMP_DIR
    # apt's sandbox user must be able to enter the directory it downloads into.
    chmod 755 "$tmp"
    trap 'rm -rf "$TMP_DIR"' EXIT

    pkg=$(image_package_name)
    if [[ -z $pkg ]]; then
        local prefix
        prefix=$(root_prefix) || die "apt does not know linux-image-amd64; run 'sudo apt-get update' and retry"
        $prefix apt-get update >&2
        pkg=$(image_package_name)
        [[ -n $pkg ]] || die "linux-image-amd64 has no linux-image-*-amd64 dependency in apt's lists"
    fi

    echo "fetch-kernel.sh: fetching $pkg" >&2
    (cd "$tmp" && download_package "$pkg")
    deb=$(ls "$tmp"/*.deb)
    dpkg-deb -x "$deb" "$tmp/root"

    kver=${pkg#linux-image-}
    [[ -f $tmp/root/boot/vmlinuz-$kver ]] || die "$deb has no boot/vmlinuz-$kver"

    stage="$OUT_DIR/kernel.tmp"
    rm -rf "$stage"
    mkdir -p "$stage"
    cp "$tmp/root/boot/vmlinuz-$kver" "$stage/vmlinuz"
    local kernel_files=(vmlinuz)
    if extract_vmlinux "$stage/vmlinuz" "$stage/vmlinux"; then
        kernel_files+=(vmlinux)
    else
        rm -f "$stage/vmlinux"
        echo "fetch-kernel.sh: could not unpack vmlinux from vmlinuz; run.sh will boot vmlinuz (slower)" >&2
    fi
    : >"$stage/modules.order"
    add_module "$tmp/root/lib/modules/$kver" "$stage" "$TOP_MODULE"
    # shellcheck disable=SC2016 # ${...} is dpkg's format, not the shell's
    dpkg-deb --show --showformat='${Package} ${Version}\n' "$deb" >"$stage/package"
    # .complete lists the files a cached copy must have; written last.
    { printf '%s\n' "${kernel_files[@]}" package modules.order; cat "$stage/modules.order"; } >"$stage/.complete"

    rm -rf "$KERNEL_DIR"
    mv "$stage" "$KERNEL_DIR"
    echo "fetch-kernel.sh: $KERNEL_DIR holds $(cat "$KERNEL_DIR/package")" >&2
}

# A kernel directory that came without vmlinux (the Gradescope autograder
# ships only vmlinuz): unpack it here, once, for the faster boot.
ensure_vmlinux() {
    [[ -f $KERNEL_DIR/vmlinux ]] && return 0
    if extract_vmlinux "$KERNEL_DIR/vmlinuz" "$KERNEL_DIR/vmlinux.tmp"; then
        mv "$KERNEL_DIR/vmlinux.tmp" "$KERNEL_DIR/vmlinux"
    else
        rm -f "$KERNEL_DIR/vmlinux.tmp"
    fi
}

main() {
    ensure_host_packages
    kernel_cached && { ensure_vmlinux; return 0; }
    mkdir -p "$OUT_DIR"
    # Two runs at once (e.g. parallel tests) must not unpack over each other.
    exec 9>"$OUT_DIR/.fetch-kernel.lock"
    flock 9
    kernel_cached && return 0
    fetch_kernel
}

main "$@"
