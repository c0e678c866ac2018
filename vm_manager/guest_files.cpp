#include "guest_files.hpp"

#include "error.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace vmm {

GuestFiles::GuestFiles(const std::string& workdir, uint64_t disk_quota) : limits_(disk_quota)
{
    const int fd = ::open(workdir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        throw SystemError("opening the working directory " + workdir, errno);
    }
    workdir_ = UniqueFd(fd);
    for (int standard_stream = 0; standard_stream < 3; ++standard_stream) {
        entries_[standard_stream].host_fd = standard_stream;
    }
}

int64_t GuestFiles::open(const std::string& path, uint64_t flags, uint64_t mode)
{
    // open(2) ignores flag bits it does not know and uses the mode only when
    // creating; openat2(2) refuses both with EINVAL. Do what open(2) does.
    constexpr uint64_t kLinuxLargeFile = 0100000; // O_LARGEFILE (glibc defines it as 0 here)
    constexpr uint64_t kKnownFlags = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND |
                                     O_NONBLOCK | O_DSYNC | O_ASYNC | O_DIRECT | kLinuxLargeFile |
                                     O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH |
                                     O_SYNC | O_TMPFILE;
    open_how how{};
    how.flags = (flags & kKnownFlags) | O_CLOEXEC; // the guest's fds are the VMM's business
    if (how.flags & O_PATH) {
        // O_PATH beats everything else: open(2) keeps only the flags that mean
        // something with it (build_open_how() in fs/open.c), such as musl's
        // O_LARGEFILE, which openat2(2) would refuse.
        how.flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    }
    const bool creates = (how.flags & O_CREAT) || (how.flags & O_TMPFILE) == O_TMPFILE;
    how.mode = creates ? guest_file_mode(mode) : 0;
    // The kernel resolves the path and refuses any step out of the working
    // directory, however it is spelled: safer than checking the string. Nor
    // may a path cross into another mount under it (a procfs mounted there
    // would lead to the VMM's own /proc/self/mem), nor follow /proc's magic links.
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS;
    long fd;
    int attempts = 0;
    do {
        fd = ::syscall(SYS_openat2, workdir_.get(), path.c_str(), &how, sizeof how);
        // EAGAIN: a rename somewhere on the host, while the path was walked,
        // kept the kernel from proving that ".." stayed inside. The guest did
        // nothing wrong: walk again (openat2(2) says to retry).
    } while (fd < 0 && errno == EAGAIN && ++attempts < kResolveAttempts);
    if (fd < 0) {
        return -errno;
    }
    return add(UniqueFd(static_cast<int>(fd)));
}

int64_t GuestFiles::add(UniqueFd host_file)
{
    if (!host_file) {
        return -EBADF;
    }
    for (int guest_fd = 0; guest_fd < kMaxFiles; ++guest_fd) {
        Entry& entry = entries_[guest_fd];
        if (entry.host_fd == -1) {
            entry.host_fd = host_file.get();
            entry.owned = std::move(host_file);
            return guest_fd;
        }
    }
    return -EMFILE; // host_file is closed as it goes out of scope
}

int GuestFiles::host_fd(uint64_t guest_fd) const
{
    return guest_fd < kMaxFiles ? entries_[guest_fd].host_fd : -1;
}

int64_t GuestFiles::write(uint64_t guest_fd, std::span<const std::byte> bytes)
{
    const int fd = host_fd(guest_fd);
    if (fd < 0) {
        return -EBADF;
    }
    auto host_write = [&](std::size_t count) -> int64_t {
        const ssize_t written = ::write(fd, bytes.data(), count);
        return written < 0 ? -errno : written;
    };
    struct stat file;
    const int status_flags = ::fcntl(fd, F_GETFL);
    if (status_flags < 0 || ::fstat(fd, &file) != 0) {
        return -errno;
    }
    if (!S_ISREG(file.st_mode) || (status_flags & O_ACCMODE) == O_RDONLY ||
        (status_flags & O_PATH)) {
        // Nothing lands on a disk (a pipe, a terminal, /dev/null), or the
        // kernel refuses the write whatever its size (EBADF), as it should.
        return host_write(bytes.size());
    }
    // A regular file: the write lands at the file position, or at the end
    // with O_APPEND. That and the file's size say how much it would grow.
    const off_t offset = (status_flags & O_APPEND) ? file.st_size : ::lseek(fd, 0, SEEK_CUR);
    if (offset < 0) {
        return -errno;
    }
    const auto size = static_cast<uint64_t>(file.st_size);
    const auto start = static_cast<uint64_t>(offset);
    const int64_t allowed = limits_.allowed(size, start, bytes.size());
    if (allowed <= 0) {
        return allowed; // 0 for an empty write, or -EFBIG, -EDQUOT
    }
    const int64_t written = host_write(static_cast<std::size_t>(allowed));
    if (written > 0) {
        limits_.charge(size, std::max(size, start + static_cast<uint64_t>(written)));
    }
    return written;
}

int64_t GuestFiles::close(uint64_t guest_fd)
{
    if (host_fd(guest_fd) == -1) {
        return -EBADF;
    }
    Entry& entry = entries_[guest_fd];
    entry.owned.reset();
    entry.host_fd = -1;
    return 0;
}

} // namespace vmm
