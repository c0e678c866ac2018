// Unit tests for the identity page tables: two address spaces, the same but
// for page 0, each page with the access Linux would give it.
#include "error.hpp"
#include "guest_layout.hpp"
#include "page_tables.hpp"
#include "test_support.hpp"

#include <elf.h>

#include <gtest/gtest.h>

#include <optional>

namespace {

using namespace vmm::layout;
using vmm::GuestMemory;
using vmm::kPteLargePage;
using vmm::kPteNoExecute;
using vmm::kPtePresent;
using vmm::kPteUser;
using vmm::kPteWritable;

const vmm::LoadedBootImage& kBoot = kLabBootImage;

uint64_t entry(GuestMemory& memory, uint64_t table, uint64_t index)
{
    return memory.read_u64(table + index * 8, "page-table entry");
}

// The CPU's walk from a PML4 to the entry that maps `address` (SDM vol. 3A,
// 4.5): the last-level entry, or nothing when a level is not present.
struct Walk {
    uint64_t entry;
    bool large; // a 2 MiB page, mapped by the page directory itself
};
std::optional<Walk> walk(GuestMemory& memory, uint64_t pml4, uint64_t address)
{
    constexpr uint64_t kAddressBits = 0x000ffffffffff000;
    uint64_t table = pml4;
    for (int shift : {39, 30, 21, 12}) {
        const uint64_t e = entry(memory, table, (address >> shift) & 511);
        if ((e & kPtePresent) == 0) {
            return std::nullopt;
        }
        if (shift == 12 || (shift == 21 && (e & kPteLargePage))) {
            EXPECT_EQ(e & kAddressBits & ~((uint64_t{1} << shift) - 1),
                      address & ~((uint64_t{1} << shift) - 1))
                << "not an identity map at " << address;
            return Walk{e, shift == 21};
        }
        EXPECT_EQ(e & (kPteWritable | kPteUser | kPteNoExecute), kPteWritable | kPteUser)
            << "a table entry must leave the decision to the last level";
        table = e & kAddressBits;
    }
    return std::nullopt;
}

// "rwxu": what the walk allows at `address`; "" when nothing is mapped.
std::string access(GuestMemory& memory, uint64_t pml4, uint64_t address)
{
    const std::optional<Walk> found = walk(memory, pml4, address);
    if (!found) {
        return "";
    }
    return std::string("r") + (found->entry & kPteWritable ? "w" : "-") +
           (found->entry & kPteNoExecute ? "-" : "x") + (found->entry & kPteUser ? "u" : "k");
}

class PageTablesTest : public testing::Test {
  protected:
    GuestMemory memory{8 * MiB};
    vmm::LoadedProgram program = lab_program();
};

TEST_F(PageTablesTest, StartsOnTheStartupAddressSpaceAndEndsWhereTheTablesEnd)
{
    const vmm::PageTables tables = vmm::build_identity_page_tables(memory, kBoot, program);
    EXPECT_EQ(tables.startup_pml4, kStartupPml4);
    EXPECT_EQ(kProgramPml4, kStartupPml4 + kPageSize);
    // Four PML4s (two and their twins); in each address space a PDPT, a page
    // directory, and a page table for the first 2 MiB, for the program's 2 MiB
    // and for the stack's.
    EXPECT_EQ(tables.end, kPageTables + (4 + 2 * 5) * kPageSize);
}

TEST_F(PageTablesTest, EachTwinLeadsToItsAddressSpacesTables)
{
    vmm::build_identity_page_tables(memory, kBoot, program);
    EXPECT_EQ(entry(memory, kStartupPml4Twin, 0), entry(memory, kStartupPml4, 0));
    EXPECT_EQ(entry(memory, kProgramPml4Twin, 0), entry(memory, kProgramPml4, 0));
    EXPECT_EQ(access(memory, kStartupPml4Twin, 0x28), "rw-u");
    EXPECT_EQ(access(memory, kProgramPml4Twin, 0x28), "");
}

TEST_F(PageTablesTest, PageZeroIsMappedOnlyInTheStartupAddressSpace)
{
    vmm::build_identity_page_tables(memory, kBoot, program);
    EXPECT_EQ(access(memory, kStartupPml4, 0x28), "rw-u") << "musl reads its canary at FS:0x28";
    EXPECT_EQ(access(memory, kProgramPml4, 0x28), "") << "a NULL pointer must fault";
}

TEST_F(PageTablesTest, SegmentsGetTheirElfAccessForRing3)
{
    vmm::build_identity_page_tables(memory, kBoot, program);
    for (uint64_t pml4 : {kStartupPml4, kProgramPml4}) {
        EXPECT_EQ(access(memory, pml4, 0x400000), "r--u") << "ELF and program headers";
        EXPECT_EQ(access(memory, pml4, 0x401a9b), "r-xu") << ".text";
        EXPECT_EQ(access(memory, pml4, 0x402000), "r--u") << ".rodata";
        EXPECT_EQ(access(memory, pml4, 0x403fd0), "rw-u") << ".data: its whole first page";
        EXPECT_EQ(access(memory, pml4, 0x404fff), "rw-u") << ".bss, up to the end of its page";
    }
}

TEST_F(PageTablesTest, BootAsmsPagesAreForRing0Only)
{
    vmm::build_identity_page_tables(memory, kBoot, program);
    for (uint64_t pml4 : {kStartupPml4, kProgramPml4}) {
        EXPECT_EQ(access(memory, pml4, kExceptionStack), "rw-k");
        EXPECT_EQ(access(memory, pml4, kBootImage - 8), "rw-k");
        EXPECT_EQ(access(memory, pml4, kBootImage), "rwxk");
        EXPECT_EQ(access(memory, pml4, kBootImage + 0x4e5), "rwxk");
    }
}

TEST_F(PageTablesTest, TheStackIsWritableAndNotExecutable)
{
    vmm::build_identity_page_tables(memory, kBoot, program);
    EXPECT_EQ(access(memory, kProgramPml4, 8 * MiB - kStackReserve), "rw-u");
    EXPECT_EQ(access(memory, kProgramPml4, 8 * MiB - 8), "rw-u");
}

TEST_F(PageTablesTest, NothingElseIsMapped)
{
    vmm::build_identity_page_tables(memory, kBoot, program);
    for (uint64_t address :
         {kBootImage + 0x1000, kPageTables, kProgramPml4, kProgramLowest, uint64_t{0x3fffff},
          uint64_t{0x405000}, 2 * MiB, 8 * MiB - kStackReserve - 1, 8 * MiB, 1 * GiB - 1}) {
        EXPECT_EQ(access(memory, kStartupPml4, address), "") << std::hex << address;
        EXPECT_EQ(access(memory, kProgramPml4, address), "") << std::hex << address;
    }
}

TEST_F(PageTablesTest, SegmentsSharingAPageShareTheirAccess)
{
    program.segments = {{0x400000, 0x1800, PF_R | PF_X}, {0x401800, 0x100, PF_R | PF_W}};
    vmm::build_identity_page_tables(memory, kBoot, program);
    EXPECT_EQ(access(memory, kProgramPml4, 0x400000), "r-xu");
    EXPECT_EQ(access(memory, kProgramPml4, 0x401000), "rwxu") << "either segment may use it";
}

TEST_F(PageTablesTest, TwoMiBOfOneAccessIsOneLargePage)
{
    program.segments = {{2 * MiB, 2 * MiB, PF_R | PF_W}, {4 * MiB, 0x1000, PF_R | PF_X}};
    vmm::build_identity_page_tables(memory, kBoot, program);
    const std::optional<Walk> data = walk(memory, kProgramPml4, 3 * MiB);
    ASSERT_TRUE(data);
    EXPECT_TRUE(data->large);
    EXPECT_EQ(access(memory, kProgramPml4, 3 * MiB), "rw-u");
    const std::optional<Walk> text = walk(memory, kProgramPml4, 4 * MiB);
    ASSERT_TRUE(text);
    EXPECT_FALSE(text->large) << "4 KiB pages where access changes within 2 MiB";
}

TEST_F(PageTablesTest, OneGiBMapsAGiantSegmentWithLargePages)
{
    GuestMemory big(1 * GiB);
    program.segments = {{2 * MiB, 1 * GiB - 4 * MiB, PF_R | PF_W}};
    const vmm::PageTables tables = vmm::build_identity_page_tables(big, kBoot, program);
    EXPECT_EQ(tables.end, kPageTables + (4 + 2 * 4) * kPageSize) << "first 2 MiB and the stack's";
    EXPECT_EQ(access(big, kProgramPml4, 512 * MiB), "rw-u");
    EXPECT_EQ(access(big, kProgramPml4, 1 * GiB - 8), "rw-u");
}

TEST_F(PageTablesTest, TooManyMixedRegionsAreRefused)
{
    GuestMemory big(1 * GiB);
    program.segments.clear();
    for (uint64_t region = 1; region < 500; ++region) {
        program.segments.push_back({region * 2 * MiB, 0x1000, PF_R});
    }
    EXPECT_TRUE(throws_naming([&] { vmm::build_identity_page_tables(big, kBoot, program); },
                              "more page tables than fit"));
}

TEST_F(PageTablesTest, SizeNotAMultipleOfTwoMiBThrows)
{
    GuestMemory odd(3 * MiB);
    EXPECT_THROW(vmm::build_identity_page_tables(odd, kBoot, program), vmm::VmmError);
}

TEST_F(PageTablesTest, SizeAboveOneGiBThrows)
{
    GuestMemory huge(1 * GiB + 2 * MiB);
    EXPECT_THROW(vmm::build_identity_page_tables(huge, kBoot, program), vmm::VmmError);
}

// --- PageTableEditor: the program's memory calls change the tables -------------

class PageTableEditorTest : public PageTablesTest {
  protected:
    void SetUp() override
    {
        tables = vmm::build_identity_page_tables(memory, kBoot, program);
        vcpu.sregs().cr3 = kProgramPml4;
    }
    static constexpr vmm::Access kReadWrite{.read = true, .write = true, .user = true};
    static constexpr vmm::Access kReadOnly{.read = true, .user = true};
    static constexpr vmm::Access kNone{};

    vmm::PageTables tables{};
    kvm_run run{};
    vmm::Vcpu vcpu = vmm::Vcpu::without_kvm(run);
};

TEST_F(PageTableEditorTest, MapsNewPagesInBothAddressSpacesWithoutAFlush)
{
    vmm::PageTableEditor editor(memory, tables);
    ASSERT_TRUE(editor.set_access(0x600000, 0x602000, kReadWrite));
    for (uint64_t pml4 : {kStartupPml4, kProgramPml4, kStartupPml4Twin, kProgramPml4Twin}) {
        EXPECT_EQ(access(memory, pml4, 0x600000), "rw-u");
        EXPECT_EQ(access(memory, pml4, 0x601fff), "rw-u");
        EXPECT_EQ(access(memory, pml4, 0x602000), "") << "only the pages asked for";
    }
    editor.flush(vcpu);
    EXPECT_EQ(vcpu.sregs().cr3, kProgramPml4) << "no translation of an absent page is cached";
    EXPECT_EQ(run.kvm_dirty_regs, 0u);
}

TEST_F(PageTableEditorTest, NewTablesComeAfterTheOthers)
{
    vmm::PageTableEditor editor(memory, tables);
    ASSERT_TRUE(editor.set_access(2 * MiB + 0x1000, 2 * MiB + 0x2000, kReadWrite));
    const std::optional<Walk> found = walk(memory, kProgramPml4, 2 * MiB + 0x1000);
    ASSERT_TRUE(found);
    EXPECT_FALSE(found->large);
    EXPECT_EQ(entry(memory, kProgramPml4, 0) & kPtePresent, kPtePresent);
}

TEST_F(PageTableEditorTest, UnmappingAndReadOnlyFlushByMovingToTheTwin)
{
    vmm::PageTableEditor editor(memory, tables);
    ASSERT_TRUE(editor.set_access(0x600000, 0x604000, kReadWrite));
    editor.flush(vcpu);
    ASSERT_TRUE(editor.set_access(0x601000, 0x602000, kNone));
    ASSERT_TRUE(editor.set_access(0x602000, 0x603000, kReadOnly));
    EXPECT_EQ(access(memory, kProgramPml4, 0x601000), "");
    EXPECT_EQ(access(memory, kProgramPml4, 0x602000), "r--u");
    editor.flush(vcpu);
    EXPECT_EQ(vcpu.sregs().cr3, kProgramPml4Twin) << "another CR3: KVM forgets its translations";
    EXPECT_TRUE(run.kvm_dirty_regs & KVM_SYNC_X86_SREGS);
    ASSERT_TRUE(editor.set_access(0x600000, 0x601000, kNone));
    editor.flush(vcpu);
    EXPECT_EQ(vcpu.sregs().cr3, kProgramPml4) << "and back";
}

TEST_F(PageTableEditorTest, TheStartupAddressSpaceFlushesToItsOwnTwin)
{
    vcpu.sregs().cr3 = kStartupPml4;
    vmm::PageTableEditor editor(memory, tables);
    ASSERT_TRUE(editor.set_access(0x401000, 0x402000, kNone)); // .text, mapped at start-up
    editor.flush(vcpu);
    EXPECT_EQ(vcpu.sregs().cr3, kStartupPml4Twin);
    EXPECT_EQ(access(memory, kStartupPml4Twin, 0x28), "rw-u") << "page 0 stays for start-up";
}

TEST_F(PageTableEditorTest, LeavesAProgramsOwnPageTablesAlone)
{
    vmm::PageTableEditor editor(memory, tables);
    ASSERT_TRUE(editor.set_access(0x401000, 0x402000, kNone));
    vcpu.sregs().cr3 = 0x600000;
    editor.flush(vcpu);
    EXPECT_EQ(vcpu.sregs().cr3, 0x600000u);
}

TEST_F(PageTableEditorTest, AWhole2MiBRegionIsOneLargePageAndSplitsWhenPartlyChanged)
{
    vmm::PageTableEditor editor(memory, tables);
    ASSERT_TRUE(editor.set_access(2 * MiB, 4 * MiB, kReadWrite));
    std::optional<Walk> found = walk(memory, kProgramPml4, 3 * MiB);
    ASSERT_TRUE(found);
    EXPECT_TRUE(found->large);
    ASSERT_TRUE(editor.set_access(3 * MiB, 3 * MiB + 0x1000, kReadOnly));
    found = walk(memory, kProgramPml4, 3 * MiB);
    ASSERT_TRUE(found);
    EXPECT_FALSE(found->large);
    EXPECT_EQ(access(memory, kProgramPml4, 3 * MiB), "r--u");
    EXPECT_EQ(access(memory, kProgramPml4, 3 * MiB + 0x1000), "rw-u") << "the rest as it was";
    EXPECT_EQ(access(memory, kProgramPml4, 2 * MiB), "rw-u");
    editor.flush(vcpu);
    EXPECT_EQ(vcpu.sregs().cr3, kProgramPml4Twin) << "the large page was in use";
}

TEST_F(PageTableEditorTest, TheCpusAccessedAndDirtyBitsAreNoChange)
{
    vmm::PageTableEditor editor(memory, tables);
    ASSERT_TRUE(editor.set_access(0x600000, 0x601000, kReadWrite));
    // The CPU sets accessed (bit 5) and dirty (bit 6) in the entries it uses:
    // in the page table the walk ends at, entry 0 maps 0x600000.
    constexpr uint64_t kAddressBits = 0x000ffffffffff000;
    const uint64_t pdpt = entry(memory, kProgramPml4, 0) & kAddressBits;
    const uint64_t directory = entry(memory, pdpt, 0) & kAddressBits;
    const uint64_t table = entry(memory, directory, 3) & kAddressBits;
    memory.write_u64(table, entry(memory, table, 0) | 0x60, "page table");
    ASSERT_TRUE(editor.set_access(0x600000, 0x601000, kReadWrite));
    editor.flush(vcpu);
    EXPECT_EQ(vcpu.sregs().cr3, kProgramPml4) << "the same access: nothing to flush";
}

TEST_F(PageTableEditorTest, RunsOutOfTablesWithoutChangingAnything)
{
    vmm::PageTables full = tables;
    full.end = kPageTablesLimit;
    vmm::PageTableEditor starved(memory, full);
    EXPECT_FALSE(starved.set_access(2 * MiB, 2 * MiB + 0x1000, kReadWrite));
    EXPECT_EQ(access(memory, kProgramPml4, 2 * MiB), "");
    EXPECT_EQ(access(memory, kStartupPml4, 2 * MiB), "");
    EXPECT_TRUE(starved.set_access(0x600000, 0x601000, kReadWrite)) << "its table exists";
    EXPECT_TRUE(starved.set_access(2 * MiB, 4 * MiB, kReadWrite)) << "a large page needs none";
}

} // namespace
