// Unit tests for arch_prctl(ARCH_SET_FS): the FS base, and the move from the
// start-up address space to the program's own, on a vCPU without KVM.
#include "guest_layout.hpp"
#include "thread_pointer.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace {

using namespace vmm::layout;

class ThreadPointerTest : public testing::Test {
  protected:
    void SetUp() override { vcpu.sregs().cr3 = kStartupPml4; }

    kvm_run run{};
    vmm::Vcpu vcpu = vmm::Vcpu::without_kvm(run);
};

TEST_F(ThreadPointerTest, SetsTheFsBaseAndLeavesTheStartupAddressSpace)
{
    EXPECT_EQ(vmm::set_thread_pointer(vcpu, 0x404138), 0);
    EXPECT_EQ(vcpu.sregs().fs.base, 0x404138u);
    EXPECT_EQ(vcpu.sregs().cr3, kProgramPml4) << "page 0 must be unmapped from now on";
    EXPECT_TRUE(run.kvm_dirty_regs & KVM_SYNC_X86_SREGS) << "KVM must load them at KVM_RUN";
}

TEST_F(ThreadPointerTest, LeavesTheStartupAddressSpaceFromItsTwinToo)
{
    vcpu.sregs().cr3 = kStartupPml4Twin; // after a flush (PageTableEditor::flush())
    EXPECT_EQ(vmm::set_thread_pointer(vcpu, 0x404138), 0);
    EXPECT_EQ(vcpu.sregs().cr3, kProgramPml4);
}

TEST_F(ThreadPointerTest, ASecondCallOnlyMovesTheFsBase)
{
    vmm::set_thread_pointer(vcpu, 0x404138);
    EXPECT_EQ(vmm::set_thread_pointer(vcpu, 0x7ff000), 0);
    EXPECT_EQ(vcpu.sregs().fs.base, 0x7ff000u);
    EXPECT_EQ(vcpu.sregs().cr3, kProgramPml4);
}

TEST_F(ThreadPointerTest, LeavesAnAddressSpaceOfTheProgramsOwnAlone)
{
    vcpu.sregs().cr3 = 0x600000; // a ring-0 program may load its own page tables
    vmm::set_thread_pointer(vcpu, 0x404138);
    EXPECT_EQ(vcpu.sregs().cr3, 0x600000u);
}

TEST_F(ThreadPointerTest, RefusesAnAddressOutsideUserSpaceAsLinuxDoes)
{
    for (uint64_t address : {uint64_t{0x7ffffffff000}, uint64_t{1} << 47, UINT64_MAX}) {
        EXPECT_EQ(vmm::set_thread_pointer(vcpu, address), -EPERM) << address;
    }
    EXPECT_EQ(vcpu.sregs().fs.base, 0u);
    EXPECT_EQ(vcpu.sregs().cr3, kStartupPml4);
    EXPECT_EQ(run.kvm_dirty_regs, 0u);
    EXPECT_EQ(vmm::set_thread_pointer(vcpu, 0x7fffffffefff), 0) << "the last user address";
}

} // namespace
