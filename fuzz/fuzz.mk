# fuzz/fuzz.mk, included by the kit's Makefile: the libFuzzer targets
# (fuzz/README.md). `make fuzz` builds them with clang and runs each for
# FUZZ_SECONDS, in parallel; `make fuzz-smoke` runs each briefly.

FUZZ_CXX := clang++
FUZZ_BUILD := build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := syscall elf_loader guest_files
FUZZ_PACKAGES := clang libclang-rt-dev
# The engine with coverage for libFuzzer, AddressSanitizer and UBSan.
# -Wno-missing-field-initializers: clang's view of libseccomp's SCMP_A1 macro.
FUZZ_SANITIZERS := address,undefined
FUZZ_CXXFLAGS := -std=c++20 -O1 -g -Wall -Wextra -Werror -Wno-missing-field-initializers -MMD -MP \
	-fno-omit-frame-pointer -fsanitize=fuzzer-no-link,$(FUZZ_SANITIZERS) -fno-sanitize-recover=all
FUZZ_ENGINE := $(FUZZ_BUILD)/engine/libvmm.a
FUZZERS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%_fuzzer)

.PHONY: fuzz fuzz-build fuzz-smoke fuzz-deps $(FUZZ_TARGETS:%=fuzz-run-%)

fuzz-deps:
	$(Q)tools/deps.sh $(BUILD_PACKAGES) $(FUZZ_PACKAGES)

fuzz-build: $(FUZZERS) $(FUZZ_BUILD)/seeds/elf_loader/app

fuzz: | fuzz-deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) fuzz-build
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) $(FUZZ_TARGETS:%=fuzz-run-%)

$(FUZZ_TARGETS:%=fuzz-run-%): fuzz-run-%:
	$(Q)fuzz/run.sh $* $(FUZZ_SECONDS)

# Each target over its seeds and corpus, then 20000 more inputs: a few seconds.
fuzz-smoke: | fuzz-deps
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) fuzz-build
	$(Q)for target in $(FUZZ_TARGETS); do fuzz/run.sh $$target 30 -runs=20000 || exit 1; done

$(FUZZ_BUILD)/engine/%.o: vm_manager/%.cpp | fuzz-deps
	$(say) CLANG $<
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -I$(GENERATED) -c -o $@ $<
$(FUZZ_BUILD)/engine/syscall_names.o: $(SYSCALL_NAMES)

$(FUZZ_ENGINE): $(ENGINE_SOURCES:vm_manager/%.cpp=$(FUZZ_BUILD)/engine/%.o)
	$(say) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

# The reference VMM with its main() renamed: the syscall target calls its handle_syscall().
$(FUZZ_BUILD)/manager.o: solutions/lab2/vm_manager/manager.cpp | fuzz-deps
	$(say) CLANG $<
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -Dmain=vmm_main -Ivm_manager -c -o $@ $<

$(FUZZ_BUILD)/%.o: fuzz/%.cpp | fuzz-deps
	$(say) CLANG $<
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CXX) $(FUZZ_CXXFLAGS) -Ivm_manager -c -o $@ $<

# Kept: make would delete them as intermediate files.
.SECONDARY: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%_fuzzer.o)
$(FUZZ_BUILD)/syscall_fuzzer: $(FUZZ_BUILD)/manager.o
$(FUZZ_BUILD)/%_fuzzer: $(FUZZ_BUILD)/%_fuzzer.o $(FUZZ_ENGINE)
	$(say) LINK $@
	$(Q)$(FUZZ_CXX) -fsanitize=fuzzer,$(FUZZ_SANITIZERS) -o $@ $(filter %.o,$^) $(FUZZ_ENGINE) \
	    -lseccomp -lcapstone

# The ELF target also starts from the lab program.
$(FUZZ_BUILD)/seeds/elf_loader/app: $(BUILD)/vm_src/app
	$(Q)mkdir -p $(@D) && cp $< $@

-include $(wildcard $(FUZZ_BUILD)/*.d $(FUZZ_BUILD)/*/*.d)
