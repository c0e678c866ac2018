// Unit tests for GuestMemory: every guest range is checked, without overflow.
#include "error.hpp"
#include "guest_memory.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

namespace {

using vmm::GuestMemory;

constexpr uint64_t kSize = 64 * 1024;
constexpr uint64_t kMax = UINT64_MAX;

class GuestMemoryTest : public testing::Test {
  protected:
    GuestMemory memory{kSize};
};

TEST_F(GuestMemoryTest, ContainsARangeInside)
{
    EXPECT_TRUE(memory.contains(0, kSize));
    EXPECT_TRUE(memory.contains(0x100, 0x10));
    auto bytes = memory.range(0x100, 0x10);
    ASSERT_TRUE(bytes);
    EXPECT_EQ(bytes->data(), static_cast<std::byte*>(memory.host_base()) + 0x100);
    EXPECT_EQ(bytes->size(), 0x10u);
}

TEST_F(GuestMemoryTest, ContainsARangeEndingExactlyAtTheEnd)
{
    EXPECT_TRUE(memory.contains(kSize - 8, 8));
    ASSERT_TRUE(memory.range(kSize - 8, 8));
    EXPECT_EQ(memory.range(kSize - 8, 8)->size(), 8u);
}

TEST_F(GuestMemoryTest, RejectsARangeEndingOnePastTheEnd)
{
    EXPECT_FALSE(memory.contains(kSize - 8, 9));
    EXPECT_FALSE(memory.contains(0, kSize + 1));
    EXPECT_FALSE(memory.range(kSize - 8, 9));
}

TEST_F(GuestMemoryTest, AcceptsAnEmptyRangeAtTheEnd)
{
    EXPECT_TRUE(memory.contains(kSize, 0));
    ASSERT_TRUE(memory.range(kSize, 0));
    EXPECT_TRUE(memory.range(kSize, 0)->empty());
}

TEST_F(GuestMemoryTest, RejectsAnAddressBeyondTheEnd)
{
    EXPECT_FALSE(memory.contains(kSize + 1, 0));
    EXPECT_FALSE(memory.contains(kSize + 1, 1));
    EXPECT_FALSE(memory.range(kSize + 1, 0));
}

TEST_F(GuestMemoryTest, RejectsRangesWhoseEndWrapsAround)
{
    // address + length wraps to a small number: a naive "address + length <= size" passes.
    EXPECT_FALSE(memory.contains(kMax, 1));
    EXPECT_FALSE(memory.contains(kMax - 7, 16));
    EXPECT_FALSE(memory.contains(16, kMax - 7));
    EXPECT_FALSE(memory.range(16, kMax - 7));
}

TEST_F(GuestMemoryTest, RejectsAHugeLength)
{
    EXPECT_FALSE(memory.contains(0, kMax));
    EXPECT_FALSE(memory.contains(0, uint64_t{1} << 63));
    EXPECT_FALSE(memory.range(0, kMax));
}

TEST_F(GuestMemoryTest, CheckedRangeReturnsTheRangeInside)
{
    const auto bytes = memory.checked_range(0x300, 16, "test range");
    EXPECT_EQ(bytes.data(), static_cast<std::byte*>(memory.host_base()) + 0x300);
    EXPECT_EQ(bytes.size(), 16u);
}

TEST_F(GuestMemoryTest, CheckedRangeThrowsNamingWhat)
{
    EXPECT_TRUE(
        throws_naming([&] { memory.checked_range(kSize - 8, 9, "the widget"); }, "the widget"));
    EXPECT_TRUE(
        throws_naming([&] { memory.checked_range(16, kMax - 7, "the gadget"); }, "the gadget"));
}

TEST_F(GuestMemoryTest, WriteU64AndReadU64RoundTripLittleEndian)
{
    memory.write_u64(kSize - 8, 0x0102030405060708, "last word");
    EXPECT_EQ(memory.read_u64(kSize - 8, "last word"), 0x0102030405060708u);
    EXPECT_EQ(std::to_integer<int>((*memory.range(kSize - 8, 1))[0]), 0x08);
}

TEST_F(GuestMemoryTest, WriteU64ThrowsNamingWhatPastTheEnd)
{
    EXPECT_TRUE(throws_naming([&] { memory.write_u64(kSize - 7, 1, "the PML4"); }, "the PML4"));
    EXPECT_TRUE(throws_naming([&] { memory.write_u64(kMax - 3, 1, "the PDPT"); }, "the PDPT"));
}

TEST_F(GuestMemoryTest, ReadU64ThrowsNamingWhatPastTheEnd)
{
    EXPECT_TRUE(throws_naming([&] { memory.read_u64(kSize - 7, "the header"); }, "the header"));
    EXPECT_TRUE(throws_naming([&] { memory.read_u64(kMax, "the footer"); }, "the footer"));
}

} // namespace
