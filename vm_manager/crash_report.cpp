#include "crash_report.hpp"

#include "guest_layout.hpp"

#include <cstdio>
#include <sstream>

namespace vmm {

namespace {

std::string hex(uint64_t value)
{
    char text[24];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
    return text;
}

// What happened, in one line, from the exit reason and its kvm_run fields.
std::string what_happened(const kvm_run& run)
{
    switch (run.exit_reason) {
    case KVM_EXIT_SHUTDOWN:
        return "the guest crashed (KVM_EXIT_SHUTDOWN, a triple fault): it raised an exception "
               "and boot.asm installs no handler for exceptions";
    case KVM_EXIT_FAIL_ENTRY:
        return "KVM could not enter the guest (KVM_EXIT_FAIL_ENTRY, hardware reason " +
               hex(run.fail_entry.hardware_entry_failure_reason) + "): the vCPU's state is invalid";
    case KVM_EXIT_INTERNAL_ERROR:
        return "KVM failed inside the guest (KVM_EXIT_INTERNAL_ERROR, suberror " +
               std::to_string(run.internal.suberror) +
               (run.internal.suberror == KVM_INTERNAL_ERROR_EMULATION
                    ? ": KVM could not emulate an instruction)"
                    : ")");
    case KVM_EXIT_MMIO:
        return std::string("the guest ") + (run.mmio.is_write ? "wrote to " : "read from ") +
               hex(run.mmio.phys_addr) + ", which is not guest memory (KVM_EXIT_MMIO)";
    case KVM_EXIT_IO:
        return "the guest used I/O port " + hex(run.io.port) +
               " (KVM_EXIT_IO), but this machine has no devices";
    default:
        return "the guest stopped with an exit this VMM does not handle: " +
               exit_reason_name(run.exit_reason);
    }
}

std::string register_dump(const Vcpu& vcpu, GuestMemory& memory)
{
    const kvm_regs& r = vcpu.regs();
    const kvm_sregs s = vcpu.get_sregs();
    std::ostringstream dump;
    dump << "  RIP " << hex(r.rip) << "  RSP " << hex(r.rsp) << "  RFLAGS " << hex(r.rflags)
         << "  CPL " << (s.cs.selector & 3) << " (CS " << hex(s.cs.selector) << ")\n"
         << "  RAX " << hex(r.rax) << "  RDI " << hex(r.rdi) << "  RSI " << hex(r.rsi) << "  RDX "
         << hex(r.rdx) << "\n"
         << "  CR0 " << hex(s.cr0) << "  CR2 " << hex(s.cr2) << " (last page-fault address)  CR3 "
         << hex(s.cr3) << "  CR4 " << hex(s.cr4) << "  EFER " << hex(s.efer) << "\n"
         << "  bytes at RIP:";
    // Virtual == physical under the identity map; in real mode, add the CS base.
    const uint64_t rip = (s.cr0 & 1) ? r.rip : s.cs.base + r.rip;
    if (std::optional<std::span<std::byte>> code = memory.range(rip, 16)) {
        char byte_text[4];
        for (std::byte b : *code) {
            std::snprintf(byte_text, sizeof byte_text, " %02x", static_cast<unsigned>(b));
            dump << byte_text;
        }
    } else {
        dump << " (outside guest memory)";
    }
    return dump.str();
}

std::string hint(const kvm_regs& r)
{
    if (r.rip >= layout::kBootImage && r.rip < layout::kBootImageEnd) {
        return "hint: RIP is inside the boot image: look at vm_src/src/boot.asm "
               "(ndisasm -o 0x8000 build/vm_src/boot.bin)";
    }
    return "hint: RIP is in the program: find the instruction with objdump -d on it; "
           "CR2 is the address a page fault was about";
}

std::string describe(const Vcpu& vcpu, GuestMemory& memory, const RingChoice& ring, bool verbose)
{
    const kvm_run& run = vcpu.run_state();
    if (run.exit_reason == KVM_EXIT_SHUTDOWN && ring.ring == 3 && ring.hypervisor_is_pvm) {
        std::string line = "the guest triple-faulted in ring 3: this machine's KVM (PVM) cannot "
                           "switch from ring 3 to ring 0 through syscall; run without --ring 3 "
                           "to use ring 0";
        return verbose ? line + "\n" + register_dump(vcpu, memory) : line;
    }
    return what_happened(run) + "\n" + register_dump(vcpu, memory) + "\n" + hint(vcpu.regs());
}

} // namespace

GuestCrash::GuestCrash(const Vcpu& vcpu, GuestMemory& memory, const RingChoice& ring, bool verbose)
    : VmmError(describe(vcpu, memory, ring, verbose))
{
}

} // namespace vmm
