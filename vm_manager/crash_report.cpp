#include "crash_report.hpp"

#include "cpu_state.hpp"
#include "exception_report.hpp"
#include "guest_layout.hpp"
#include "hex.hpp"
#include "opcodes.hpp"

#include <array>
#include <cstdio>
#include <cstring>
#include <optional>
#include <sstream>

namespace vmm {

namespace {

// Where the program was when it stopped: from the exception frame if there is
// one, otherwise from the vCPU's registers.
struct Location {
    uint64_t rip;
    uint64_t rsp;
    uint64_t rflags;
    uint64_t cs;
};

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

// What a page fault's address was, after "; ": what is there, and why the
// access failed when the page is mapped.
std::string fault_address(uint64_t address, uint64_t error_code, const MemoryMapInputs& map)
{
    // Page-fault error code (SDM vol. 3A, 4.7): bit 0 the page was present
    // (a protection violation), bit 1 a write, bit 4 an instruction fetch.
    const bool present = error_code & 1;
    const bool write = error_code & 2;
    const bool fetch = error_code & 16;
    if (address >= map.memory_size) {
        return "the address is past the end of guest memory (" + hex(map.memory_size) + ")";
    }
    const std::optional<MemoryArea> area = area_of(map, address);
    if (area && area->kind == MemoryArea::Kind::kThreadArea) {
        return fetch ? "a call through a NULL function pointer (page 0 holds no code)"
                     : "a NULL pointer: page 0 is not mapped once the program has set its "
                       "thread pointer, as on Linux";
    }
    if (!area) {
        const uint64_t stack = map.memory_size - layout::kStackReserve;
        if (address < stack && stack - address <= 64 * layout::KiB) {
            return "the address is just below the stack (" + hex(stack) + "): a stack overflow?";
        }
        return "nothing is mapped there";
    }
    std::string text = "the address is in " + area_text(*area);
    if (present && write && !area->access.write) {
        text += ", which is read-only";
    } else if (present && fetch && !area->access.execute) {
        text += ", which holds no code (not executable)";
    } else if (present && !area->access.user) {
        text += ", which only ring 0 may use";
    }
    return text;
}

// One line, e.g. "guest page fault: write to 0x40000000 (not present) at RIP 0x401234 in ring 0".
std::string describe_exception(const ExceptionFrame& frame, uint64_t cr2,
                               const MemoryMapInputs& map)
{
    const std::string where = " at RIP " + hex(frame.rip) + " " + privilege(frame.cs);
    if (frame.vector == 14) {
        const std::string access = frame.error_code & 16  ? "instruction fetch from "
                                   : frame.error_code & 2 ? "write to "
                                                          : "read from ";
        return "guest page fault: " + access + hex(cr2) +
               (frame.error_code & 1 ? " (protection violation)" : " (not present)") + where +
               "; " + fault_address(cr2, frame.error_code, map);
    }
    std::string line = "guest " + exception_name(frame.vector);
    if (has_error_code(frame.vector)) {
        line += " (error code " + hex(frame.error_code) + ")";
    }
    return line + where;
}

// What happened, in one line, from the exit reason and its kvm_run fields.
std::string what_happened(const Vcpu& vcpu, const CrashContext& context)
{
    const kvm_run& run = vcpu.run_state();
    switch (run.exit_reason) {
    case KVM_EXIT_HLT:
        return "the guest executed hlt at " + hex(vcpu.regs().rip - 1) +
               ", outside boot.asm's system-call entry point (" +
               hex(context.map.boot.syscall_entry) + "): it is not a system call";
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
        if (run.io.port == layout::kExceptionPort) {
            return "the guest used I/O port " + hex(run.io.port) +
                   " (KVM_EXIT_IO), boot.asm's exception port, but not from boot.asm's exception "
                   "report with a frame that makes sense: a forged report, refused";
        }
        return "the guest used I/O port " + hex(run.io.port) +
               " (KVM_EXIT_IO), but this machine has no devices";
    default:
        return "the guest stopped with an exit this VMM does not handle: " +
               exit_reason_name(run.exit_reason);
    }
}

// "FS 0x0 (base 0x404100)"
std::string segment(const char* name, const kvm_segment& s, bool with_base)
{
    return std::string(name) + " " + hex(s.selector) +
           (with_base ? " (base " + hex(s.base) + ")" : "");
}

std::string register_dump(const Vcpu& vcpu, const CrashContext& context, const Location& at)
{
    const kvm_regs& r = vcpu.regs();
    const kvm_sregs& s = vcpu.sregs();
    std::ostringstream dump;
    char cell[40];
    const auto row = [&](std::initializer_list<std::pair<const char*, uint64_t>> registers) {
        std::string line = " ";
        for (const auto& [name, value] : registers) {
            std::snprintf(cell, sizeof cell, " %-3s %-18s", name, hex(value).c_str());
            line += cell;
        }
        dump << line.substr(0, line.find_last_not_of(' ') + 1) << "\n";
    };
    dump << "  RIP " << hex(at.rip) << "  RSP " << hex(at.rsp) << "  RFLAGS " << hex(at.rflags)
         << "  CPL " << (at.cs & 3) << " (CS " << hex(at.cs) << ")\n";
    row({{"RAX", r.rax}, {"RBX", r.rbx}, {"RCX", r.rcx}, {"RDX", r.rdx}});
    row({{"RSI", r.rsi}, {"RDI", r.rdi}, {"RBP", r.rbp}, {"R8", r.r8}});
    row({{"R9", r.r9}, {"R10", r.r10}, {"R11", r.r11}, {"R12", r.r12}});
    row({{"R13", r.r13}, {"R14", r.r14}, {"R15", r.r15}});
    dump << "  " << segment("SS", s.ss, false) << "  " << segment("DS", s.ds, false) << "  "
         << segment("ES", s.es, false) << "  " << segment("FS", s.fs, true) << "  "
         << segment("GS", s.gs, true) << "\n"
         << "  CR0 " << hex(s.cr0) << "  CR2 " << hex(s.cr2) << " (last page-fault address)  CR3 "
         << hex(s.cr3) << "  CR4 " << hex(s.cr4) << "  EFER " << hex(s.efer) << "\n"
         << "  bytes at RIP:";
    if (std::optional<std::span<std::byte>> code =
            context.memory.range(code_address(s, at.rip), 16)) {
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

// Where RIP is, and what to look at there.
std::string where_rip_is(uint64_t rip, const MemoryMapInputs& map)
{
    const std::optional<MemoryArea> area = area_of(map, rip);
    if (!area) {
        return "hint: RIP " + hex(rip) +
               (rip >= map.memory_size ? " is outside guest memory" : " is in unmapped memory") +
               ": the program jumped to a wild address (a corrupted return address or function "
               "pointer?)";
    }
    switch (area->kind) {
    case MemoryArea::Kind::kSegment:
        return "hint: RIP is in the program, in " + area_text(*area) +
               ": find the instruction with objdump -d on it";
    case MemoryArea::Kind::kBootImage:
        return "hint: RIP is in the boot code: look at vm_src/src/boot.asm (ndisasm -o " +
               hex(map.boot.address) + " build/vm_src/boot.bin)";
    case MemoryArea::Kind::kThreadArea:
        return "hint: RIP is in page 0: the program called a NULL function pointer";
    default:
        return "hint: RIP is in " + area_text(*area) +
               ", which holds no code: the program jumped to a wild address (a corrupted return "
               "address or function pointer?)";
    }
}

// The guest executed `hlt` at `address` inside the program: say why musl does that.
std::string hlt_in_program(uint64_t address, const kvm_regs& r, const CrashContext& context)
{
    const std::optional<MemoryArea> area = area_of(context.map, address);
    const std::optional<std::span<std::byte>> byte = context.memory.range(address, 1);
    if (!area || area->kind != MemoryArea::Kind::kSegment || !byte ||
        static_cast<uint8_t>((*byte)[0]) != kHltOpcode) {
        return "";
    }
    const auto result = static_cast<int64_t>(r.rax);
    return "\nhint: the program executed hlt, which is not a system call: musl's a_crash() does "
           "that to stop a program that cannot go on. Its start-up does so when "
           "arch_prctl(ARCH_SET_FS) fails" +
           (result < 0 && result >= -4095
                ? " (RAX holds the last result, " + std::to_string(result) +
                      (result == -ENOSYS ? ": -ENOSYS" : "") + ")"
                : std::string()) +
           ": handle arch_prctl, with set_thread_pointer() or by returning 0";
}

std::string describe(const Vcpu& vcpu, const CrashContext& context)
{
    const kvm_run& run = vcpu.run_state();
    const kvm_regs& r = vcpu.regs();
    const std::optional<ExceptionFrame> exception =
        reported_exception(vcpu, context.memory, context.map.boot);
    const Location at =
        exception ? Location{exception->rip, exception->rsp, exception->rflags, exception->cs}
                  : Location{r.rip, r.rsp, r.rflags, vcpu.sregs().cs.selector};
    const RingChoice& ring = context.ring;
    // On PVM a ring-3 syscall reaches boot.asm's stub still in ring 3, where
    // `hlt` raises #GP: say that in one line instead of dumping registers.
    const std::optional<MemoryArea> rip_area = area_of(context.map, at.rip);
    const bool stub_faulted_in_ring_3 = exception && (exception->cs & 3) == 3 && rip_area &&
                                        rip_area->kind == MemoryArea::Kind::kBootImage;
    if (ring.ring == 3 && ring.hypervisor_is_pvm &&
        (stub_faulted_in_ring_3 || run.exit_reason == KVM_EXIT_SHUTDOWN)) {
        const std::string line =
            "the program's first system call failed in ring 3: this machine's KVM (PVM) cannot "
            "switch from ring 3 to ring 0 through syscall; run without --ring 3 to use ring 0";
        return context.verbose ? line + "\n" + register_dump(vcpu, context, at) : line;
    }
    const std::string line = exception
                                 ? describe_exception(*exception, vcpu.sregs().cr2, context.map)
                                 : what_happened(vcpu, context);
    std::string advice = where_rip_is(at.rip, context.map);
    if (run.exit_reason == KVM_EXIT_HLT) {
        advice += hlt_in_program(r.rip - 1, r, context); // KVM reports RIP past the `hlt`
    } else if (exception && exception->vector == 13) {
        advice += hlt_in_program(at.rip, r, context); // in ring 3, `hlt` is privileged: #GP
    } else if (exception && exception->vector == kBreakpointVector) {
        // #BP is a trap: the CPU pushed the address after the int3.
        advice += "\nhint: the guest executed int3 at " + hex(at.rip - 1) +
                  ", a breakpoint instruction, where no debugger had put one";
    }
    const std::optional<std::span<std::byte>> at_rip = context.memory.range(r.rip, 1);
    const bool int3_at_rip = at_rip && static_cast<uint8_t>((*at_rip)[0]) == kInt3Opcode;
    if (run.exit_reason == KVM_EXIT_INTERNAL_ERROR && int3_at_rip) {
        // KVM's emulator cannot run int3 outside real mode: it gives up on it.
        advice += "\nhint: the instruction is int3 (0xcc), a breakpoint instruction, where no "
                  "debugger had put one; KVM's instruction emulator cannot run it outside real "
                  "mode";
    } else if (run.exit_reason == KVM_EXIT_INTERNAL_ERROR && ring.hypervisor_is_pvm) {
        // PVM emulates ring-0 guest code instruction by instruction, and its
        // emulator lacks some instructions, SSE2 integer ones among them.
        advice += "\nhint: on this machine's KVM (PVM) the program runs in ring 0, where KVM "
                  "emulates each instruction and cannot emulate some SSE instructions; the same "
                  "program runs with hardware-assisted KVM, or in the emulated machine "
                  "(make run-emulated)";
    }
    if (exception && ring.ring == 0) {
        advice += "\nnote: the program runs in ring 0 here, as boot.asm does: it could have "
                  "written this report itself, so its details come from the guest";
    }
    return line + "\n" + register_dump(vcpu, context, at) + "\n" + advice;
}

} // namespace

GuestCrash::GuestCrash(const Vcpu& vcpu, const CrashContext& context)
    : VmmError(describe(vcpu, context))
{
}

void check_system_call(const Vcpu& vcpu, const CrashContext& context)
{
    if (vcpu.exit_reason() == KVM_EXIT_HLT &&
        vcpu.regs().rip != context.map.boot.syscall_entry + 1) {
        throw GuestCrash(vcpu, context);
    }
}

} // namespace vmm
