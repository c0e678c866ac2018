// single_step.hpp: the instructions KVM's single step cannot step alone.
//
// KVM single-steps (KVM_GUESTDBG_SINGLESTEP) by setting RFLAGS.TF: the CPU
// raises #DB after the instruction, which KVM reports as KVM_EXIT_DEBUG.
// Three instructions of boot.asm and the program need more than that:
//
//   hlt         the step's #DB would hide the KVM_EXIT_HLT of the system
//               call: it runs without TF, and its own exit ends the step.
//   syscall     saves RFLAGS in R11, KVM's TF with them; `o64 sysret` would
//               load that TF back in ring 3, and the next instruction would
//               raise a #DB nobody intercepts any more (boot.asm reports a
//               crash). The step takes KVM's TF out of R11.
//   sysret      loads RFLAGS from R11, without TF: QEMU's emulated AMD-V
//               then raises no #DB, and the vCPU would run on to the next
//               exit. The step is a temporary int3 where sysret returns, the
//               address in RCX (int3_hit.hpp sees it on every KVM).
#pragma once

#include "kvm.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace vmm {

enum class StepKind { kPlain, kHlt, kSyscall, kSysret };

// What the instruction starting with `code` is, for stepping it. The bytes
// are as the program wrote them (no int3 of a debugger in them).
StepKind step_kind(std::span<const std::byte> code);

// Where the sysret about to run at the vCPU's RIP returns: RCX (ECX for the
// 32-bit form, without REX.W), read from the registers.
uint64_t sysret_target(std::span<const std::byte> code, const kvm_regs& regs);

// After a step over `syscall`: takes out of R11 the TF that KVM set in RFLAGS
// for the step, unless the program's own RFLAGS (before the step) had it.
void forget_step_flag_in_r11(Vcpu& vcpu, uint64_t rflags_before);

} // namespace vmm
