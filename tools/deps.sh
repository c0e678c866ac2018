#!/usr/bin/env bash
# deps.sh PACKAGE...: make sure these Debian/Ubuntu packages are installed.
# As root, or with passwordless sudo, installs the missing ones with apt-get;
# otherwise prints the exact command to run and fails.
set -euo pipefail

if ! command -v dpkg-query >/dev/null; then
    echo "This kit installs its tools from Debian or Ubuntu packages: $*" >&2
    echo "On this system, install their equivalents by hand." >&2
    exit 0
fi

missing=()
for package in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    echo "Missing packages: ${missing[*]}" >&2
    echo "Install them with:" >&2
    echo "    sudo apt-get install ${missing[*]}" >&2
    exit 1
fi

echo "Installing missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# The package lists of a fresh machine may be missing or stale: update once if needed.
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    { "${sudo[@]}" apt-get update -q && "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; }
