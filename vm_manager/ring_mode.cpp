#include "ring_mode.hpp"

#include <sys/stat.h>

namespace vmm {

RingChoice choose_ring(std::optional<int> requested)
{
    // A loaded kernel module shows up as a directory in /sys/module.
    struct stat info;
    const bool pvm = ::stat("/sys/module/kvm_pvm", &info) == 0;
    if (requested) {
        return {*requested, "ring " + std::to_string(*requested) + ": chosen with --ring", pvm};
    }
    if (pvm) {
        return {0,
                "ring 0: /dev/kvm is PVM (kvm_pvm), which cannot switch from ring 3 to ring 0 "
                "through syscall, so the program runs in ring 0",
                true};
    }
    return {3,
            "ring 3: hardware-assisted KVM; the program runs in user mode and each syscall "
            "enters ring 0",
            false};
}

} // namespace vmm
