// confinement.hpp: what the VMM process may still do once the guest runs.
//
// The guest is untrusted: every value it hands the VMM is checked, but a bug
// in a handler could still turn a guest's request into a host system call it
// should never make. So, once the machine is built, the VMM:
//   - limits the size of any file it writes (RLIMIT_FSIZE: a write past it
//     fails with EFBIG instead of filling the disk), and
//   - installs a seccomp filter (seccomp(2), via libseccomp) that allows what
//     a correct VMM of any style needs once the guest runs: the vCPU's ioctls
//     (KVM_RUN, its registers read and written either way), the ordinary file
//     and file-system calls a handler forwards, time, memory, signals, threads.
//     What no handler needs (execve, fork, sockets, ptrace, mount, kill of
//     another process, the ioctls that build a machine, ...) stops the VMM
//     with a message naming the call: "the seccomp filter stopped socket(2)".
#pragma once

#include <cstdint>

namespace vmm {

inline constexpr uint64_t kMaxGuestFileSize = 64ULL << 20; // 64 MiB

// Call once, after set-up and before the run loop. With seccomp false, only
// the file-size limit applies (--no-seccomp, for debugging).
void confine_vmm(bool seccomp);

} // namespace vmm
