// int3_hit.hpp: the vCPU stopped at an int3 a debugger planted, whichever way KVM says so.
//
// A debugger's software breakpoint is an int3 (0xCC) written over an
// instruction; KVM_GUESTDBG_USE_SW_BP asks KVM to intercept the #BP it raises.
// What the VMM then sees depends on the hypervisor:
//   - hardware-assisted KVM (VT-x, AMD-V) intercepts #BP before the CPU
//     delivers it: KVM_EXIT_DEBUG, exception 3, with the int3's address;
//   - PVM runs ring-0 code in KVM's instruction emulator, which cannot
//     emulate int3 outside real mode: KVM_EXIT_INTERNAL_ERROR (emulation),
//     RIP on the int3;
//   - QEMU's emulated AMD-V (TCG) checks the #BP intercept only for
//     exceptions the CPU raises, not for int3, which it treats as a software
//     interrupt: the guest's own IDT gets the #BP, and boot.asm reports it on
//     its exception port (KVM_EXIT_IO) with RIP past the int3 in the frame.
//     The vCPU is then put back as it was before the int3.
#pragma once

#include "breakpoints.hpp"
#include "exception_report.hpp"
#include "guest_memory.hpp"
#include "kvm.hpp"

#include <cstdint>
#include <optional>

namespace vmm {

// The address of the planted int3 the vCPU stopped at, if this exit is one;
// the vCPU's registers are then as they were before it ran.
// `boot` says where boot.asm reports an exception (exception_report.hpp).
std::optional<uint64_t> planted_int3_hit(Vcpu& vcpu, GuestMemory& memory,
                                         const LoadedBootImage& boot,
                                         const Breakpoints& breakpoints);

} // namespace vmm
