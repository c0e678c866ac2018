// crash_report.hpp: explaining a guest that stopped in a way the VMM does not handle.
#pragma once

#include "error.hpp"
#include "guest_memory.hpp"
#include "kvm.hpp"
#include "memory_map.hpp"
#include "ring_mode.hpp"

namespace vmm {

// What the VMM knows of the machine it built, to explain a crash.
struct CrashContext {
    GuestMemory& memory;
    const MemoryMapInputs& map; // where everything is, boot.asm's entry points too
    const RingChoice& ring;
    bool verbose;
};

// Thrown by the run loop for an exit it does not handle: an exception that
// boot.asm reported, a triple fault (KVM_EXIT_SHUTDOWN), a failed VM entry,
// an internal KVM error, an access outside guest memory, a `hlt` that is not a
// system call. The message says what happened in one line, then dumps the
// registers (all of them, the segment and control registers, the bytes at
// RIP) and says where RIP is and what to look at.
class GuestCrash : public VmmError {
  public:
    GuestCrash(const Vcpu& vcpu, const CrashContext& context);
};

// Call at each KVM_EXIT_HLT. A system call executes the `hlt` at boot.asm's
// syscall_entry, and KVM reports the exit with RIP just past it; a `hlt`
// anywhere else (the program's own, or musl's a_crash()) is not a system call:
// throws GuestCrash for it.
void check_system_call(const Vcpu& vcpu, const CrashContext& context);

} // namespace vmm
