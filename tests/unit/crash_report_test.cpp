// Unit tests for the crash report on a vCPU without KVM: which exits count as
// system calls, which exception reports are believed, and what a report says.
#include "crash_report.hpp"
#include "guest_layout.hpp"
#include "page_tables.hpp"

#include <elf.h>

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace {

using namespace vmm::layout;

constexpr uint64_t kSyscallEntry = kBootImage + 0x135;
constexpr uint64_t kExceptionReport = kBootImage + 0x211;
constexpr uint64_t kFrame = kBootImage - 7 * 8; // where boot.asm's stubs leave the frame

class CrashReportTest : public testing::Test {
  protected:
    void SetUp() override
    {
        tables = vmm::build_identity_page_tables(memory, boot, program);
        vcpu.sregs().cs.selector = 0x10;
        vcpu.sregs().cr3 = kProgramPml4;
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
    }
    // A page fault writing to `address` in ring 3, reported by boot.asm.
    void page_fault(uint64_t address)
    {
        report({14, 7, 0x401040, 0x33, 0x10202, 0x7fff00, 0x2b});
        vcpu.sregs().cr2 = address;
    }
    std::string message() { return vmm::GuestCrash(vcpu, context).what(); }
    std::string first_line() { return message().substr(0, message().find('\n')); }

    vmm::GuestMemory memory{8 * MiB};
    const vmm::LoadedBootImage boot{kBootImage, 0x4e6, kSyscallEntry, kExceptionReport};
    const vmm::LoadedProgram program{
        0x40107c,
        0x400040,
        56,
        3,
        {{0x400000, 0x190, PF_R}, {0x401000, 0xa9c, PF_R | PF_X}, {0x402000, 0x70, PF_R}}};
    vmm::PageTables tables{};
    const vmm::MemoryMapInputs map{8 * MiB, boot, tables, program, 0x7fff40};
    const vmm::RingChoice ring{3, "ring 3", false};
    const vmm::CrashContext context{memory, map, ring, false};
    kvm_run run{};
    vmm::Vcpu vcpu = vmm::Vcpu::without_kvm(run);
};

TEST_F(CrashReportTest, AHltAtTheSyscallEntryIsASystemCall)
{
    run.exit_reason = KVM_EXIT_HLT;
    vcpu.regs().rip = kSyscallEntry + 1; // KVM reports RIP past the `hlt`
    EXPECT_NO_THROW(vmm::check_system_call(vcpu, context));
}

TEST_F(CrashReportTest, AHltAnywhereElseIsACrash)
{
    run.exit_reason = KVM_EXIT_HLT;
    for (uint64_t rip : {kSyscallEntry, kSyscallEntry + 2, uint64_t{0x401044}, uint64_t{0}}) {
        vcpu.regs().rip = rip;
        EXPECT_THROW(vmm::check_system_call(vcpu, context), vmm::GuestCrash) << rip;
    }
    vcpu.regs().rip = 0x401044;
    EXPECT_EQ(first_line(), "the guest executed hlt at 0x401043, outside boot.asm's system-call "
                            "entry point (0x8135): it is not a system call");
}

TEST_F(CrashReportTest, OtherExitsAreNotCheckedAsSystemCalls)
{
    run.exit_reason = KVM_EXIT_IO;
    vcpu.regs().rip = 0x401044;
    EXPECT_NO_THROW(vmm::check_system_call(vcpu, context));
}

TEST_F(CrashReportTest, BootAsmsReportIsBelieved)
{
    page_fault(0x402000);
    EXPECT_EQ(first_line(), "guest page fault: write to 0x402000 (protection violation) at RIP "
                            "0x401040 in user mode (ring 3); the address is in a program segment "
                            "0x402000-0x402070 (r-- user), which is read-only");
}

TEST_F(CrashReportTest, PvmsRipPastTheOutIsBelievedToo)
{
    page_fault(0x402000);
    vcpu.regs().rip = kExceptionReport + 2;
    EXPECT_EQ(first_line().rfind("guest page fault", 0), 0u) << message();
}

TEST_F(CrashReportTest, AReportFromElsewhereIsRefused)
{
    const auto refused = [&] {
        return message().find("a forged report, refused") != std::string::npos;
    };
    page_fault(0x402000);
    vcpu.regs().rip = 0x401066; // the program's own `out`
    EXPECT_TRUE(refused()) << message();
    page_fault(0x402000);
    vcpu.regs().rsp = kFrame - 8; // boot.asm's `out`, but the program's stack
    EXPECT_TRUE(refused()) << message();
    page_fault(0x402000);
    vcpu.sregs().cs.selector = 0x33; // in ring 3: never boot.asm's handler
    EXPECT_TRUE(refused()) << message();
}

TEST_F(CrashReportTest, AFrameThatMakesNoSenseIsRefused)
{
    for (const std::array<uint64_t, 7>& frame : std::initializer_list<std::array<uint64_t, 7>>{
             {32, 0, 0x401040, 0x33, 0x202, 0x7fff00, 0x2b},   // no such exception
             {14, 7, 0x401040, 0x2b, 0x202, 0x7fff00, 0x2b},   // CS is not a code selector
             {14, 7, 0x401040, 0x33, 0x200, 0x7fff00, 0x2b},   // RFLAGS bit 1 clear
             {6, 5, 0x401040, 0x33, 0x202, 0x7fff00, 0x2b}}) { // #UD has no error code
        report(frame);
        EXPECT_NE(message().find("a forged report, refused"), std::string::npos) << frame[0];
    }
}

TEST_F(CrashReportTest, AReportInRing0SaysItsDetailsComeFromTheGuest)
{
    const vmm::RingChoice ring0{0, "ring 0", true};
    const vmm::CrashContext ring0_context{memory, map, ring0, false};
    page_fault(0x402000);
    EXPECT_NE(std::string(vmm::GuestCrash(vcpu, ring0_context).what())
                  .find("its details come from the guest"),
              std::string::npos);
    EXPECT_EQ(message().find("its details come from the guest"), std::string::npos)
        << "in ring 3 the program cannot forge a report";
}

TEST_F(CrashReportTest, APageFaultNamesWhereTheAddressIs)
{
    page_fault(0x10);
    EXPECT_NE(first_line().find("; a NULL pointer"), std::string::npos) << first_line();
    page_fault(0x9000);
    EXPECT_NE(first_line().find("; nothing is mapped there"), std::string::npos) << first_line();
    page_fault(0x7bfff8);
    EXPECT_NE(first_line().find("a stack overflow?"), std::string::npos) << first_line();
    page_fault(kBootImage + 8);
    EXPECT_NE(first_line().find("the boot image 0x8000-0x84e6 (rwx kernel)"), std::string::npos)
        << first_line();
    page_fault(0x40000000);
    EXPECT_NE(first_line().find("past the end of guest memory (0x800000)"), std::string::npos);
}

TEST_F(CrashReportTest, TheDumpShowsEveryRegister)
{
    page_fault(0x10);
    vcpu.regs().rbx = 0xb0b;
    vcpu.regs().r15 = 0xf15;
    vcpu.sregs().fs.base = 0x404138;
    const std::string dump = message();
    for (const char* shown : {"RAX ",
                              "RBX 0xb0b",
                              "RCX ",
                              "RDX ",
                              "RSI ",
                              "RDI ",
                              "RBP ",
                              "R8 ",
                              "R9 ",
                              "R10 ",
                              "R11 ",
                              "R12 ",
                              "R13 ",
                              "R14 ",
                              "R15 0xf15",
                              "RIP 0x401040",
                              "RSP 0x7fff00",
                              "RFLAGS 0x10202",
                              "CS 0x33",
                              "SS ",
                              "DS ",
                              "ES ",
                              "FS 0x0 (base 0x404138)",
                              "GS ",
                              "CR0 ",
                              "CR2 0x10",
                              "CR3 0x11000",
                              "CR4 ",
                              "EFER "}) {
        EXPECT_NE(dump.find(shown), std::string::npos) << shown << " missing in\n" << dump;
    }
}

TEST_F(CrashReportTest, TheHintSaysWhereRipIs)
{
    const auto hint_for = [&](uint64_t rip) {
        report({6, 0, rip, 0x33, 0x10202, 0x7fff00, 0x2b});
        const std::string text = message();
        return text.substr(text.find("hint: "));
    };
    EXPECT_EQ(hint_for(0x401040).rfind("hint: RIP is in the program, in a program segment "
                                       "0x401000-0x401a9c (r-x user)",
                                       0),
              0u);
    EXPECT_EQ(hint_for(0x8100).rfind("hint: RIP is in the boot code", 0), 0u);
    EXPECT_EQ(hint_for(0x8).rfind("hint: RIP is in page 0", 0), 0u);
    EXPECT_EQ(hint_for(0x10000).rfind("hint: RIP is in the page tables", 0), 0u);
    EXPECT_EQ(hint_for(0x40000000).rfind("hint: RIP 0x40000000 is outside guest memory", 0), 0u);
}

} // namespace
