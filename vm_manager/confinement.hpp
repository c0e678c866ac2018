// confinement.hpp: what the VMM process may still do once the guest runs.
//
// The guest is untrusted: every value it hands the VMM is checked, but a bug
// in a handler could still turn a guest's request into a host system call it
// should never make. So, once the machine is built, the VMM installs a
// seccomp filter (seccomp(2), via libseccomp) that allows what a correct VMM
// of any style needs once the guest runs: the vCPU's ioctls (KVM_RUN, its
// registers read and written either way), the ordinary file and file-system
// calls a handler forwards, time, memory, signals, threads. What no handler
// needs (execve, fork, sockets, ptrace, mount, kill of another process, the
// ioctls that build a machine, ...) stops the VMM with a message naming the
// call: "the seccomp filter stopped socket(2)".
//
// How much the guest may write is GuestFiles' business (write_limits.hpp): a
// limit on the process, such as RLIMIT_FSIZE, would also cut the VMM's trace.
#pragma once

namespace vmm {

// Call once, after set-up and before the run loop. With seccomp false, it
// does nothing but say so (--no-seccomp, for debugging).
void confine_vmm(bool seccomp);

} // namespace vmm
