#include "int3_hit.hpp"

#include "exception_return.hpp"

namespace vmm {

std::optional<uint64_t> planted_int3_hit(Vcpu& vcpu, GuestMemory& memory,
                                         const LoadedBootImage& boot,
                                         const Breakpoints& breakpoints)
{
    switch (vcpu.exit_reason()) {
    case KVM_EXIT_DEBUG: {
        const kvm_debug_exit_arch& debug = vcpu.run_state().debug.arch;
        if (debug.exception == kBreakpointVector && breakpoints.is_int3(debug.pc)) {
            return debug.pc;
        }
        return std::nullopt;
    }
    case KVM_EXIT_INTERNAL_ERROR:
        if (vcpu.run_state().internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
            breakpoints.is_int3(vcpu.regs().rip)) {
            return vcpu.regs().rip;
        }
        return std::nullopt;
    case KVM_EXIT_IO: {
        // #BP is a trap: the CPU pushed the address past the int3. Only the
        // int3 at the address before it can have raised this #BP (a 2-byte
        // `int 3` ending there would need a 3 where the 0xCC is).
        const std::optional<ExceptionFrame> frame = reported_exception(vcpu, memory, boot);
        if (frame && frame->vector == kBreakpointVector && breakpoints.is_int3(frame->rip - 1) &&
            return_from_exception(vcpu, memory, *frame, frame->rip - 1)) {
            return frame->rip - 1;
        }
        return std::nullopt;
    }
    default:
        return std::nullopt;
    }
}

} // namespace vmm
