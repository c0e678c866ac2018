#include "thread_pointer.hpp"

#include "guest_layout.hpp"
#include "user_memory.hpp"

#include <cerrno>

namespace vmm {

int64_t set_thread_pointer(Vcpu& vcpu, uint64_t address)
{
    // Linux refuses a thread pointer at or above the end of user space.
    if (address >= kUserSpaceEnd) {
        return -EPERM;
    }
    kvm_sregs& sregs = vcpu.sregs();
    sregs.fs.base = address;
    // A new CR3 is a new address space: the vCPU forgets the translations it
    // cached (its TLB), as a real CPU does on `mov cr3`. KVM does the same when
    // it loads a CR3 that differs from the current one (it keeps the cache when
    // the value is the same, so clearing page 0's entry in place would not be
    // enough: the vCPU could still use the old translation).
    // (The start-up address space has two CR3 values: see PageTableEditor::flush().)
    if (sregs.cr3 == layout::kStartupPml4 || sregs.cr3 == layout::kStartupPml4Twin) {
        sregs.cr3 = layout::kProgramPml4;
    }
    vcpu.mark_sregs_dirty();
    return 0;
}

} // namespace vmm
