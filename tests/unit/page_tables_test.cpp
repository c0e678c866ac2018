// Unit tests for the identity page tables: PML4 -> PDPT -> one page directory of 2 MiB pages.
#include "error.hpp"
#include "guest_layout.hpp"
#include "page_tables.hpp"

#include <gtest/gtest.h>

namespace {

using namespace vmm::layout;
using vmm::GuestMemory;

constexpr uint64_t kTableFlags = vmm::kPtePresent | vmm::kPteWritable | vmm::kPteUser;
constexpr uint64_t kPageFlags = kTableFlags | vmm::kPteLargePage;

uint64_t entry(GuestMemory& memory, uint64_t table, uint64_t index)
{
    return memory.read_u64(table + index * 8, "page-table entry");
}

TEST(PageTablesTest, ReturnsThePml4Address)
{
    GuestMemory memory(8 * MiB);
    EXPECT_EQ(vmm::build_identity_page_tables(memory), kPml4);
}

TEST(PageTablesTest, Pml4EntryZeroPointsAtThePdpt)
{
    GuestMemory memory(8 * MiB);
    vmm::build_identity_page_tables(memory);
    EXPECT_EQ(entry(memory, kPml4, 0), kPdpt | kTableFlags);
    EXPECT_EQ(entry(memory, kPml4, 1), 0u);
}

TEST(PageTablesTest, PdptEntryZeroPointsAtThePageDirectory)
{
    GuestMemory memory(8 * MiB);
    vmm::build_identity_page_tables(memory);
    EXPECT_EQ(entry(memory, kPdpt, 0), kPageDirectory | kTableFlags);
    EXPECT_EQ(entry(memory, kPdpt, 1), 0u);
}

TEST(PageTablesTest, EightMiBMapsFourLargePagesToThemselves)
{
    GuestMemory memory(8 * MiB);
    vmm::build_identity_page_tables(memory);
    for (uint64_t i = 0; i < 4; ++i) {
        EXPECT_EQ(entry(memory, kPageDirectory, i), (i * 2 * MiB) | kPageFlags)
            << "PD[" << i << "]";
    }
    EXPECT_EQ(entry(memory, kPageDirectory, 4), 0u) << "mapped past the end of guest memory";
}

TEST(PageTablesTest, OneGiBFillsAllFiveHundredTwelveEntries)
{
    GuestMemory memory(1 * GiB);
    vmm::build_identity_page_tables(memory);
    for (uint64_t i = 0; i < 512; ++i) {
        ASSERT_EQ(entry(memory, kPageDirectory, i), (i * 2 * MiB) | kPageFlags)
            << "PD[" << i << "]";
    }
}

TEST(PageTablesTest, SizeNotAMultipleOfTwoMiBThrows)
{
    GuestMemory memory(3 * MiB);
    EXPECT_THROW(vmm::build_identity_page_tables(memory), vmm::VmmError);
}

TEST(PageTablesTest, SizeAboveOneGiBThrows)
{
    GuestMemory memory(1 * GiB + 2 * MiB);
    EXPECT_THROW(vmm::build_identity_page_tables(memory), vmm::VmmError);
}

} // namespace
