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

# Debian/Ubuntu packages: to build the lab, and to test the kit.
BUILD_PACKAGES := make g++ nasm musl-tools libseccomp-dev
TEST_PACKAGES := $(BUILD_PACKAGES) libgtest-dev python3-pytest python3-pytest-timeout strace \
	clang-format bubblewrap qemu-system-x86 busybox-static

ENGINE_SOURCES := $(wildcard vm_manager/*.cpp)
ENGINE_OBJECTS := $(ENGINE_SOURCES:vm_manager/%.cpp=$(BUILD)/engine/%.o)
ENGINE := $(BUILD)/engine/libvmm.a
UNIT_TEST_SOURCES := $(wildcard tests/unit/*.cpp)
UNIT_TEST_OBJECTS := $(UNIT_TEST_SOURCES:tests/unit/%.cpp=$(BUILD)/tests/%.o)

GUEST := $(BUILD)/vm_src/boot.bin $(BUILD)/vm_src/app
LAB := $(BUILD)/lab2/vm_manager
SOLUTION := $(if $(wildcard solutions/lab2/vm_manager/manager.cpp),$(BUILD)/solutions/vm_manager)

# `make V=1` shows the full commands.
ifeq ($(V),1)
Q :=
say := @true
else
Q := @
say := @printf '  %-6s %s\n'
endif

.PHONY: all alll run run-solution run-emulated run-solution-emulated skeleton test unit-test \
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
	@echo "make test           build everything and run all the tests"
	@echo "make test-hw        the ring-3 tests, in the emulated machine (part of make test)"
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
	$(Q)$(CXX) -o $@ $(UNIT_TEST_OBJECTS) $(ENGINE) -lgtest_main -lgtest -pthread -lseccomp

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
	$(Q)$(MAKE) --no-print-directory test-hw

clean:
	rm -rf $(BUILD)

# `make -s print-CXXFLAGS` and the like: for tools that build as the kit does.
print-%:
	@echo '$($*)'

-include $(wildcard $(BUILD)/*/*.d $(BUILD)/*/*/*.d)
