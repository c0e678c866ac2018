# ScratchVM Lab 2 kit. `make help` lists the targets.

BUILD := build
# Where `make run` runs the VMM, and so where the program's files appear:
# the directory make was started in (lab2/vm_src/Makefile passes its own).
RUN_DIR ?= $(CURDIR)

CXX := g++
CXXFLAGS := -std=c++20 -O2 -g -Wall -Wextra -Werror -MMD -MP
# vm_manager is linked statically: it starts faster (no dynamic loading of the
# C++ library) and also runs where there are no shared libraries, such as the
# emulated machine of `make test-hw`.
VMM_LDFLAGS := -static -lseccomp
MUSL_CC := musl-gcc
NASM := nasm
PYTEST := /usr/bin/python3 -m pytest

# `make test SANITIZE=1`: the engine, both VMMs and the unit tests built with
# AddressSanitizer (and its leak checker) and UndefinedBehaviorSanitizer, into
# build/sanitize/ so that the normal build is untouched; the first error found
# stops the program. SANITIZE=address or SANITIZE=undefined uses only that one,
# in build/sanitize-address/ or build/sanitize-undefined/. Sanitized programs
# cannot be linked statically: the VMMs are then dynamic, and make test skips
# make test-hw. VMM_SANITIZED tells the engine (confinement.cpp).
comma := ,
ifneq ($(SANITIZE),)
SANITIZERS := $(if $(filter 1,$(SANITIZE)),address$(comma)undefined,$(SANITIZE))
BUILD := build/sanitize$(if $(filter 1,$(SANITIZE)),,-$(subst $(comma),-,$(SANITIZE)))
SANITIZER_FLAGS := -fsanitize=$(SANITIZERS) -fno-omit-frame-pointer -fno-sanitize-recover=all
CXXFLAGS += $(SANITIZER_FLAGS) -DVMM_SANITIZED
VMM_LDFLAGS := $(SANITIZER_FLAGS) -lseccomp
endif
# Where the tests find what was built (tests/helpers.py).
export KIT_BUILD := $(abspath $(BUILD))

# Debian/Ubuntu packages: to build the lab, and to test the kit.
BUILD_PACKAGES := make g++ nasm musl-tools libseccomp-dev
TEST_PACKAGES := $(BUILD_PACKAGES) libgtest-dev python3-pytest python3-pytest-timeout strace \
	clang-format bubblewrap qemu-system-x86 busybox-static pandoc chromium

ENGINE_SOURCES := $(wildcard vm_manager/*.cpp)
ENGINE_OBJECTS := $(ENGINE_SOURCES:vm_manager/%.cpp=$(BUILD)/engine/%.o)
ENGINE := $(BUILD)/engine/libvmm.a
UNIT_TEST_SOURCES := $(wildcard tests/unit/*.cpp)
UNIT_TEST_OBJECTS := $(UNIT_TEST_SOURCES:tests/unit/%.cpp=$(BUILD)/tests/%.o)

GUEST := $(BUILD)/vm_src/boot.bin $(BUILD)/vm_src/app
LAB := $(BUILD)/lab2/vm_manager
SOLUTION := $(if $(wildcard solutions/lab2/vm_manager/manager.cpp),$(BUILD)/solutions/vm_manager)

# `make V=1` shows the full commands; `make -s` shows none.
ifeq ($(V),1)
Q :=
say := @true
else ifneq ($(findstring s,$(firstword -$(MAKEFLAGS))),)
Q := @
say := @true
else
Q := @
say := @printf '  %-6s %s\n'
endif

.PHONY: all alll run run-solution run-emulated run-solution-emulated skeleton figures handouts test unit-test \
	e2e-test test-hw deps test-deps clean help
.DEFAULT_GOAL := all

all: $(GUEST) $(LAB) $(SOLUTION)

# The lab statement spells it this way.
alll: all

help:
	@echo "make all (or alll)  build the guest (boot.bin, app) and the VMMs"
	@echo "make run            run the lab program under YOUR VMM (lab2/vm_manager/manager.cpp)"
	@echo "make run-solution   run it under the reference VMM"
	@echo "make run-emulated   run it under your VMM in an emulated machine with AMD-V (no KVM needed)"
	@echo "make run-solution-emulated   the same with the reference VMM"
	@echo "make check          check YOUR lab2/ as the grader would: test by test, then a score"
	@echo "make grade SUBMISSIONS=dir   grade a class (grader/README.md)"
	@echo "make gradescope     pack the Gradescope autograder"
	@echo "make test           build everything and run all the tests"
	@echo "make test-hw        the ring-3 tests, in the emulated machine (part of make test)"
	@echo "make test SANITIZE=1   the same tests under AddressSanitizer and UBSan (in build/sanitize/)"
	@echo "make fuzz           build the fuzz targets and run each for FUZZ_SECONDS (default 60)"
	@echo "make fuzz-smoke     each fuzz target for a few seconds (part of make test)"
	@echo "make handouts       render the statement and the answers to HTML (build/handouts/)"
	@echo "make figures        redraw the memory-map figure from the VMM's real layout"
	@echo "make bench          measure VM exits and start-up against native and qemu-user"
	@echo "make skeleton       regenerate lab2/vm_manager/manager.cpp from the reference"
	@echo "make deps           install the packages the kit needs"
	@echo "make clean          remove build/"

run: $(GUEST) $(LAB)
	$(Q)cd $(RUN_DIR) && $(abspath $(LAB)) $(ARGS)

run-solution: $(GUEST) $(SOLUTION)
	$(Q)cd $(RUN_DIR) && $(abspath $(BUILD)/solutions/vm_manager) $(ARGS)

# The emulated machine (emulated/run.sh): QEMU's AMD-V running Debian's kernel
# with KVM. Slow, but it needs no /dev/kvm, and there the program runs in ring 3.
# The kit's build is copied in as it is laid out in build/; files the program
# writes are shown before the machine powers off.
EMULATED_PAYLOAD := $(BUILD)/emulated/payload
EMULATED_RUN = emulated/run.sh --timeout 600 $(EMULATED_PAYLOAD) sh -c \
	'mkdir -p /tmp/run && cd /tmp/run && "$$0" "$$@"; status=$$?; [ -f ay_caramba ] && echo "--- ay_caramba:" && \
	cat ay_caramba; exit $$status'

$(EMULATED_PAYLOAD): $(GUEST) $(LAB) $(SOLUTION)
	$(Q)rm -rf $@ && mkdir -p $@/vm_src $@/lab2 $@/solutions
	$(Q)cp $(GUEST) $@/vm_src/ && cp $(LAB) $@/lab2/
	$(Q)$(if $(SOLUTION),cp $(SOLUTION) $@/solutions/)

run-emulated: $(EMULATED_PAYLOAD)
	$(Q)$(EMULATED_RUN) /kit/lab2/vm_manager $(ARGS)

run-solution-emulated: $(EMULATED_PAYLOAD)
	$(Q)$(EMULATED_RUN) /kit/solutions/vm_manager $(ARGS)

# The handout's memory-map figure, drawn from a real run's layout. The program
# is named ./app so that its stack address does not depend on where the kit is.
figures: $(GUEST) $(LAB)
	$(Q)cd $(BUILD)/vm_src && ../lab2/vm_manager --memory-map ./app | \
	    $(CURDIR)/handouts/figures/memory_map_svg.py > $(CURDIR)/handouts/figures/memory-map.svg

# The statement and the answers as HTML pages, figures embedded (offline-readable).
HANDOUT_PAGES := $(BUILD)/handouts/lab2.html $(BUILD)/handouts/lab2-answers.html
handouts: $(HANDOUT_PAGES)
$(BUILD)/handouts/%.html: handouts/%.md handouts/style.css $(wildcard handouts/figures/*.svg) | test-deps
	$(say) PANDOC $<
	$(Q)mkdir -p $(@D)
	$(Q)pandoc --standalone --self-contained --resource-path=handouts --css=handouts/style.css \
	    --metadata title="$$(sed -n '1s/^# //p' $<)" --shift-heading-level-by=-1 -o $@ $<

# `make bench`: the performance figures (bench/README.md).
include bench/bench.mk

# `make check`, `make grade`, `make gradescope`: the grader (grader/README.md).
include grader/grader.mk

# --- packages -----------------------------------------------------------------

deps: test-deps
build-deps:
	$(Q)tools/deps.sh $(BUILD_PACKAGES)
test-deps:
	$(Q)tools/deps.sh $(TEST_PACKAGES)

# --- the guest ------------------------------------------------------------------

$(BUILD)/vm_src/boot.bin: vm_src/src/boot.asm | build-deps
	$(say) NASM $<
	$(Q)mkdir -p $(@D)
	$(Q)$(NASM) -f bin -w+all -Werror -o $@ $<

# The distribution's musl, unmodified: a static, non-PIE executable linked at 0x400000.
$(BUILD)/vm_src/app: vm_src/src/app.c | build-deps
	$(say) MUSL $<
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) -static -O2 -Wall -Wextra -Werror -o $@ $<

# --- the VMM ---------------------------------------------------------------------

$(BUILD)/engine/%.o: vm_manager/%.cpp | build-deps
	$(say) CXX $<
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(CXXFLAGS) -c -o $@ $<

$(ENGINE): $(ENGINE_OBJECTS)
	$(say) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/lab2/vm_manager: lab2/vm_manager/manager.cpp $(ENGINE)
	$(say) CXX $<
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(CXXFLAGS) -MF $@.d -Ivm_manager -o $@ $< $(ENGINE) $(VMM_LDFLAGS)

$(BUILD)/solutions/vm_manager: solutions/lab2/vm_manager/manager.cpp $(ENGINE)
	$(say) CXX $<
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(CXXFLAGS) -MF $@.d -Ivm_manager -o $@ $< $(ENGINE) $(VMM_LDFLAGS)

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
	    -lseccomp

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
	$(Q)$(MAKE) --no-print-directory grader-test
	$(Q)$(MAKE) --no-print-directory fuzz-smoke
	$(Q)$(if $(SANITIZE),echo "make test-hw: skipped under SANITIZE (it needs static binaries)", \
	    $(MAKE) --no-print-directory test-hw)

# make fuzz, make fuzz-smoke: the libFuzzer targets.
include fuzz/fuzz.mk

clean:
	rm -rf $(BUILD)

# `make -s print-CXXFLAGS` and the like: for tools that build as the kit does.
print-%:
	@echo '$($*)'

-include $(wildcard $(BUILD)/*/*.d $(BUILD)/*/*/*.d)
