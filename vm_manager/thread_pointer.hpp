// thread_pointer.hpp: arch_prctl(ARCH_SET_FS), the program's thread pointer.
//
// An x86-64 Linux thread finds its own data (errno, the stack-protector
// canary at %fs:0x28, thread-local variables) through the base of its FS
// segment, the thread pointer. The C library sets it at start-up with
// arch_prctl(ARCH_SET_FS, address), before main(). Until then the FS base is
// 0 and page 0 stands in for the thread area (guest_layout.hpp), so that a VMM
// that ignores arch_prctl still runs musl programs.
#pragma once

#include "kvm.hpp"

#include <cstdint>

namespace vmm {

// arch_prctl(ARCH_SET_FS, address) as Linux does it: the vCPU's FS base
// becomes `address` when it resumes, and the program leaves the start-up
// address space for its own, where page 0 is not mapped (page_tables.hpp):
// from then on a NULL pointer faults, as on Linux. Returns 0, or -EPERM for an
// address outside user space, as Linux does.
int64_t set_thread_pointer(Vcpu& vcpu, uint64_t address);

} // namespace vmm
