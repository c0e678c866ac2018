// write_limits.hpp: how much the guest may write to files.
//
// Two limits, on the guest's writes to regular files (a pipe or a terminal
// fills no disk), applied by GuestFiles:
//   - No file grows past kMaxGuestFileSize: a write that starts there fails
//     with EFBIG, one that would cross it is cut short, as RLIMIT_FSIZE does.
//     RLIMIT_FSIZE itself would also cut the VMM's own trace and output.
//   - A run may add at most its disk quota (--disk-quota) to the files it
//     writes: past it, writes fail with EDQUOT, as on a file system whose
//     quota is used up, and one that would cross it is cut short first.
// The quota counts what the guest's writes add to the size of files: bytes
// written past the end, and the hole a write leaves before them. An ftruncate
// that lengthens a file to L bytes counts as writing its L - size new bytes,
// all or nothing (GuestFiles::truncate). Nothing is given back when a file
// shrinks or is deleted: simpler than a file system's quota, and still a
// bound on the disk a run can fill.
#pragma once

#include <cstdint>

namespace vmm {

inline constexpr uint64_t kMaxGuestFileSize = 64ULL << 20;  // 64 MiB
inline constexpr uint64_t kDefaultDiskQuota = 256ULL << 20; // 256 MiB

class WriteLimits {
  public:
    explicit WriteLimits(uint64_t disk_quota) : quota_(disk_quota) {}

    // Of `count` bytes to be written at `offset` in a file of `size` bytes,
    // how many may be: all, fewer, or none, then -EFBIG or -EDQUOT.
    int64_t allowed(uint64_t size, uint64_t offset, uint64_t count) const;

    // After a write took a file from `size_before` to `size_after` bytes.
    void charge(uint64_t size_before, uint64_t size_after);

  private:
    uint64_t quota_;
    uint64_t used_ = 0;
};

} // namespace vmm
