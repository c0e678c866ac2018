# The grader's targets (grader/README.md), included by the kit's Makefile:
#
#   make check                        grade lab2/ as a student would: a few seconds, no hidden tests
#   make grade SUBMISSIONS=dir        grade a class (OUT=dir for the results, ROSTER=file.csv
#                                     for emails and ids, FORCE=1 to grade unchanged ones again,
#                                     SANDBOX=none to grade without bubblewrap on a disposable
#                                     machine, GRADER_MACHINE=emulated to use the emulated one)
#   make gradescope                   pack the Gradescope autograder zip
#   make grade-bench                  time the grading of 300 submissions on KVM, and of a few
#                                     in the emulated machine on one CPU (COPIES=n: another n)
#   make grader-test                  the grader's self-tests (part of make test)
#   make test-gradescope              the Gradescope zip in a container as Gradescope runs it
#                                     (root, minutes; not part of make test)

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

.PHONY: check grade gradescope grade-bench grader-test grader-deps grader-check-deps \
    test-gradescope test-gradescope-deps

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
	    $(if $(FORCE),--force) $(if $(VARIANTS),--variants "$(abspath $(VARIANTS))")

gradescope: | grader-deps
	@$(GRADER) gradescope --out "$(GRADER_OUT)/gradescope" \
	    $(if $(VARIANTS),--variants "$(abspath $(VARIANTS))")

grade-bench: | grader-deps
	@$(GRADER) bench --out "$(GRADER_OUT)/bench" $(if $(COPIES),--copies $(COPIES))

grader-test: | grader-deps
	@cd $(GRADER_KIT) && $(GRADER_ENV) $(GRADER_PYTHON) -m pytest -q -p no:cacheprovider \
	    -p pytest_timeout --timeout=300 --ignore=grader/tests/gradescope \
	    --ignore=grader/tests/both_machines grader/tests

# The zip in a container made as Gradescope's (grader/tests/gradescope/): a
# Debian root made by debootstrap, setup.sh run in it, then run_autograder for
# a few submissions, compared with make grade on this machine's KVM; then a
# class graded on both machines, test by test the same (grader/tests/both_machines).
# As root. Not in a handout, which has no grader/tests/.
ifneq ($(wildcard $(GRADER_DIR)/tests/gradescope),)
test-gradescope-deps:
	@$(GRADER_KIT)/tools/deps.sh debootstrap

test-gradescope: gradescope | grader-deps test-gradescope-deps
	@cd $(GRADER_KIT) && $(GRADER_ENV) $(GRADER_PYTHON) -m pytest -q -p no:cacheprovider \
	    -p pytest_timeout --timeout=5400 grader/tests/gradescope grader/tests/both_machines
endif

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

# --- Instructors: one lab program per student, and the similarity check -----------
#
#   make variants ROSTER=FILE          one lab program and handout per student, in dist/variants/
#                                      (SECRET=file: the instructor's secret, made on first use;
#                                      OUT=dir: elsewhere) (grader/variants/)
#   make similarity SUBMISSIONS=dir    the most similar pairs of manager.cpp, and Dolos's report,
#                                      in build/grader/similarity/ (FILE=app_guess.c: compare the
#                                      Step 3 programs; OUT=dir: elsewhere) (grader/similarity/)
#   make similarity-report             serves the last report to a web browser
#
# Neither is in a student's handout, which has no grader/variants/.
ifneq ($(wildcard $(GRADER_DIR)/variants),)
GRADER_MODULE := cd $(GRADER_KIT) && $(GRADER_ENV) $(GRADER_PYTHON) -m
# Node.js and npm install Dolos (grader/similarity/package.json) into build/similarity/.
# Where npm already exists (as part of another nodejs package), nothing is installed.
SIMILARITY_PACKAGES := nodejs npm
SIMILARITY_MODULES := $(GRADER_KIT)/build/similarity
SIMILARITY_OUT := $(abspath $(or $(OUT),$(GRADER_OUT)/similarity))

.PHONY: variants similarity similarity-report similarity-deps variants-test similarity-test

variants: $(BUILD)/handouts/lab2.html | grader-deps
	@if [ -z "$(ROSTER)" ]; then \
	    echo "usage: make variants ROSTER=roster.csv  (a CSV with a 'student' column)" >&2; \
	    exit 2; fi
	@$(GRADER_MODULE) grader.variants "$(abspath $(ROSTER))" \
	    $(if $(OUT),--out "$(abspath $(OUT))") $(if $(SECRET),--secret "$(abspath $(SECRET))")

similarity-deps:
	@command -v npm >/dev/null || $(GRADER_KIT)/tools/deps.sh $(SIMILARITY_PACKAGES)

# npm ci installs exactly the versions of package-lock.json (Dolos's tree-sitter
# parsers are compiled on the way, which takes a minute, once).
$(SIMILARITY_MODULES)/node_modules/.package-lock.json: $(GRADER_DIR)/similarity/package.json \
    $(GRADER_DIR)/similarity/package-lock.json | similarity-deps
	@echo "Installing Dolos (npm ci, into $(SIMILARITY_MODULES))"
	@mkdir -p $(SIMILARITY_MODULES)
	@cp $^ $(SIMILARITY_MODULES)/
	@cd $(SIMILARITY_MODULES) && npm ci --no-audit --no-fund --loglevel=error

similarity: $(SIMILARITY_MODULES)/node_modules/.package-lock.json | grader-deps
	@if [ -z "$(SUBMISSIONS)" ]; then \
	    echo "usage: make similarity SUBMISSIONS=dir  (one folder, .tar.gz or .zip per student)" >&2; \
	    exit 2; fi
	@$(GRADER_MODULE) grader.similarity "$(abspath $(SUBMISSIONS))" --out "$(SIMILARITY_OUT)" \
	    --modules "$(SIMILARITY_MODULES)" $(if $(FILE),--file "$(FILE)")

similarity-report:
	@$(GRADER_MODULE) grader.similarity.serve "$(SIMILARITY_OUT)" $(if $(PORT),--port $(PORT))

variants-test: all $(BUILD)/handouts/lab2.html | grader-deps
	@cd $(GRADER_KIT) && $(GRADER_ENV) $(GRADER_PYTHON) -m pytest -q -p no:cacheprovider \
	    -p pytest_timeout --timeout=600 grader/variants/tests

similarity-test: $(SIMILARITY_MODULES)/node_modules/.package-lock.json | grader-deps
	@cd $(GRADER_KIT) && $(GRADER_ENV) $(GRADER_PYTHON) -m pytest -q -p no:cacheprovider \
	    -p pytest_timeout --timeout=300 grader/similarity/tests
endif
