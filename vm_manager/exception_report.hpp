// exception_report.hpp: boot.asm's report of a guest exception, and how far it is believed.
//
// boot.asm's exception stubs push the vector (and a 0 where the CPU pushes no
// error code), then run an `out` to I/O port 0xE0: the VMM sees a KVM_EXIT_IO
// with the frame on the exception stack. The crash report explains it
// (crash_report.hpp); the gdb stub recognizes its own breakpoints in it
// (gdb_stub.hpp), where the hypervisor hands the guest its int3.
#pragma once

#include "boot_image.hpp"
#include "guest_memory.hpp"
#include "kvm.hpp"

#include <cstdint>
#include <optional>

namespace vmm {

// What boot.asm's exception stubs leave on the exception stack (see boot.asm).
struct ExceptionFrame {
    uint64_t vector;
    uint64_t error_code;
    uint64_t rip; // the rest is what the CPU pushed: where the program was
    uint64_t cs;
    uint64_t rflags;
    uint64_t rsp;
    uint64_t ss;
};

inline constexpr uint64_t kDebugVector = 1;      // #DB: single step, debug registers
inline constexpr uint64_t kBreakpointVector = 3; // #BP, raised by int3 (a trap: RIP past it)

// The exception boot.asm reported through its I/O port, if that is what this
// exit is. Only boot.asm's report is believed: its `out` (the address in the
// image's header, `boot.exception_report`), in ring 0, with RSP where the
// stubs leave it (the CPU starts every exception at the top of the exception
// stack, IST1, which is the image's address), and a frame that makes sense.
// From ring 3 the program can do none of that; from ring 0 it could.
std::optional<ExceptionFrame> reported_exception(const Vcpu& vcpu, GuestMemory& memory,
                                                 const LoadedBootImage& boot);

// The vectors for which the CPU pushes an error code (Intel SDM vol. 3A,
// table 6-1); boot.asm's stubs push a 0 for the others.
bool has_error_code(uint64_t vector);

} // namespace vmm
