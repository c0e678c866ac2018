#include "write_limits.hpp"

#include <algorithm>
#include <cerrno>

namespace vmm {

int64_t WriteLimits::allowed(uint64_t size, uint64_t offset, uint64_t count) const
{
    if (count == 0) {
        return 0; // Linux checks no limit for an empty write
    }
    // The file-size limit first, as Linux checks RLIMIT_FSIZE before it
    // allocates any block (generic_write_checks() in mm/filemap.c).
    if (offset >= kMaxGuestFileSize) {
        return -EFBIG;
    }
    count = std::min(count, kMaxGuestFileSize - offset);
    // Then the quota: the file may grow by what is left of it (without
    // overflow, whatever the size and the quota).
    const uint64_t left = quota_ - used_;
    const uint64_t end_allowed = left > UINT64_MAX - size ? UINT64_MAX : size + left;
    if (offset >= end_allowed) {
        return -EDQUOT;
    }
    return static_cast<int64_t>(std::min(count, end_allowed - offset));
}

void WriteLimits::charge(uint64_t size_before, uint64_t size_after)
{
    if (size_after > size_before) {
        used_ += std::min(size_after - size_before, quota_ - used_);
    }
}

} // namespace vmm
