#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the autograder's image: it
# installs the packages, then prepares the grading kit (the engine, the
# sandbox's runner, the kit snapshot) and makes the reference VMM's runs of the
# lab program and of the hidden programs once, so that each submission only
# has its own runs to make.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends @PACKAGES@
cd /autograder/source
/usr/bin/python3 -m grader prepare
