// Unit tests of what a single step does about hlt, syscall and sysret.
#include "single_step.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

std::vector<std::byte> bytes(std::initializer_list<int> values)
{
    std::vector<std::byte> out;
    for (int value : values) {
        out.push_back(static_cast<std::byte>(value));
    }
    return out;
}

TEST(SingleStepTest, TellsTheInstructionsAStepCannotDoAlone)
{
    EXPECT_EQ(vmm::step_kind(bytes({0xf4})), vmm::StepKind::kHlt);
    EXPECT_EQ(vmm::step_kind(bytes({0x0f, 0x05})), vmm::StepKind::kSyscall);
    EXPECT_EQ(vmm::step_kind(bytes({0x48, 0x0f, 0x07})), vmm::StepKind::kSysret); // o64 sysret
    EXPECT_EQ(vmm::step_kind(bytes({0x0f, 0x07})), vmm::StepKind::kSysret);
    EXPECT_EQ(vmm::step_kind(bytes({0x48, 0x89, 0xe7})), vmm::StepKind::kPlain);
    EXPECT_EQ(vmm::step_kind(bytes({0x0f})), vmm::StepKind::kPlain); // cut short
    EXPECT_EQ(vmm::step_kind(bytes({})), vmm::StepKind::kPlain);
}

TEST(SingleStepTest, SysretReturnsToRcxOrEcx)
{
    kvm_regs regs{};
    regs.rcx = 0x1'0040'1a98;
    EXPECT_EQ(vmm::sysret_target(bytes({0x48, 0x0f, 0x07}), regs), 0x1'0040'1a98u);
    EXPECT_EQ(vmm::sysret_target(bytes({0x0f, 0x07}), regs), 0x40'1a98u); // to 32-bit code
}

TEST(SingleStepTest, KvmsTrapFlagLeavesR11)
{
    kvm_run run{};
    vmm::Vcpu vcpu = vmm::Vcpu::without_kvm(run);
    vcpu.regs().r11 = 0x146; // the program's RFLAGS 0x46, and KVM's TF (0x100) for the step
    vmm::forget_step_flag_in_r11(vcpu, 0x46);
    EXPECT_EQ(vcpu.regs().r11, 0x46u);
    EXPECT_EQ(run.kvm_dirty_regs, uint64_t{KVM_SYNC_X86_REGS});

    vcpu.regs().r11 = 0x146; // the program had set TF itself: it stays
    vmm::forget_step_flag_in_r11(vcpu, 0x146);
    EXPECT_EQ(vcpu.regs().r11, 0x146u);
}

} // namespace
