// guest_files.hpp: the guest's file descriptors.
//
// The guest never sees a host fd number. It sees its own numbers, given out
// as Linux does (the lowest free one), each standing for a host fd that the
// VMM opened for it. So a guest cannot close, read or write the VMM's own
// fds, such as /dev/kvm's: they are simply not in its table.
#pragma once

#include "unique_fd.hpp"
#include "write_limits.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace vmm {

// The mode of a file the guest creates: its permission bits only, never
// set-uid, set-gid or sticky. A set-uid file of the guest's making, created
// by a VMM run as root, would run as root for whoever executes it.
constexpr uint32_t guest_file_mode(uint64_t mode)
{
    return static_cast<uint32_t>(mode & 0777);
}

class GuestFiles {
  public:
    static constexpr int kMaxFiles = 64; // like a small RLIMIT_NOFILE

    // Guest fds 0, 1 and 2 stand for the VMM's own standard input, output and
    // error; guest paths are resolved in `workdir`; the guest's writes may add
    // at most `disk_quota` bytes to files (write_limits.hpp).
    explicit GuestFiles(const std::string& workdir, uint64_t disk_quota = kDefaultDiskQuota);

    // Opens `path` for the guest as open(2) would, but only inside the working
    // directory: "..", absolute paths, symlinks that lead out of it and mount
    // points under it fail with -EXDEV. A file it creates gets
    // guest_file_mode(mode). Returns the new guest fd, or -errno.
    int64_t open(const std::string& path, uint64_t flags, uint64_t mode);

    // Gives the guest a new fd for `host_file`: the lowest free number, or
    // -EMFILE when the table is full.
    int64_t add(UniqueFd host_file);

    // The host fd behind a guest fd, or -1 when the guest has no such fd.
    int host_fd(uint64_t guest_fd) const;

    // Writes `bytes` to a guest fd as write(2) would, within the guest's write
    // limits: the number of bytes written, or -errno (-EBADF, -EFBIG, -EDQUOT, ...).
    int64_t write(uint64_t guest_fd, std::span<const std::byte> bytes);

    // Closes a guest fd: 0, or -EBADF. The VMM's standard streams stay open on
    // the host; only the guest's name for them goes away.
    int64_t close(uint64_t guest_fd);

  private:
    // How often open() walks a path again when a host rename raced with it.
    static constexpr int kResolveAttempts = 100;

    struct Entry {
        int host_fd = -1; // -1: free
        UniqueFd owned;   // set when the VMM opened the file for the guest
    };
    std::array<Entry, kMaxFiles> entries_;
    UniqueFd workdir_;
    WriteLimits limits_;
};

} // namespace vmm
