#include "guest_files.hpp"

#include "error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <vector>

namespace vmm {

namespace {

// The access mode the file behind `host_fd` was opened with: O_RDONLY,
// O_WRONLY or O_RDWR; -1 for no fd, or one opened with O_PATH (no access).
int access_mode(int host_fd)
{
    const int status_flags = host_fd < 0 ? -1 : ::fcntl(host_fd, F_GETFL);
    return status_flags < 0 || (status_flags & O_PATH) ? -1 : status_flags & O_ACCMODE;
}

} // namespace

bool open_for_writing(int host_fd)
{
    const int mode = access_mode(host_fd);
    return mode == O_WRONLY || mode == O_RDWR;
}

bool open_for_reading(int host_fd)
{
    const int mode = access_mode(host_fd);
    return mode == O_RDONLY || mode == O_RDWR;
}

GuestFiles::GuestFiles(const std::string& workdir, uint64_t disk_quota)
    : paths_(workdir), limits_(disk_quota)
{
    for (int standard_stream = 0; standard_stream < 3; ++standard_stream) {
        entries_[standard_stream].host_fd = standard_stream;
    }
}

int64_t GuestFiles::open(const std::string& path, uint64_t flags, uint64_t mode)
{
    return open_at(static_cast<uint32_t>(kWorkingDirectory), path, flags, mode);
}

int64_t GuestFiles::open_at(uint64_t dir_fd, std::string_view path, uint64_t flags, uint64_t mode)
{
    const PathStart start = directory(dir_fd);
    if (start.error || !start.own) {
        return start.error ? start.error : -EXDEV;
    }
    const int64_t fd = paths_.open(start.fd, path, flags, mode);
    if (fd < 0) {
        return fd;
    }
    return add_entry(UniqueFd(static_cast<int>(fd)), (flags & O_CLOEXEC) != 0, true);
}

int64_t GuestFiles::add(UniqueFd host_file, bool close_on_exec)
{
    return add_entry(std::move(host_file), close_on_exec, false);
}

int64_t GuestFiles::add_entry(UniqueFd host_file, bool close_on_exec, bool inside)
{
    if (!host_file) {
        return -EBADF;
    }
    for (int guest_fd = 0; guest_fd < kMaxFiles; ++guest_fd) {
        Entry& entry = entries_[guest_fd];
        if (entry.host_fd == -1) {
            entry.host_fd = host_file.get();
            entry.owned = std::move(host_file);
            entry.close_on_exec = close_on_exec;
            entry.inside = inside;
            return guest_fd;
        }
    }
    return -EMFILE; // host_file is closed as it goes out of scope
}

int GuestFiles::host_fd(uint64_t guest_fd) const
{
    return guest_fd < kMaxFiles ? entries_[guest_fd].host_fd : -1;
}

int64_t GuestFiles::own_file(uint64_t guest_fd) const
{
    const int fd = host_fd(guest_fd);
    return fd < 0 ? -EBADF : entries_[guest_fd].inside ? fd : -EPERM;
}

GuestFiles::PathStart GuestFiles::directory(uint64_t dir_fd) const
{
    // The kernel reads a dirfd as an int: AT_FDCWD is -100 in the low 32 bits.
    if (static_cast<int32_t>(dir_fd) == kWorkingDirectory) {
        return {kWorkingDirectory, true, 0};
    }
    const int fd = host_fd(dir_fd);
    // A standard stream is not the guest's own: the VMM's stdin may be a
    // directory outside, and a path from it would lead there.
    return fd < 0 ? PathStart{-1, false, -EBADF} : PathStart{fd, entries_[dir_fd].inside, 0};
}

int64_t GuestFiles::write(uint64_t guest_fd, std::span<const std::byte> bytes)
{
    const iovec piece{const_cast<std::byte*>(bytes.data()), bytes.size()};
    return write(guest_fd, std::span(&piece, 1), std::nullopt);
}

int64_t GuestFiles::write(uint64_t guest_fd, std::span<const iovec> pieces,
                          std::optional<uint64_t> offset)
{
    const int fd = host_fd(guest_fd);
    if (fd < 0) {
        return -EBADF;
    }
    uint64_t total = 0;
    for (const iovec& piece : pieces) {
        total += piece.iov_len;
        if (total > SSIZE_MAX) {
            return -EINVAL; // as writev(2) says of a total that overflows
        }
    }
    // The host call on the first `count` bytes of the pieces.
    auto host_write = [&](uint64_t count) -> int64_t {
        std::vector<iovec> cut;
        for (const iovec& piece : pieces) {
            if (count == 0) {
                break;
            }
            cut.push_back({piece.iov_base, std::min<uint64_t>(piece.iov_len, count)});
            count -= cut.back().iov_len;
        }
        const auto count_of = static_cast<int>(cut.size());
        const ssize_t written =
            offset ? ::pwritev(fd, cut.data(), count_of, static_cast<off_t>(*offset))
                   : ::writev(fd, cut.data(), count_of);
        return written < 0 ? -errno : written;
    };
    if (offset && *offset > INT64_MAX) {
        return -EINVAL; // a negative offset, for the kernel
    }
    struct stat file;
    const int status_flags = ::fcntl(fd, F_GETFL);
    if (status_flags < 0 || ::fstat(fd, &file) != 0) {
        return -errno;
    }
    if (!S_ISREG(file.st_mode) || !open_for_writing(fd)) {
        // Nothing lands on a disk (a pipe, a terminal, /dev/null), or the
        // kernel refuses the write whatever its size (EBADF), as it should.
        return host_write(total);
    }
    // A regular file: the write lands at the offset, at the file position, or
    // at the end with O_APPEND. That and the file's size say how much it would grow.
    const off_t start = offset                      ? static_cast<off_t>(*offset)
                        : (status_flags & O_APPEND) ? file.st_size
                                                    : ::lseek(fd, 0, SEEK_CUR);
    if (start < 0) {
        return -errno;
    }
    const auto size = static_cast<uint64_t>(file.st_size);
    const auto position = static_cast<uint64_t>(start);
    const int64_t allowed = limits_.allowed(size, position, total);
    if (allowed <= 0) {
        return allowed; // 0 for an empty write, or -EFBIG, -EDQUOT
    }
    const int64_t written = host_write(static_cast<uint64_t>(allowed));
    if (written > 0) {
        limits_.charge(size, std::max(size, position + static_cast<uint64_t>(written)));
    }
    return written;
}

int64_t GuestFiles::truncate(uint64_t guest_fd, uint64_t length)
{
    const int64_t own = own_file(guest_fd);
    if (own < 0) {
        return own;
    }
    const int fd = static_cast<int>(own);
    if (length > INT64_MAX) {
        return -EINVAL; // a negative length, for the kernel
    }
    struct stat file;
    if (::fstat(fd, &file) != 0) {
        return -errno;
    }
    const auto size = static_cast<uint64_t>(file.st_size);
    if (S_ISREG(file.st_mode) && length > size) {
        const int64_t allowed = limits_.allowed(size, size, length - size);
        if (allowed < 0 || static_cast<uint64_t>(allowed) < length - size) {
            return length > kMaxGuestFileSize ? -EFBIG : allowed < 0 ? allowed : -EDQUOT;
        }
    }
    if (::ftruncate(fd, static_cast<off_t>(length)) != 0) {
        return -errno;
    }
    limits_.charge(size, length);
    return 0;
}

int64_t GuestFiles::close(uint64_t guest_fd)
{
    if (host_fd(guest_fd) == -1) {
        return -EBADF;
    }
    Entry& entry = entries_[guest_fd];
    entry.owned.reset();
    entry.host_fd = -1;
    entry.close_on_exec = false;
    entry.inside = false;
    return 0;
}

int64_t GuestFiles::duplicate(uint64_t guest_fd, uint64_t lowest, bool close_on_exec)
{
    const int fd = host_fd(guest_fd);
    if (fd < 0) {
        return -EBADF;
    }
    if (lowest >= kMaxFiles) {
        return -EINVAL; // as fcntl(F_DUPFD) says of an argument past RLIMIT_NOFILE
    }
    for (uint64_t new_fd = lowest; new_fd < kMaxFiles; ++new_fd) {
        if (entries_[new_fd].host_fd == -1) {
            return duplicate_to(guest_fd, new_fd, close_on_exec);
        }
    }
    return -EMFILE;
}

int64_t GuestFiles::duplicate_to(uint64_t guest_fd, uint64_t new_fd, bool close_on_exec)
{
    const int fd = host_fd(guest_fd);
    if (fd < 0 || new_fd >= kMaxFiles) {
        return -EBADF;
    }
    if (new_fd == guest_fd) {
        return static_cast<int64_t>(new_fd); // dup2(fd, fd) does nothing (dup3 refuses it)
    }
    // A new host fd for the same open file: the two share the file position
    // and status flags, as two guest fds do after dup() on Linux.
    UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
    if (!copy) {
        return -errno;
    }
    Entry& entry = entries_[new_fd];
    entry.owned = std::move(copy);
    entry.host_fd = entry.owned.get();
    entry.close_on_exec = close_on_exec;
    entry.inside = entries_[guest_fd].inside;
    return static_cast<int64_t>(new_fd);
}

int64_t GuestFiles::close_on_exec(uint64_t guest_fd) const
{
    return host_fd(guest_fd) < 0 ? -EBADF : entries_[guest_fd].close_on_exec;
}

int64_t GuestFiles::set_close_on_exec(uint64_t guest_fd, bool close_on_exec)
{
    if (host_fd(guest_fd) < 0) {
        return -EBADF;
    }
    entries_[guest_fd].close_on_exec = close_on_exec;
    return 0;
}

} // namespace vmm
