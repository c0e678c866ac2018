// exception_return.hpp: putting the vCPU back where an exception found it.
//
// What boot.asm's handler would do with iretq, done by the VMM: the CPU
// pushed RIP, CS, RFLAGS, RSP and SS when it took the exception (SDM vol. 3A,
// 6.14.2), and iretq loads them back, CS and SS with their descriptors from
// the GDT. The gdb stub needs it where the hypervisor gives the guest the
// int3 of a breakpoint (gdb_stub.cpp): the stop must look as if the int3 had
// never run.
#pragma once

#include "exception_report.hpp"
#include "guest_memory.hpp"
#include "kvm.hpp"

#include <linux/kvm.h>

#include <cstdint>
#include <optional>

namespace vmm {

enum class SegmentUse { kCode, kStack };

// The segment register the CPU loads for `selector` from the GDT (SDM vol.
// 3A, 3.4.5): the descriptor's fields as KVM's kvm_segment holds them. Nothing
// when the selector is not in the GDT, or its descriptor is not a present
// segment of that use at the selector's privilege level.
std::optional<kvm_segment> segment_from_gdt(GuestMemory& memory, const kvm_dtable& gdt,
                                            uint64_t selector, SegmentUse use);

// Loads RIP (`rip`: past the instruction or on it, as the exception was a
// trap or a fault), RSP, RFLAGS, CS and SS from the frame, as iretq would.
// False, and the vCPU untouched, when the frame's selectors are not valid.
bool return_from_exception(Vcpu& vcpu, GuestMemory& memory, const ExceptionFrame& frame,
                           uint64_t rip);

} // namespace vmm
