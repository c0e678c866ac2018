#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the autograder's image: it
# installs the kit's packages and builds the kit (engine, guest, reference VMM).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends @PACKAGES@
cd /autograder/source
make -s build/engine/libvmm.a build/vm_src/boot.bin build/vm_src/app build/solutions/vm_manager
