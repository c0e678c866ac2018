# bench/bench.mk: `make bench`, included by the kit's Makefile (bench/README.md).
#
#   make bench         builds what it needs, measures (about a minute), prints the
#                      table and writes build/bench/{results.json,chart.svg,results.md}
#   make bench-quick   the same with a few runs only, into build/bench/quick/:
#                      checks that the benchmark works (tests/e2e/test_bench.py)
#
# It measures the reference VMM when the kit has it, else the student's (the
# handout's make bench): a VMM that does not run the lab program to its end yet
# is left out, and the rest (what KVM itself costs, native, qemu-user) measured.

BENCH_BUILD := $(BUILD)/bench
BENCH_VMM := $(if $(SOLUTION),$(SOLUTION),$(LAB))
BENCH_VMM_NAME := $(if $(SOLUTION),the reference VMM,your VMM)
BENCH_PYTHON := /usr/bin/python3
# bare_vm is linked like vm_manager (statically, with glibc), so that the two
# differ only in what they do; bare_vm_musl shows what glibc's start-up costs.
BENCH_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror
BENCH_PROGRAMS := $(BENCH_BUILD)/bare_vm $(BENCH_BUILD)/bare_vm_musl \
	$(BENCH_BUILD)/syscall_loop $(BENCH_BUILD)/file_workload $(BENCH_BUILD)/spawn_timer

.PHONY: bench bench-quick bench-deps bench-programs

bench: $(GUEST) $(BENCH_VMM) $(BENCH_PROGRAMS) | bench-deps
	$(Q)$(BENCH_PYTHON) bench/bench.py --build $(BUILD) --out $(BENCH_BUILD) --vmm $(BENCH_VMM) \
	    --vmm-name "$(BENCH_VMM_NAME)"

bench-quick: $(GUEST) $(BENCH_VMM) $(BENCH_PROGRAMS) | bench-deps
	$(Q)$(BENCH_PYTHON) bench/bench.py --quick --build $(BUILD) --out $(BENCH_BUILD)/quick \
	    --vmm $(BENCH_VMM) --vmm-name "$(BENCH_VMM_NAME)"

# qemu-user for the qemu-x86_64 figures; the rest is what the kit builds with.
bench-deps:
	$(Q)tools/deps.sh $(BUILD_PACKAGES) qemu-user

# The programs alone (tools/make_handout.sh packs them).
bench-programs: $(BENCH_PROGRAMS)

ifeq ($(wildcard bench/bare_vm.c),)
# The student handout carries the programs prebuilt, in bench/prebuilt/, and
# not their sources, as it carries the lab program.
$(BENCH_BUILD)/%: bench/prebuilt/%
	$(Q)mkdir -p $(@D)
	$(Q)cp $< $@
else
$(BENCH_BUILD)/bare_vm: bench/bare_vm.c | build-deps
	$(say) CC $<
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(BENCH_CFLAGS) -static -o $@ $<

# musl's headers do not include the kernel's: borrow linux/, asm/ and
# asm-generic/ from the system's (the same kernel ABI) through a directory of links.
BENCH_KERNEL_HEADERS := $(BENCH_BUILD)/kernel-headers
$(BENCH_BUILD)/bare_vm_musl: bench/bare_vm.c | build-deps
	$(say) MUSL $<
	$(Q)mkdir -p $(BENCH_KERNEL_HEADERS)
	$(Q)ln -sfn /usr/include/linux $(BENCH_KERNEL_HEADERS)/linux
	$(Q)ln -sfn /usr/include/asm-generic $(BENCH_KERNEL_HEADERS)/asm-generic
	$(Q)ln -sfn /usr/include/$(shell $(CC) -print-multiarch)/asm $(BENCH_KERNEL_HEADERS)/asm
	$(Q)$(MUSL_CC) $(BENCH_CFLAGS) -static -I$(BENCH_KERNEL_HEADERS) -o $@ $<

# The guest of the per-call figures, built like the lab program.
$(BENCH_BUILD)/syscall_loop: bench/syscall_loop.c | build-deps
	$(say) MUSL $<
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(BENCH_CFLAGS) -static -o $@ $<

# The guest of the workload figures: no SSE2 integer instructions, which KVM
# cannot emulate in ring 0 on PVM (file_workload.c).
$(BENCH_BUILD)/file_workload: bench/file_workload.c | build-deps
	$(say) MUSL $<
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(BENCH_CFLAGS) -mgeneral-regs-only -static -o $@ $<

# The timer, with musl: a small process, so that the peak RSS it reports for
# its children (which counts the spawning process's memory) stays exact to ~0.1 MiB.
$(BENCH_BUILD)/spawn_timer: bench/spawn_timer.c | build-deps
	$(say) MUSL $<
	$(Q)mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(BENCH_CFLAGS) -static -o $@ $<
endif
