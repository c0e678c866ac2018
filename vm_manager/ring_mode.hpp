// ring_mode.hpp: which privilege level the program runs at.
//
// On hardware-assisted KVM (Intel VT-x, AMD-V) the program runs in ring 3,
// user mode, and each `syscall` enters ring 0, where boot.asm's stub runs
// `hlt`: the classic path of an operating system.
//
// Some hypervisors cannot switch rings that way. PVM (the kvm_pvm module)
// runs guests without hardware virtualization, and there a `syscall` from
// ring 3 reaches LSTAR still in ring 3, where `hlt` faults. On such a KVM the
// program runs in ring 0, next to the stub: same system calls, same trace.
#pragma once

#include <optional>
#include <string>

namespace vmm {

struct RingChoice {
    int ring;               // 0 or 3
    std::string reason;     // why, for --verbose
    bool hypervisor_is_pvm; // this KVM cannot run the ring-3 path
};

// `requested` is --ring, if given; otherwise the choice depends on the KVM module.
RingChoice choose_ring(std::optional<int> requested);

} // namespace vmm
