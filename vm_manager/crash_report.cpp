#include "crash_report.hpp"

#include "guest_layout.hpp"
#include "hex.hpp"

#include <array>
#include <cstdio>
#include <cstring>
#include <optional>
#include <sstream>

namespace vmm {

namespace {

// What boot.asm's exception stubs leave on the exception stack (see boot.asm).
struct ExceptionFrame {
    uint64_t vector;
    uint64_t error_code;
    uint64_t rip; // the rest is what the CPU pushed: where the program was
    uint64_t cs;
    uint64_t rflags;
    uint64_t rsp;
    uint64_t ss;
};

// Where the program was when it stopped: from the exception frame if there is
// one, otherwise from the vCPU's registers.
struct Location {
    uint64_t rip;
    uint64_t rsp;
    uint64_t rflags;
    uint64_t cs;
};

// The exception boot.asm reported through its I/O port, if that is what this exit is.
std::optional<ExceptionFrame> reported_exception(const Vcpu& vcpu, GuestMemory& memory)
{
    const kvm_run& run = vcpu.run_state();
    if (run.exit_reason != KVM_EXIT_IO || run.io.port != layout::kExceptionPort ||
        run.io.direction != KVM_EXIT_IO_OUT) {
        return std::nullopt;
    }
    std::optional<std::span<std::byte>> bytes =
        memory.range(vcpu.regs().rsp, sizeof(ExceptionFrame));
    if (!bytes) {
        return std::nullopt; // the guest wrote to the port itself, with a wild stack
    }
    ExceptionFrame frame;
    std::memcpy(&frame, bytes->data(), sizeof frame);
    if (frame.vector >= 32) {
        return std::nullopt;
    }
    return frame;
}

std::string exception_name(uint64_t vector)
{
    static const std::array<const char*, 32> names = {
        "divide error (#DE)",
        "debug exception (#DB)",
        "non-maskable interrupt",
        "breakpoint (#BP, int3)",
        "overflow (#OF)",
        "bound range exceeded (#BR)",
        "invalid opcode (#UD)",
        "device not available (#NM): x87/SSE used while disabled",
        "double fault (#DF)",
        "coprocessor segment overrun",
        "invalid TSS (#TS)",
        "segment not present (#NP)",
        "stack-segment fault (#SS)",
        "general protection fault (#GP)",
        "page fault (#PF)",
        "reserved exception 15",
        "x87 floating-point error (#MF)",
        "alignment check (#AC)",
        "machine check (#MC)",
        "SIMD floating-point exception (#XM)",
        "virtualization exception (#VE)",
        "control protection exception (#CP)",
    };
    return vector < names.size() && names[vector] != nullptr
               ? names[vector]
               : "reserved exception " + std::to_string(vector);
}

std::string privilege(uint64_t cs)
{
    return (cs & 3) == 3 ? "in user mode (ring 3)" : "in ring 0";
}

// One line, e.g. "guest page fault: write to 0x40000000 (not present) at RIP 0x401234 in ring 0".
std::string describe_exception(const ExceptionFrame& frame, uint64_t cr2, uint64_t memory_size)
{
    const std::string where = " at RIP " + hex(frame.rip) + " " + privilege(frame.cs);
    if (frame.vector == 14) {
        // Page-fault error code (SDM vol. 3A, 4.7): bit 0 the page was present
        // (a protection violation), bit 1 a write, bit 4 an instruction fetch.
        const bool present = frame.error_code & 1;
        const bool write = frame.error_code & 2;
        const bool fetch = frame.error_code & 16;
        const std::string access = fetch   ? "instruction fetch from "
                                   : write ? "write to "
                                           : "read from ";
        std::string line = "guest page fault: " + access + hex(cr2) +
                           (present ? " (protection violation)" : " (not present)") + where;
        if (cr2 >= memory_size) {
            line += "; the address is past the end of guest memory (" + hex(memory_size) + ")";
        }
        return line;
    }
    std::string line = "guest " + exception_name(frame.vector);
    if (frame.vector == 8 || (frame.vector >= 10 && frame.vector <= 13) || frame.vector == 17 ||
        frame.vector == 21) {
        line += " (error code " + hex(frame.error_code) + ")";
    }
    return line + where;
}

// What happened, in one line, from the exit reason and its kvm_run fields.
std::string what_happened(const kvm_run& run)
{
    switch (run.exit_reason) {
    case KVM_EXIT_SHUTDOWN:
        return "the guest crashed (KVM_EXIT_SHUTDOWN, a triple fault): an exception occurred "
               "while the CPU could not deliver exceptions";
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

std::string register_dump(const Vcpu& vcpu, const kvm_sregs& s, GuestMemory& memory,
                          const Location& at)
{
    const kvm_regs& r = vcpu.regs();
    std::ostringstream dump;
    dump << "  RIP " << hex(at.rip) << "  RSP " << hex(at.rsp) << "  RFLAGS " << hex(at.rflags)
         << "  CPL " << (at.cs & 3) << " (CS " << hex(at.cs) << ")\n"
         << "  RAX " << hex(r.rax) << "  RDI " << hex(r.rdi) << "  RSI " << hex(r.rsi) << "  RDX "
         << hex(r.rdx) << "\n"
         << "  CR0 " << hex(s.cr0) << "  CR2 " << hex(s.cr2) << " (last page-fault address)  CR3 "
         << hex(s.cr3) << "  CR4 " << hex(s.cr4) << "  EFER " << hex(s.efer) << "\n"
         << "  bytes at RIP:";
    // Virtual == physical under the identity map; in real mode, add the CS base.
    const uint64_t rip = (s.cr0 & 1) ? at.rip : s.cs.base + at.rip;
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

std::string hint(uint64_t rip)
{
    if (rip < layout::kBootImageEnd) {
        return "hint: RIP is in the boot code: look at vm_src/src/boot.asm "
               "(ndisasm -o 0x8000 build/vm_src/boot.bin)";
    }
    return "hint: RIP is in the program: find the instruction with objdump -d on it";
}

std::string describe(const Vcpu& vcpu, GuestMemory& memory, const RingChoice& ring, bool verbose)
{
    const kvm_run& run = vcpu.run_state();
    const kvm_regs& r = vcpu.regs();
    const kvm_sregs sregs = vcpu.get_sregs(); // one KVM_GET_SREGS for the whole report
    const std::optional<ExceptionFrame> exception = reported_exception(vcpu, memory);
    const Location at =
        exception ? Location{exception->rip, exception->rsp, exception->rflags, exception->cs}
                  : Location{r.rip, r.rsp, r.rflags, sregs.cs.selector};
    // On PVM a ring-3 syscall reaches boot.asm's stub still in ring 3, where
    // `hlt` raises #GP: say that in one line instead of dumping registers.
    const bool stub_faulted_in_ring_3 =
        exception && (exception->cs & 3) == 3 && exception->rip < layout::kBootImageEnd;
    if (ring.ring == 3 && ring.hypervisor_is_pvm &&
        (stub_faulted_in_ring_3 || run.exit_reason == KVM_EXIT_SHUTDOWN)) {
        const std::string line =
            "the program's first system call failed in ring 3: this machine's KVM (PVM) cannot "
            "switch from ring 3 to ring 0 through syscall; run without --ring 3 to use ring 0";
        return verbose ? line + "\n" + register_dump(vcpu, sregs, memory, at) : line;
    }
    std::string line;
    if (exception) {
        line = describe_exception(*exception, sregs.cr2, memory.size());
    } else {
        line = what_happened(run);
    }
    std::string advice = hint(at.rip);
    if (run.exit_reason == KVM_EXIT_INTERNAL_ERROR && ring.hypervisor_is_pvm) {
        // PVM emulates ring-0 guest code instruction by instruction, and its
        // emulator lacks some instructions, SSE2 integer ones among them.
        advice += "\nhint: on this machine's KVM (PVM) the program runs in ring 0, where KVM "
                  "emulates each instruction and cannot emulate some SSE instructions; the same "
                  "program runs with hardware-assisted KVM, or in the emulated machine "
                  "(make run-emulated)";
    }
    return line + "\n" + register_dump(vcpu, sregs, memory, at) + "\n" + advice;
}

} // namespace

GuestCrash::GuestCrash(const Vcpu& vcpu, GuestMemory& memory, const RingChoice& ring, bool verbose)
    : VmmError(describe(vcpu, memory, ring, verbose))
{
}

} // namespace vmm
