// crash_report.hpp: explaining a guest that stopped in a way the VMM does not handle.
#pragma once

#include "error.hpp"
#include "guest_memory.hpp"
#include "kvm.hpp"
#include "ring_mode.hpp"

namespace vmm {

// Thrown by the run loop for an exit it does not handle: a triple fault
// (KVM_EXIT_SHUTDOWN), a failed VM entry, an internal KVM error, an access
// outside guest memory. The message says what happened, dumps the registers
// (RIP, RSP, CR2, the privilege level, the bytes at RIP) and gives a hint.
class GuestCrash : public VmmError {
  public:
    GuestCrash(const Vcpu& vcpu, GuestMemory& memory, const RingChoice& ring, bool verbose);
};

} // namespace vmm
