# The grader's targets (grader/README.md), included by the kit's Makefile:
#
#   make check                        grade lab2/ as a student would: a few seconds, no hidden tests
#   make grade SUBMISSIONS=dir        grade a class (OUT=dir for the results, ROSTER=file.csv
#                                     for emails and ids, FORCE=1 to grade unchanged ones again,
#                                     SANDBOX=none to grade without bubblewrap on a disposable
#                                     machine, GRADER_MACHINE=emulated to use the emulated one)
#   make gradescope                   pack the Gradescope autograder zip
#   make grade-bench                  time the grading of 100 copies of a correct submission
#   make grader-test                  the grader's self-tests (part of make test)

GRADER_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
GRADER_KIT := $(abspath $(GRADER_DIR)/..)
GRADER_OUT := $(GRADER_KIT)/build/grader
GRADER_PYTHON := /usr/bin/python3
# What the grader needs: make check (bubblewrap is optional there: without it a
# student's own code runs unsandboxed, with a note), and the rest.
GRADER_CHECK_PACKAGES := make g++ nasm musl-tools python3-pytest strace util-linux
GRADER_PACKAGES := $(GRADER_CHECK_PACKAGES) python3-pytest-timeout bubblewrap
GRADER_ENV := PYTHONDONTWRITEBYTECODE=1 PYTEST_DISABLE_PLUGIN_AUTOLOAD=1
GRADER := cd $(GRADER_KIT) && $(GRADER_ENV) $(GRADER_PYTHON) -m grader

.PHONY: check grade gradescope grade-bench grader-test grader-deps grader-check-deps

grader-deps:
	@$(GRADER_KIT)/tools/deps.sh $(GRADER_PACKAGES)

grader-check-deps:
	@$(GRADER_KIT)/tools/deps.sh $(GRADER_CHECK_PACKAGES)

check: | grader-check-deps
	@$(GRADER) check

grade: | grader-deps
	@if [ -z "$(SUBMISSIONS)" ]; then \
	    echo "usage: make grade SUBMISSIONS=dir  (one folder, .tar.gz or .zip per student)" >&2; \
	    exit 2; fi
	@$(GRADER) grade "$(abspath $(SUBMISSIONS))" --out "$(abspath $(or $(OUT),$(GRADER_OUT)/grade))" \
	    $(if $(SANDBOX),--sandbox $(SANDBOX)) $(if $(ROSTER),--roster "$(abspath $(ROSTER))") \
	    $(if $(FORCE),--force)

gradescope: | grader-deps
	@$(GRADER) gradescope --out "$(GRADER_OUT)/gradescope"

grade-bench: | grader-deps
	@$(GRADER) bench --out "$(GRADER_OUT)/bench"

grader-test: | grader-deps
	@cd $(GRADER_KIT) && $(GRADER_ENV) $(GRADER_PYTHON) -m pytest -q -p no:cacheprovider \
	    -p pytest_timeout --timeout=300 grader/tests

# The runner (grader/sandbox/runner/): every command a submission brings runs
# under it, on the grading machine and in the emulated machine alike, so it is
# static. It uses the engine's RAII and error types.
GRADER_RUNNER := $(BUILD)/grader/runner
GRADER_RUNNER_SOURCES := $(wildcard $(GRADER_DIR)/sandbox/runner/*.cpp)
$(GRADER_RUNNER): $(GRADER_RUNNER_SOURCES) $(ENGINE)
	$(say) CXX $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(CXXFLAGS) -MF $@.d -I$(GRADER_KIT)/vm_manager -o $@ $(GRADER_RUNNER_SOURCES) \
	    $(ENGINE) -static -lseccomp
