#include "exception_report.hpp"

#include "guest_layout.hpp"

#include <cstring>

namespace vmm {

namespace {

// The 64-bit code selectors of boot.asm's GDT: the only ones an exception in
// long mode can come from.
constexpr uint64_t kKernelCs = 0x10;
constexpr uint64_t kUserCs = 0x33;

} // namespace

bool has_error_code(uint64_t vector)
{
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 ||
           vector == 29 || vector == 30;
}

std::optional<ExceptionFrame> reported_exception(const Vcpu& vcpu, GuestMemory& memory,
                                                 const LoadedBootImage& boot)
{
    const kvm_run& run = vcpu.run_state();
    const kvm_regs& r = vcpu.regs();
    // Hardware-assisted KVM reports an `out` with RIP on the instruction, PVM's
    // emulator with RIP past it (`out imm8, al` is 2 bytes long).
    const uint64_t out = boot.exception_report;
    if (run.exit_reason != KVM_EXIT_IO || run.io.port != layout::kExceptionPort ||
        run.io.direction != KVM_EXIT_IO_OUT || (r.rip != out && r.rip != out + 2) ||
        (vcpu.sregs().cs.selector & 3) != 0 || r.rsp != boot.address - sizeof(ExceptionFrame)) {
        return std::nullopt;
    }
    const std::optional<std::span<std::byte>> bytes = memory.range(r.rsp, sizeof(ExceptionFrame));
    if (!bytes) {
        return std::nullopt;
    }
    ExceptionFrame frame;
    std::memcpy(&frame, bytes->data(), sizeof frame);
    const bool makes_sense = frame.vector < 32 && (frame.cs == kKernelCs || frame.cs == kUserCs) &&
                             (frame.rflags & 2) != 0 && // bit 1 of RFLAGS is always 1
                             (has_error_code(frame.vector) || frame.error_code == 0);
    return makes_sense ? std::optional(frame) : std::nullopt;
}

} // namespace vmm
