#include "memory_calls.hpp"

#include <sys/mman.h>

#include <cerrno>

namespace vmm {

int64_t sys_brk(Call& call)
{
    return static_cast<int64_t>(call.program_memory.brk(call.vcpu, call.argument[0]));
}

int64_t sys_mmap(Call& call)
{
    const uint64_t flags = call.argument[3];
    int file = -1;
    if (!(flags & MAP_ANONYMOUS)) {
        // A file mapping: the guest's fd stands for a host fd, read by ProgramMemory.
        file = call.files.host_fd(call.argument[4]);
        if (file < 0) {
            return -EBADF;
        }
    }
    return call.program_memory.map(call.vcpu, call.argument[0], call.argument[1], call.argument[2],
                                   flags, file, call.argument[5]);
}

int64_t sys_munmap(Call& call)
{
    return call.program_memory.unmap(call.vcpu, call.argument[0], call.argument[1]);
}

int64_t sys_mprotect(Call& call)
{
    return call.program_memory.protect(call.vcpu, call.argument[0], call.argument[1],
                                       call.argument[2]);
}

int64_t sys_mremap(Call& call)
{
    return call.program_memory.remap(call.vcpu, call.argument[0], call.argument[1],
                                     call.argument[2], call.argument[3], call.argument[4]);
}

} // namespace vmm
