# tools/build.mk: how the lab is built and run. The kit's Makefile and the
# student handout's Makefile both include it.

BUILD := build
# Where `make run` runs the VMM, and so where the program's files appear:
# the directory make was started in (lab2/vm_src/Makefile passes its own).
RUN_DIR ?= $(CURDIR)

CXX := g++
CXXFLAGS := -std=c++20 -O2 -g -Wall -Wextra -Werror -MMD -MP
# The libraries the engine calls: seccomp (confinement.cpp) and Capstone
# (disassembler.cpp, for vm_manager --step). Whatever links the engine links these.
ENGINE_LIBS := -lseccomp -lcapstone
# vm_manager is linked statically: it starts faster (no dynamic loading of the
# C++ library) and also runs where there are no shared libraries, such as the
# emulated machine of `make test-hw`.
VMM_LDFLAGS := -static $(ENGINE_LIBS)
MUSL_CC := musl-gcc
# The lab program's flags; the per-student variants (grader/variants) use them too.
APP_CFLAGS := -static -O2 -Wall -Wextra -Werror
NASM := nasm

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
VMM_LDFLAGS := $(SANITIZER_FLAGS) $(ENGINE_LIBS)
endif
# Where tools and tests find what was built (tests/helpers.py).
export KIT_BUILD := $(abspath $(BUILD))

# Debian/Ubuntu packages the lab needs to build (Capstone: vm_manager --step's
# disassembler), and for make debug.
BUILD_PACKAGES := make g++ nasm musl-tools libseccomp-dev libcapstone-dev python3
DEBUG_PACKAGES := gdb
# The emulated machine (emulated/run.sh): QEMU, busybox for its initrd, xz for
# the kernel's modules.
EMULATED_PACKAGES := qemu-system-x86 busybox-static xz-utils

ENGINE_SOURCES := $(wildcard vm_manager/*.cpp)
ENGINE_OBJECTS := $(ENGINE_SOURCES:vm_manager/%.cpp=$(BUILD)/engine/%.o)
ENGINE := $(BUILD)/engine/libvmm.a
# Files the build writes for the engine's sources to include.
GENERATED := $(BUILD)/generated
SYSCALL_NAMES := $(GENERATED)/syscall_names.inc

GUEST := $(BUILD)/vm_src/boot.bin $(BUILD)/vm_src/boot.elf $(BUILD)/vm_src/app
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

.DEFAULT_GOAL := all
.PHONY: all alll run run-solution debug debug-solution run-emulated run-solution-emulated \
	run-stdio run-busybox build-deps debug-deps challenge-deps clean

all: $(GUEST) $(LAB) $(SOLUTION)

# The lab statement spells it this way.
alll: all

# Where this machine's KVM cannot run a VM (no /dev/kvm, no access to it: the
# grader's check, grader/machines/kvm.py, says why), make run and make
# run-solution run the VMM in the emulated machine instead, and say so.
KVM_PROBLEM := /usr/bin/python3 -c 'from grader.machines.kvm import problem; print(problem() or "")'
# $(call run_vmm,VMM,TARGET): VMM here if KVM works, else make TARGET (emulated).
run_vmm = problem=$$($(KVM_PROBLEM)); \
	if [ -z "$$problem" ]; then cd $(RUN_DIR) && $(abspath $(1)) $(ARGS); \
	else echo "make: $$problem: running in the emulated machine instead (make $(2)), which takes a few seconds to start" >&2; \
	$(MAKE) --no-print-directory $(2); fi

run: $(GUEST) $(LAB)
	$(Q)$(call run_vmm,$(LAB),run-emulated)

ifneq ($(SOLUTION),)
run-solution: $(GUEST) $(SOLUTION)
	$(Q)$(call run_vmm,$(BUILD)/solutions/vm_manager,run-solution-emulated)
else
# The student handout has no reference VMM: say so, rather than fail to find it.
run-solution debug-solution run-solution-emulated:
	@echo "make $@: the reference VMM is not part of the student handout; make check compares" \
	    "your VMM with the program run natively" >&2
	@exit 2
endif

# `make debug`: your VMM waits for gdb (vm_manager --gdb), and gdb starts
# connected to it, before the first instruction of boot.asm (tools/debug.sh).
GDB_PORT ?= 1234
debug: $(GUEST) $(LAB) | debug-deps
	$(Q)cd $(RUN_DIR) && $(CURDIR)/tools/debug.sh $(abspath $(LAB)) $(GDB_PORT) $(ARGS)

ifneq ($(SOLUTION),)
debug-solution: $(GUEST) $(SOLUTION) | debug-deps
	$(Q)cd $(RUN_DIR) && $(CURDIR)/tools/debug.sh $(abspath $(BUILD)/solutions/vm_manager) \
	    $(GDB_PORT) $(ARGS)
endif

# Step 4 (challenge): real programs under your VMM, in the directory make was
# started in. A musl stdio program (lab2/challenge/stdio_program.c), and
# Debian's busybox-static, a glibc program: `make run-busybox ARGS="cat FILE"`.
# The reference runs them too: `make run-solution ARGS=...` with the program's path.
STDIO_PROGRAM := $(BUILD)/lab2/stdio_program
CHALLENGE_PACKAGES := busybox-static

$(STDIO_PROGRAM): lab2/challenge/stdio_program.c | build-deps
	$(say) MUSL $<
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(APP_CFLAGS) -o $@ $<

run-stdio: $(GUEST) $(LAB) $(STDIO_PROGRAM)
	$(Q)cd $(RUN_DIR) && $(abspath $(LAB)) $(abspath $(STDIO_PROGRAM))

run-busybox: $(GUEST) $(LAB) | challenge-deps
	$(Q)cd $(RUN_DIR) && $(abspath $(LAB)) /bin/busybox $(ARGS)

challenge-deps:
	$(Q)tools/deps.sh $(CHALLENGE_PACKAGES)

# The emulated machine (emulated/run.sh): QEMU's AMD-V running Debian's kernel
# with KVM. Slow, but it needs no /dev/kvm, and there the program runs in ring 3.
# The kit's build is copied in as it is laid out in build/, with Step 4's
# program and its source; files the program writes are shown before the
# machine powers off.
EMULATED_PAYLOAD := $(BUILD)/emulated/payload
EMULATED_RUN = emulated/run.sh --stream --timeout 600 $(EMULATED_PAYLOAD) sh -c \
	'mkdir -p /tmp/run && cd /tmp/run && "$$0" "$$@"; status=$$?; for f in *; do [ -f "$$f" ] && \
	echo "--- $$f:" && cat "$$f"; done; exit $$status'

$(EMULATED_PAYLOAD): $(GUEST) $(LAB) $(SOLUTION) $(STDIO_PROGRAM)
	$(Q)rm -rf $@ && mkdir -p $@/vm_src $@/lab2 $@/solutions
	$(Q)cp $(GUEST) $@/vm_src/ && cp $(LAB) $(STDIO_PROGRAM) lab2/challenge/stdio_program.c $@/lab2/
	$(Q)$(if $(SOLUTION),cp $(SOLUTION) $@/solutions/)

run-emulated: $(EMULATED_PAYLOAD)
	$(Q)$(EMULATED_RUN) /kit/lab2/vm_manager $(ARGS)

ifneq ($(SOLUTION),)
run-solution-emulated: $(EMULATED_PAYLOAD)
	$(Q)$(EMULATED_RUN) /kit/solutions/vm_manager $(ARGS)
endif

build-deps:
	$(Q)tools/deps.sh $(BUILD_PACKAGES)

debug-deps:
	$(Q)tools/deps.sh $(DEBUG_PACKAGES)

# --- the guest ------------------------------------------------------------------

$(BUILD)/vm_src/boot.bin: vm_src/src/boot.asm | build-deps
	$(say) NASM $<
	$(Q)mkdir -p $(@D)
	$(Q)$(NASM) -f bin -w+all -Werror -o $@ $<

# boot.asm again, as an ELF file for gdb and vm_manager --step: the same bytes
# at the same addresses (a test checks it), with its labels and, in DWARF, the
# line of boot.asm each instruction comes from. It is linked at the address
# boot.asm is made for (BOOT_ADDRESS), read from boot.asm itself.
BOOT_ADDRESS = $(shell sed -n 's/^BOOT_ADDRESS *equ *\(0x[0-9A-Fa-f]*\).*/\1/p' vm_src/src/boot.asm)
$(BUILD)/vm_src/boot.elf: vm_src/src/boot.asm | build-deps
	$(say) NASM $@
	$(Q)mkdir -p $(@D)
	$(Q)cd $(<D) && $(NASM) -f elf64 -g -F dwarf -w+all -Werror -o $(abspath $(@:.elf=.o)) $(<F)
	$(Q)ld -z noexecstack -Ttext=$(BOOT_ADDRESS) -e $(BOOT_ADDRESS) -o $@ $(@:.elf=.o)

# The distribution's musl, unmodified: a static, non-PIE executable linked at
# 0x400000. The student handout has no source (Step 3 is to guess it), only
# the program itself, prebuilt, in vm_src/app.
ifneq ($(wildcard vm_src/src/app.c),)
$(BUILD)/vm_src/app: vm_src/src/app.c | build-deps
	$(say) MUSL $<
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(APP_CFLAGS) -o $@ $<
else
$(BUILD)/vm_src/app: vm_src/app
	$(Q)mkdir -p $(@D)
	$(Q)cp $< $@
endif

# --- the VMM ---------------------------------------------------------------------

$(BUILD)/engine/%.o: vm_manager/%.cpp | build-deps
	$(say) CXX $<
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(CXXFLAGS) -I$(GENERATED) -c -o $@ $<

# The names of Linux's x86-64 system calls (syscall_names.cpp): a SYSCALL(name)
# line for each __NR_name the kernel's own header, asm/unistd_64.h, defines.
$(SYSCALL_NAMES): $(wildcard /usr/include/*/asm/unistd_64.h /usr/include/asm/unistd_64.h) | build-deps
	$(say) GEN $@
	$(Q)mkdir -p $(@D)
	$(Q)echo '#include <asm/unistd_64.h>' | $(CXX) -E -dM -x c++ - | \
	    sed -n 's/^#define __NR_\([a-z0-9_]*\) .*/SYSCALL(\1)/p' | sort > $@.new && mv $@.new $@
$(BUILD)/engine/syscall_names.o: $(SYSCALL_NAMES)

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

clean:
	rm -rf $(BUILD)

# `make -s print-CXXFLAGS` and the like: for tools that build as the kit does.
print-%:
	@echo '$($*)'

-include $(wildcard $(BUILD)/*/*.d $(BUILD)/*/*/*.d)
