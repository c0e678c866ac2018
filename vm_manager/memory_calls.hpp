// memory_calls.hpp: the guest's memory calls (linux_calls.hpp), carried out
// by ProgramMemory (program_memory.hpp) in the guest's own memory.
#pragma once

#include "linux_call.hpp"

#include <cstdint>

namespace vmm {

int64_t sys_brk(Call& call);      // brk(address)
int64_t sys_mmap(Call& call);     // mmap(address, length, prot, flags, fd, offset)
int64_t sys_munmap(Call& call);   // munmap(address, length)
int64_t sys_mprotect(Call& call); // mprotect(address, length, prot)
int64_t sys_mremap(Call& call);   // mremap(old address, old length, new length, flags, new address)

} // namespace vmm
