// guest_files.hpp: the guest's file descriptors.
//
// The guest never sees a host fd number. It sees its own numbers, given out
// as Linux does (the lowest free one), each standing for a host fd that the
// VMM opened for it. So a guest cannot close, read or write the VMM's own
// fds, such as /dev/kvm's: they are simply not in its table.
#pragma once

#include "unique_fd.hpp"

#include <array>
#include <cstdint>
#include <string>

namespace vmm {

class GuestFiles {
  public:
    static constexpr int kMaxFiles = 64; // like a small RLIMIT_NOFILE

    // Guest fds 0, 1 and 2 stand for the VMM's own standard input, output and
    // error; relative paths are resolved in `workdir`.
    explicit GuestFiles(const std::string& workdir);

    // The directory fd to pass to openat() for guest paths.
    int workdir_fd() const { return workdir_.get(); }

    // Gives the guest a new fd for `host_file`: the lowest free number, or
    // -EMFILE when the table is full.
    int64_t add(UniqueFd host_file);

    // The host fd behind a guest fd, or -1 when the guest has no such fd.
    int host_fd(uint64_t guest_fd) const;

    // Closes a guest fd: 0, or -EBADF. The VMM's standard streams stay open on
    // the host; only the guest's name for them goes away.
    int64_t close(uint64_t guest_fd);

  private:
    struct Entry {
        int host_fd = -1; // -1: free
        UniqueFd owned;   // set when the VMM opened the file for the guest
    };
    std::array<Entry, kMaxFiles> entries_;
    UniqueFd workdir_;
};

} // namespace vmm
