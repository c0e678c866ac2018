// step_narrator.hpp: vm_manager --step[=N], the boot told one instruction at a time.
//
// The vCPU single-steps (KVM_GUESTDBG_SINGLESTEP: one KVM_EXIT_DEBUG per
// instruction) from boot.asm's first instruction to the program's first,
// then N instructions further. For each it prints, on standard error, the
// address, the instruction (decoded by Capstone for the CPU's current mode),
// its boot.asm line (from boot.elf beside the boot image), and the registers
// it changed, with their bits named:
//
//   0x804f  mov cr0, eax        boot.asm:90  start16+15
//           CR0 0x60000010 -> 0x60000011: PE set (protected mode)
//           mode: real mode (16-bit) -> protected mode (16-bit)
//
// Then it lets the program run on as usual. System calls are handled as
// always: the trace on standard output is the same.
#pragma once

#include "boot_image.hpp"
#include "breakpoints.hpp"
#include "disassembler.hpp"
#include "elf_symbols.hpp"
#include "guest_memory.hpp"
#include "kvm.hpp"
#include "single_step.hpp"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace vmm {

class StepNarrator : public Debugger {
  public:
    // `boot`: where boot.asm is, and reports an int3's #BP; `program_entry`:
    // where the boot ends. `boot_elf`: boot.asm's symbols and lines;
    // `program`: the program's ELF file, for its function names. Either file
    // may be missing: then no names.
    StepNarrator(Vcpu& vcpu, GuestMemory& memory, const LoadedBootImage& boot,
                 uint64_t program_entry, const std::string& boot_elf, const std::string& program,
                 uint64_t program_steps);
    ~StepNarrator() override;
    StepNarrator(const StepNarrator&) = delete;
    StepNarrator& operator=(const StepNarrator&) = delete;

    void before_run(Vcpu& vcpu) override;
    bool after_exit(Vcpu& vcpu) override;

  private:
    struct Snapshot {
        kvm_regs regs;
        kvm_sregs sregs;
    };
    void tell_instruction(const Snapshot& before);
    void tell_changes(const Snapshot& before, const Snapshot& after);
    // Counts the instruction just told; stops stepping when they are all told.
    void count_step(uint64_t next_rip);
    void remove_sysret_int3();

    Vcpu& vcpu_;
    GuestMemory& memory_;
    ElfSymbols symbols_;
    Disassembler disassembler_;
    uint64_t program_entry_;
    uint64_t program_steps_;
    uint64_t steps_in_program_ = 0;
    bool in_program_ = false;
    bool stepping_ = true;
    std::optional<Snapshot> before_; // the CPU before the instruction being stepped
    std::optional<Instruction> instruction_;
    StepKind step_kind_ = StepKind::kPlain; // of the instruction being stepped
    Breakpoints breakpoints_;               // the int3 a step over sysret runs to
    const LoadedBootImage boot_;
    std::optional<uint64_t> sysret_target_; // where that int3 is
};

} // namespace vmm
