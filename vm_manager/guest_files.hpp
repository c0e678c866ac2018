// guest_files.hpp: the guest's file descriptors.
//
// The guest never sees a host fd number. It sees its own numbers, given out
// as Linux does (the lowest free one), each standing for a host fd that the
// VMM opened for it. So a guest cannot close, read or write the VMM's own
// fds, such as /dev/kvm's: they are simply not in its table.
//
// Its standard streams are the VMM's, shared for reading and writing only:
// the files behind them lie outside the working directory (a terminal,
// /dev/null, a file the VMM's caller chose). A call that would change such a
// file otherwise (fchmod, fchown, futimens, ftruncate) fails with EPERM, and a
// path relative to one, as a directory fd, with EXDEV. The files the VMM
// opened for the guest, inside, and their dups, are the guest's own.
#pragma once

#include "guest_paths.hpp"
#include "unique_fd.hpp"
#include "write_limits.hpp"

#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vmm {

// Whether the file behind a host fd is open for writing (O_WRONLY, O_RDWR),
// or for reading (O_RDONLY, O_RDWR), and not with O_PATH; false for no fd.
// Linux's write(2) and read(2) families check that before anything else, the
// buffer included: EBADF (vfs_write(), vfs_read() in fs/read_write.c).
bool open_for_writing(int host_fd);
bool open_for_reading(int host_fd);

class GuestFiles {
  public:
    static constexpr int kMaxFiles = 64; // like a small RLIMIT_NOFILE

    // Guest fds 0, 1 and 2 stand for the VMM's own standard input, output and
    // error; guest paths are resolved in `workdir` (guest_paths.hpp); the
    // guest's writes may add at most `disk_quota` bytes to files (write_limits.hpp).
    explicit GuestFiles(const std::string& workdir, uint64_t disk_quota = kDefaultDiskQuota);

    // Opens `path` for the guest as open(2) would, but only inside the working
    // directory: "..", absolute paths, symlinks that lead out of it and mount
    // points under it fail with -EXDEV. A file it creates gets
    // guest_file_mode(mode). Returns the new guest fd, or -errno.
    int64_t open(const std::string& path, uint64_t flags, uint64_t mode);

    // openat(2): the same, `path` relative to the guest's directory fd
    // `dir_fd`, or to its working directory for AT_FDCWD.
    int64_t open_at(uint64_t dir_fd, std::string_view path, uint64_t flags, uint64_t mode);

    // Gives the guest a new fd for `host_file`: the lowest free number, or
    // -EMFILE when the table is full. Like a standard stream, it is not the
    // guest's own (own_file()): the VMM's caller chose it.
    int64_t add(UniqueFd host_file, bool close_on_exec = false);

    // The host fd behind a guest fd, or -1 when the guest has no such fd.
    int host_fd(uint64_t guest_fd) const;

    // The host fd behind a guest fd the VMM opened inside the working
    // directory (or a dup of one), for the calls that change the file itself;
    // -EBADF for no such fd, -EPERM for the standard streams and their dups.
    int64_t own_file(uint64_t guest_fd) const;

    // Where the *at calls' paths start: `fd` is kWorkingDirectory for
    // AT_FDCWD, else the host fd behind the guest's `dir_fd`, and `own` says
    // whether that is the guest's own (see own_file()): a path may start only
    // from those (EXDEV). `error` is -EBADF for no such fd.
    struct PathStart {
        int fd = -1;
        bool own = false;
        int64_t error = 0;
    };
    PathStart directory(uint64_t dir_fd) const;

    // The guest's paths and working directory.
    GuestPaths& paths() { return paths_; }

    // Writes `bytes` to a guest fd as write(2) would, within the guest's write
    // limits: the number of bytes written, or -errno (-EBADF, -EFBIG, -EDQUOT, ...).
    int64_t write(uint64_t guest_fd, std::span<const std::byte> bytes);

    // The same for writev(2), and for pwrite64(2) and pwritev(2) when there is
    // an `offset`: `pieces` are host ranges (guest memory, already checked).
    int64_t write(uint64_t guest_fd, std::span<const iovec> pieces, std::optional<uint64_t> offset);

    // ftruncate(2) within the guest's write limits: lengthening a file to
    // `length` bytes counts as writing its new bytes, all or nothing (-EFBIG
    // past the file-size limit, -EDQUOT past the quota). 0, or -errno.
    int64_t truncate(uint64_t guest_fd, uint64_t length);

    // Closes a guest fd: 0, or -EBADF. The VMM's standard streams stay open on
    // the host; only the guest's name for them goes away.
    int64_t close(uint64_t guest_fd);

    // dup(2) and fcntl(F_DUPFD): a new guest fd, the lowest free one from
    // `lowest` up, for the same open file (a host dup), or -errno.
    int64_t duplicate(uint64_t guest_fd, uint64_t lowest, bool close_on_exec);

    // dup2(2) and dup3(2): `new_fd` becomes a copy of `guest_fd`, closing
    // what it was first. Returns new_fd, or -errno.
    int64_t duplicate_to(uint64_t guest_fd, uint64_t new_fd, bool close_on_exec);

    // The guest's FD_CLOEXEC flag (fcntl F_GETFD and F_SETFD). Nothing is ever
    // executed here, but a program may read back what it set. -EBADF for no fd.
    int64_t close_on_exec(uint64_t guest_fd) const;
    int64_t set_close_on_exec(uint64_t guest_fd, bool close_on_exec);

  private:
    struct Entry {
        int host_fd = -1; // -1: free
        UniqueFd owned;   // set when the VMM opened the file for the guest
        bool close_on_exec = false;
        bool inside = false; // opened inside the working directory, or a dup of such
    };
    int64_t add_entry(UniqueFd host_file, bool close_on_exec, bool inside);
    std::array<Entry, kMaxFiles> entries_;
    GuestPaths paths_;
    WriteLimits limits_;
};

} // namespace vmm
