// syscall_names.hpp: the names of Linux's x86-64 system calls, for messages.
//
// The table is the kernel's own list: the build turns each __NR_name of
// asm/unistd_64.h into a SYSCALL(name) line (tools/build.mk), so no name is
// copied by hand and a newer kernel header brings its new calls with it.
#pragma once

#include <cstdint>
#include <string_view>

namespace vmm {

// "write" for 1, "exit_group" for 231; empty for a number that is no x86-64
// system call. Async-signal-safe: it only reads a constant table (the seccomp
// filter's SIGSYS handler uses it).
std::string_view syscall_name(uint64_t number);

} // namespace vmm
