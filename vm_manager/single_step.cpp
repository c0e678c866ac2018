#include "single_step.hpp"

#include "opcodes.hpp"

namespace vmm {

namespace {

constexpr uint64_t kTrapFlag = 1u << 8; // RFLAGS.TF

uint8_t byte(std::span<const std::byte> code, std::size_t i)
{
    return i < code.size() ? static_cast<uint8_t>(code[i]) : 0;
}

// A REX prefix (0x40-0x4F) comes first in 64-bit code; W (bit 3) makes
// sysret return to 64-bit code (Intel SDM vol. 2A, 2.2.1).
bool is_rex(uint8_t b)
{
    return (b & 0xf0) == 0x40;
}

} // namespace

StepKind step_kind(std::span<const std::byte> code)
{
    const std::size_t opcode = is_rex(byte(code, 0)) ? 1 : 0;
    if (opcode == 0 && byte(code, 0) == kHltOpcode) {
        return StepKind::kHlt;
    }
    if (byte(code, opcode) == kTwoByteEscape && byte(code, opcode + 1) == kSyscallOpcode) {
        return StepKind::kSyscall;
    }
    if (byte(code, opcode) == kTwoByteEscape && byte(code, opcode + 1) == kSysretOpcode) {
        return StepKind::kSysret;
    }
    return StepKind::kPlain;
}

uint64_t sysret_target(std::span<const std::byte> code, const kvm_regs& regs)
{
    const bool rex_w = is_rex(byte(code, 0)) && (byte(code, 0) & 8) != 0;
    return rex_w ? regs.rcx : regs.rcx & 0xffffffff;
}

void forget_step_flag_in_r11(Vcpu& vcpu, uint64_t rflags_before)
{
    kvm_regs& regs = vcpu.regs();
    if ((rflags_before & kTrapFlag) == 0 && (regs.r11 & kTrapFlag) != 0) {
        regs.r11 &= ~kTrapFlag;
        vcpu.mark_regs_dirty();
    }
}

} // namespace vmm
