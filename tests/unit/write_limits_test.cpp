// Unit tests for the limits on the guest's writes: a file-size limit that
// behaves as RLIMIT_FSIZE does, and a disk quota per run.
#include "write_limits.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>

namespace {

using vmm::kMaxGuestFileSize;
using vmm::WriteLimits;

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kLargeQuota = UINT64_MAX; // so that only the file-size limit matters

TEST(WriteLimitsTest, AWriteWithinBothLimitsIsWhole)
{
    WriteLimits limits(100);
    EXPECT_EQ(limits.allowed(0, 0, 100), 100);
    EXPECT_EQ(limits.allowed(50, 50, 100), 100);
}

TEST(WriteLimitsTest, AnEmptyWriteIsAlwaysAllowed)
{
    WriteLimits limits(0);
    EXPECT_EQ(limits.allowed(0, kMaxGuestFileSize, 0), 0);
}

TEST(WriteLimitsTest, FileSizeLimitCutsAWriteShortThenFailsWithEfbig)
{
    WriteLimits limits(kLargeQuota);
    EXPECT_EQ(limits.allowed(0, kMaxGuestFileSize - 10, 100), 10);
    EXPECT_EQ(limits.allowed(0, kMaxGuestFileSize, 1), -EFBIG);
    EXPECT_EQ(limits.allowed(0, UINT64_MAX, 1), -EFBIG);
}

TEST(WriteLimitsTest, QuotaCutsAWriteShortThenFailsWithEdquot)
{
    WriteLimits limits(100);
    EXPECT_EQ(limits.allowed(0, 0, 60), 60);
    limits.charge(0, 60);
    EXPECT_EQ(limits.allowed(60, 60, 60), 40);
    limits.charge(60, 100);
    EXPECT_EQ(limits.allowed(100, 100, 1), -EDQUOT);
    EXPECT_EQ(limits.allowed(0, 0, 1), -EDQUOT) << "another file";
}

TEST(WriteLimitsTest, OverwritingWhatAFileHoldsIsFreeOnceTheQuotaIsUsedUp)
{
    WriteLimits limits(10);
    limits.charge(0, 10);
    EXPECT_EQ(limits.allowed(1000, 0, 1000), 1000);
    EXPECT_EQ(limits.allowed(1000, 990, 20), 10) << "only what lies inside the file";
}

TEST(WriteLimitsTest, AHoleBeforeTheBytesCountsAsGrowth)
{
    WriteLimits limits(kMiB);
    EXPECT_EQ(limits.allowed(0, kMiB, 1), -EDQUOT);
    EXPECT_EQ(limits.allowed(0, kMiB - 1, 10), 1);
}

TEST(WriteLimitsTest, ChargeCountsOnlyGrowth)
{
    WriteLimits limits(100);
    limits.charge(50, 20); // truncated: nothing given back
    limits.charge(20, 20);
    EXPECT_EQ(limits.allowed(0, 0, 100), 100) << "nothing used yet";
    limits.charge(20, 50);
    EXPECT_EQ(limits.allowed(0, 0, 100), 70) << "30 bytes used";
}

TEST(WriteLimitsTest, HugeSizesNeverWrapAround)
{
    WriteLimits limits(kLargeQuota);
    EXPECT_EQ(limits.allowed(UINT64_MAX - 5, 0, 100), 100);
    limits.charge(0, UINT64_MAX);
    limits.charge(0, UINT64_MAX); // the quota is used up, not wrapped around
    EXPECT_EQ(limits.allowed(10, 10, 1), -EDQUOT);
}

} // namespace
