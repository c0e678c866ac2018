// Unit tests, without KVM, of how the VMM finds a debugger's int3 in each
// KVM's exits, undoes the exception where the guest took it (what iretq
// would do, with descriptors from boot.asm's GDT), and keeps the breakpoints
// themselves: an int3 always, a debug register while one is free.
#include "breakpoints.hpp"
#include "exception_return.hpp"
#include "guest_layout.hpp"
#include "int3_hit.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <array>

namespace {

using namespace vmm::layout;

const vmm::LoadedBootImage& kBoot = kLabBootImage;
const uint64_t kExceptionReport = kLabBootImage.exception_report;
constexpr uint64_t kFrame = kBootImage - 7 * 8; // where boot.asm's stubs leave the frame
constexpr uint64_t kGdt = kBootImage + 0x400;
constexpr uint64_t kMain = 0x401030; // an instruction of the program
constexpr std::byte kInt3{0xcc};
constexpr std::byte kPushRbx{0x53};

class Int3HitTest : public testing::Test {
  protected:
    void SetUp() override
    {
        // boot.asm's GDT, descriptor for descriptor.
        const std::array<uint64_t, 7> gdt = {0,
                                             0x00CF9A000000FFFF,  // 0x08: 32-bit code, ring 0
                                             0x00AF9A000000FFFF,  // 0x10: 64-bit code, ring 0
                                             0x00CF92000000FFFF,  // 0x18: data, ring 0
                                             0x00CFFA000000FFFF,  // 0x20: 32-bit code, ring 3
                                             0x00CFF2000000FFFF,  // 0x28: data, ring 3
                                             0x00AFFA000000FFFF}; // 0x30: 64-bit code, ring 3
        memory.write(kGdt, std::as_bytes(std::span(gdt)), "GDT");
        memory.write(kMain, std::as_bytes(std::span(&kPushRbx, 1)), "code");
        // The vCPU in boot.asm's exception handler: ring 0, and SS null, as
        // the CPU leaves it when an exception takes it from ring 3 to ring 0.
        vcpu.sregs().gdt = {kGdt, sizeof gdt - 1, {}};
        vcpu.sregs().cs = kernel_cs();
        vcpu.sregs().ss = kvm_segment{};
        vcpu.sregs().ss.unusable = 1;
    }

    static kvm_segment kernel_cs()
    {
        kvm_segment cs{};
        cs.selector = 0x10;
        cs.type = 11;
        cs.present = cs.s = cs.l = cs.g = 1;
        cs.limit = 0xffffffff;
        return cs;
    }

    // The exit of boot.asm's report of an exception with this frame.
    void report(std::array<uint64_t, 7> frame)
    {
        memory.write(kFrame, std::as_bytes(std::span(frame)), "frame");
        run.exit_reason = KVM_EXIT_IO;
        run.io.port = kExceptionPort;
        run.io.direction = KVM_EXIT_IO_OUT;
        vcpu.regs().rip = kExceptionReport;
        vcpu.regs().rsp = kFrame;
        vcpu.regs().rflags = 0x2;
        vcpu.sregs().cs = kernel_cs();
    }
    std::optional<uint64_t> hit()
    {
        return vmm::planted_int3_hit(vcpu, memory, kBoot, breakpoints);
    }

    vmm::GuestMemory memory{8 * MiB};
    vmm::Breakpoints breakpoints{memory};
    kvm_run run{};
    vmm::Vcpu vcpu = vmm::Vcpu::without_kvm(run);
};

TEST_F(Int3HitTest, Ring3SelectorsLoadBootAsmsDescriptorsAsIretqWould)
{
    const std::optional<kvm_segment> cs =
        vmm::segment_from_gdt(memory, vcpu.sregs().gdt, 0x33, vmm::SegmentUse::kCode);
    ASSERT_TRUE(cs);
    EXPECT_EQ(cs->selector, 0x33);
    EXPECT_EQ(cs->dpl, 3);
    EXPECT_EQ(cs->type, 11); // execute/read, accessed: the CPU sets "accessed" as it loads it
    EXPECT_TRUE(cs->l && cs->present && cs->s && cs->g && !cs->db);
    EXPECT_EQ(cs->limit, 0xffffffffu);
    EXPECT_EQ(cs->base, 0u);

    const std::optional<kvm_segment> ss =
        vmm::segment_from_gdt(memory, vcpu.sregs().gdt, 0x2b, vmm::SegmentUse::kStack);
    ASSERT_TRUE(ss);
    EXPECT_EQ(ss->dpl, 3);
    EXPECT_EQ(ss->type, 3); // read/write, accessed
    EXPECT_TRUE(ss->db && ss->present && ss->s);
}

TEST_F(Int3HitTest, SelectorsThatIretqWouldRefuseAreRefused)
{
    const kvm_dtable& gdt = vcpu.sregs().gdt;
    using vmm::SegmentUse;
    EXPECT_FALSE(vmm::segment_from_gdt(memory, gdt, 0x2b, SegmentUse::kCode));  // data as code
    EXPECT_FALSE(vmm::segment_from_gdt(memory, gdt, 0x33, SegmentUse::kStack)); // code as stack
    EXPECT_FALSE(vmm::segment_from_gdt(memory, gdt, 0x23, SegmentUse::kCode));  // 32-bit code
    EXPECT_FALSE(vmm::segment_from_gdt(memory, gdt, 0x30, SegmentUse::kCode));  // RPL 0, DPL 3
    EXPECT_FALSE(vmm::segment_from_gdt(memory, gdt, 0x00, SegmentUse::kStack)); // null
    EXPECT_FALSE(vmm::segment_from_gdt(memory, gdt, 0x38, SegmentUse::kStack)); // past the limit
    EXPECT_FALSE(vmm::segment_from_gdt(memory, gdt, 0x2f, SegmentUse::kStack)); // LDT (TI = 1)
}

TEST_F(Int3HitTest, HardwareAssistedKvmReportsTheInt3ItIntercepted)
{
    ASSERT_TRUE(breakpoints.insert_int3(kMain));
    run.exit_reason = KVM_EXIT_DEBUG;
    run.debug.arch.exception = 3;
    run.debug.arch.pc = kMain;
    EXPECT_EQ(hit(), kMain);
    run.debug.arch.pc = kMain + 1;
    EXPECT_FALSE(hit());
}

TEST_F(Int3HitTest, PvmsEmulatorGivesUpOnTheInt3)
{
    ASSERT_TRUE(breakpoints.insert_int3(kMain));
    run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
    run.internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
    vcpu.regs().rip = kMain;
    EXPECT_EQ(hit(), kMain);
    run.internal.suberror = KVM_INTERNAL_ERROR_DELIVERY_EV;
    EXPECT_FALSE(hit());
}

TEST_F(Int3HitTest, BootAsmsReportOfOurInt3PutsTheVcpuBackBeforeIt)
{
    ASSERT_TRUE(breakpoints.insert_int3(kMain));
    // #BP is a trap: the CPU pushed the address past the int3, from ring 3.
    report({3, 0, kMain + 1, 0x33, 0x246, 0x7fff18, 0x2b});

    EXPECT_EQ(hit(), kMain);
    EXPECT_EQ(vcpu.regs().rip, kMain);
    EXPECT_EQ(vcpu.regs().rsp, 0x7fff18u);
    EXPECT_EQ(vcpu.regs().rflags, 0x246u);
    EXPECT_EQ(vcpu.sregs().cs.selector, 0x33);
    EXPECT_EQ(vcpu.sregs().cs.dpl, 3);
    EXPECT_EQ(vcpu.sregs().ss.selector, 0x2b);
    EXPECT_EQ(vcpu.sregs().ss.dpl, 3); // KVM takes the CPL from SS.DPL
    EXPECT_EQ(run.kvm_dirty_regs, uint64_t{KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS});
}

TEST_F(Int3HitTest, AnInt3InRing0KeepsItsSegmentsAsTheyAre)
{
    ASSERT_TRUE(breakpoints.insert_int3(kMain));
    report({3, 0, kMain + 1, 0x10, 0x2, 0x7fff18, 0});

    EXPECT_EQ(hit(), kMain);
    EXPECT_EQ(vcpu.sregs().cs.selector, 0x10);
    EXPECT_EQ(vcpu.sregs().ss.unusable, 1);
    EXPECT_EQ(vcpu.regs().rip, kMain);
}

TEST_F(Int3HitTest, TheProgramsOwnInt3IsNoHit)
{
    ASSERT_TRUE(breakpoints.insert_int3(kMain + 0x100)); // gdb's breakpoint is elsewhere
    report({3, 0, kMain + 1, 0x33, 0x246, 0x7fff18, 0x2b});

    EXPECT_FALSE(hit());
    EXPECT_EQ(vcpu.regs().rip, kExceptionReport); // the crash report sees the exit as it was
    EXPECT_EQ(vcpu.sregs().cs.selector, 0x10);
    EXPECT_EQ(run.kvm_dirty_regs, 0u);
}

TEST_F(Int3HitTest, OtherExceptionsAtOurInt3AreNoHit)
{
    ASSERT_TRUE(breakpoints.insert_int3(kMain));
    report({13, 0x1a, kMain, 0x33, 0x246, 0x7fff18, 0x2b}); // #GP on the int3
    EXPECT_FALSE(hit());
    report({1, 0, kMain + 1, 0x33, 0x246, 0x7fff18, 0x2b}); // #DB past it
    EXPECT_FALSE(hit());
}

TEST_F(Int3HitTest, ReportsThatAreNotBootAsmsAreNoHit)
{
    ASSERT_TRUE(breakpoints.insert_int3(kMain));
    report({3, 0, kMain + 1, 0x33, 0x246, 0x7fff18, 0x2b});
    vcpu.regs().rsp = kFrame - 8; // not where boot.asm's stubs leave the frame
    EXPECT_FALSE(hit());

    report({3, 0, kMain + 1, 0x33, 0x246, 0x7fff18, 0x2b});
    vcpu.sregs().cs.selector = 0x33; // an `out` from ring 3
    EXPECT_FALSE(hit());

    report({3, 0, kMain + 1, 0x33, 0x246, 0x7fff18, 0x2b});
    vcpu.regs().rip = kExceptionReport + 8; // another `out`
    EXPECT_FALSE(hit());

    report({3, 0, kMain + 1, 0x33, 0x246, 0x7fff18, 0x28}); // SS with RPL 0, DPL 3
    EXPECT_FALSE(hit());
    EXPECT_EQ(vcpu.sregs().cs.selector, 0x10);
}

TEST_F(Int3HitTest, SoftwareBreakpointsAreInt3sAndDebugRegistersWhileTheyLast)
{
    ASSERT_TRUE(breakpoints.insert_software(kMain));
    EXPECT_EQ(memory.range(kMain, 1)->front(), kInt3);
    EXPECT_EQ(breakpoints.read(kMain, 1)->front(), kPushRbx); // gdb reads the program's byte
    kvm_guest_debug debug = breakpoints.guest_debug(false);
    EXPECT_TRUE(debug.control & KVM_GUESTDBG_USE_SW_BP);
    EXPECT_TRUE(debug.control & KVM_GUESTDBG_USE_HW_BP);
    EXPECT_EQ(debug.arch.debugreg[0], kMain);

    // A step's temporary int3 takes no debug register.
    ASSERT_TRUE(breakpoints.insert_int3(kMain + 1));
    EXPECT_EQ(breakpoints.guest_debug(false).arch.debugreg[1], 0u);

    ASSERT_TRUE(breakpoints.remove_software(kMain));
    EXPECT_EQ(memory.range(kMain, 1)->front(), kPushRbx);
    EXPECT_FALSE(breakpoints.guest_debug(false).control & KVM_GUESTDBG_USE_HW_BP);
    EXPECT_FALSE(breakpoints.insert_software(memory.size())); // outside guest memory
}

TEST_F(Int3HitTest, AFifthSoftwareBreakpointIsAnInt3Alone)
{
    for (uint64_t n = 0; n < 5; ++n) {
        ASSERT_TRUE(breakpoints.insert_software(kMain + n));
        EXPECT_TRUE(breakpoints.is_int3(kMain + n));
    }
    const kvm_guest_debug debug = breakpoints.guest_debug(false);
    for (uint64_t n = 0; n < 4; ++n) {
        EXPECT_EQ(debug.arch.debugreg[n], kMain + n);
    }
    EXPECT_FALSE(breakpoints.insert_hardware({vmm::Watch::kExecute, kMain + 9, 1}));
}

} // namespace
