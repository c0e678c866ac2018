// Unit tests for the CPU's modes as the VMM reads them from its registers.
#include "cpu_state.hpp"

#include <gtest/gtest.h>

namespace {

// The segment registers as boot.asm leaves them in each mode.
kvm_sregs real_mode()
{
    kvm_sregs sregs{};
    sregs.cs.selector = 0x0700;
    sregs.cs.base = 0x7000; // CS * 16
    return sregs;
}

kvm_sregs protected_mode_32()
{
    kvm_sregs sregs{};
    sregs.cr0 = vmm::kCr0Pe;
    sregs.cs.db = 1;
    sregs.cs.base = 0x100000; // boot.asm's is 0; the CPU adds whatever it is
    return sregs;
}

kvm_sregs long_mode_64()
{
    kvm_sregs sregs = protected_mode_32();
    sregs.efer = vmm::kEferLma;
    sregs.cs.db = 0;
    sregs.cs.l = 1;
    return sregs;
}

TEST(CpuStateTest, CodeSizeFollowsTheMode)
{
    EXPECT_EQ(vmm::code_size(real_mode()), 16u);
    EXPECT_EQ(vmm::code_size(protected_mode_32()), 32u);
    EXPECT_EQ(vmm::code_size(long_mode_64()), 64u);
}

TEST(CpuStateTest, CodeAddressAddsCsBaseExceptIn64BitCode)
{
    EXPECT_EQ(vmm::code_address(real_mode(), 0x100), 0x7100u);
    EXPECT_EQ(vmm::code_address(protected_mode_32(), 0x100), 0x100100u);
    EXPECT_EQ(vmm::code_address(long_mode_64(), 0x401000), 0x401000u) << "CS's base is 0 there";
}

} // namespace
