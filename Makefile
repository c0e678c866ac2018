# ScratchVM Lab 2 kit. `make help` lists the targets.

# Building and running the lab: shared with the student handout's Makefile.
include tools/build.mk

PYTEST := /usr/bin/python3 -m pytest
# Debian/Ubuntu packages to test the kit and make its handouts.
TEST_PACKAGES := $(BUILD_PACKAGES) $(DEBUG_PACKAGES) libgtest-dev python3-pytest python3-pytest-timeout strace \
	clang-format bubblewrap $(EMULATED_PACKAGES) pandoc chromium
UNIT_TEST_SOURCES := $(wildcard tests/unit/*.cpp)
UNIT_TEST_OBJECTS := $(UNIT_TEST_SOURCES:tests/unit/%.cpp=$(BUILD)/tests/%.o)

.PHONY: skeleton figures handouts handout test unit-test e2e-test test-hw deps test-deps help

help:
	@echo "make all (or alll)  build the guest (boot.bin, app) and the VMMs"
	@echo "make run            run the lab program under YOUR VMM (lab2/vm_manager/manager.cpp)"
	@echo "make run-solution   run it under the reference VMM"
	@echo "make debug          run it under YOUR VMM with gdb attached, from boot.asm's first instruction"
	@echo "make debug-solution the same with the reference VMM"
	@echo "make run-stdio      Step 4: a stdio program under YOUR VMM"
	@echo "make run-busybox ARGS=\"cat FILE\"   Step 4: Debian's busybox under YOUR VMM"
	@echo "make run-emulated   run it under your VMM in an emulated machine with AMD-V (no KVM needed)"
	@echo "make run-solution-emulated   the same with the reference VMM"
	@echo "make check          check YOUR lab2/ as the grader would: test by test, then a score"
	@echo "make grade SUBMISSIONS=dir   grade a class (grader/README.md)"
	@echo "make gradescope     pack the Gradescope autograder"
	@echo "make variants ROSTER=file   one lab program and handout per student (dist/variants/)"
	@echo "make similarity SUBMISSIONS=dir   the most similar submissions, and Dolos's report"
	@echo "make test           build everything and run all the tests"
	@echo "make test-hw        the ring-3 tests, in the emulated machine (part of make test)"
	@echo "make test SANITIZE=1   the same tests under AddressSanitizer and UBSan (in build/sanitize/)"
	@echo "make fuzz           build the fuzz targets and run each for FUZZ_SECONDS (default 60)"
	@echo "make fuzz-smoke     each fuzz target for a few seconds (part of make test)"
	@echo "make handouts       render the statement and the answers to HTML (build/handouts/)"
	@echo "make handout        pack the student handout, dist/lab2-handout.tar.gz"
	@echo "make figures        redraw the figures drawn from real runs (memory map, registers)"
	@echo "make bench          measure VM exits and start-up against native and qemu-user"
	@echo "make skeleton       regenerate lab2/vm_manager/manager.cpp from the reference"
	@echo "make deps           install the packages the kit needs"
	@echo "make clean          remove build/"

# The handout's figures drawn from real runs: the memory map, from a run's
# layout (the program is named ./app so that its stack address does not depend
# on where the kit is), and the vCPU's registers at the hlt of the lab
# program's first write, read by gdb through the reference VMM's gdb stub.
figures: $(GUEST) $(LAB) $(SOLUTION) | debug-deps
	$(Q)cd $(BUILD)/vm_src && ../lab2/vm_manager --memory-map ./app | \
	    $(CURDIR)/handouts/figures/memory_map_svg.py > $(CURDIR)/handouts/figures/memory-map.svg
	$(Q)handouts/figures/syscall_registers_svg.py $(SOLUTION) $(BUILD)/vm_src/boot.elf \
	    $(BUILD)/vm_src/app > handouts/figures/syscall-registers.svg.new
	$(Q)mv handouts/figures/syscall-registers.svg.new handouts/figures/syscall-registers.svg

# The statement and the answers as HTML pages, figures embedded (offline-readable).
HANDOUT_PAGES := $(BUILD)/handouts/lab2.html $(BUILD)/handouts/lab2-answers.html
handouts: $(HANDOUT_PAGES)
$(BUILD)/handouts/%.html: handouts/%.md handouts/style.css $(wildcard handouts/figures/*.svg) | test-deps
	$(say) PANDOC $<
	$(Q)mkdir -p $(@D)
	$(Q)pandoc --standalone --self-contained --resource-path=handouts --css=handouts/style.css \
	    --metadata title="$$(sed -n '1s/^# //p' $<)" --shift-heading-level-by=-1 -o $@ $<

# The student handout: what students get, nothing of the answers.
HANDOUT := dist/lab2-handout.tar.gz
handout: $(BUILD)/vm_src/app $(BUILD)/handouts/lab2.html
	$(Q)tools/make_handout.sh $(HANDOUT)

# `make bench`: the performance figures (bench/README.md).
include bench/bench.mk

# `make check`, `make grade`, `make gradescope`: the grader (grader/README.md).
include grader/grader.mk

# --- packages -----------------------------------------------------------------

deps: test-deps
test-deps:
	$(Q)tools/deps.sh $(TEST_PACKAGES)

# The student's file is generated from the reference: never edit both.
skeleton: | test-deps
	$(Q)tools/make_skeleton.py solutions/lab2/vm_manager/manager.cpp | clang-format \
	    --assume-filename=manager.cpp > lab2/vm_manager/manager.cpp.new
	$(Q)mv lab2/vm_manager/manager.cpp.new lab2/vm_manager/manager.cpp
	@echo "lab2/vm_manager/manager.cpp regenerated from the reference"

# --- tests --------------------------------------------------------------------------

$(BUILD)/tests/%.o: tests/unit/%.cpp | test-deps
	$(say) CXX $<
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(CXXFLAGS) -Ivm_manager -c -o $@ $<

$(BUILD)/tests/unit_tests: $(UNIT_TEST_OBJECTS) $(ENGINE)
	$(say) LINK $@
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(SANITIZER_FLAGS) -o $@ $(UNIT_TEST_OBJECTS) $(ENGINE) -lgtest_main -lgtest -pthread \
	    $(ENGINE_LIBS)

unit-test: $(BUILD)/tests/unit_tests
	$(Q)$(BUILD)/tests/unit_tests --gtest_brief=1

e2e-test: all | test-deps
	$(Q)$(PYTEST) -q tests/e2e tests/hostile tests/kit

test-hw: all | test-deps
	$(Q)$(PYTEST) -q -s tests/hw

JOBS := $(shell nproc 2>/dev/null || echo 2)

test: | test-deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) all $(BUILD)/tests/unit_tests
	$(Q)$(MAKE) --no-print-directory unit-test
	$(Q)$(MAKE) --no-print-directory e2e-test
	$(Q)$(MAKE) --no-print-directory fuzz-smoke
	$(Q)$(if $(SANITIZE),echo "make grader-test: skipped under SANITIZE (the grader builds the kit itself)", \
	    $(MAKE) --no-print-directory grader-test)
	$(Q)$(if $(SANITIZE),echo "make variants-test similarity-test: skipped under SANITIZE", \
	    $(MAKE) --no-print-directory variants-test similarity-test)
	$(Q)$(if $(SANITIZE),echo "make test-hw: skipped under SANITIZE (it needs static binaries)", \
	    $(MAKE) --no-print-directory test-hw)

# make fuzz, make fuzz-smoke: the libFuzzer targets.
include fuzz/fuzz.mk
