#include "file_calls.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

namespace vmm {

namespace {

// The size of what the kernel writes for the terminal ioctls: its own
// struct termios (not the C library's, which is larger) and struct winsize.
constexpr uint64_t kKernelTermiosSize = 36; // 4 flag words, c_line, 19 control characters
constexpr uint64_t kWinsizeSize = 8;        // 4 shorts

// The guest's iovec array at `address`, as host iovecs into guest memory,
// buffers the call reads (writev) or fills (readv): 0, or -EINVAL (too many,
// or too much in all) or -EFAULT (memory the program may not use so).
int64_t host_iovecs(Call& call, uint64_t address, uint64_t count, BufferUse use,
                    std::vector<iovec>& pieces)
{
    struct GuestIovec {
        uint64_t base;
        uint64_t length;
    };
    if (count > IOV_MAX) {
        return -EINVAL;
    }
    const std::optional<std::span<std::byte>> array =
        call.memory.range(address, count * sizeof(GuestIovec));
    if (!array) {
        return -EFAULT;
    }
    uint64_t total = 0;
    for (uint64_t i = 0; i < count; ++i) {
        GuestIovec piece;
        std::memcpy(&piece, array->data() + i * sizeof piece, sizeof piece);
        total += piece.length;
        if (piece.length > SSIZE_MAX || total > SSIZE_MAX) {
            return -EINVAL; // as readv(2) and writev(2) say of a total past SSIZE_MAX
        }
        const std::optional<std::span<std::byte>> bytes =
            use == BufferUse::kFill ? call.memory.writable_range(piece.base, piece.length)
                                    : call.memory.range(piece.base, piece.length);
        if (!bytes) {
            return -EFAULT;
        }
        pieces.push_back({bytes->data(), bytes->size()});
    }
    return 0;
}

} // namespace

int64_t sys_read(Call& call)
{
    const int fd = call.files.host_fd(call.argument[0]);
    const std::optional<std::span<std::byte>> bytes =
        call.memory.writable_range(call.argument[1], call.argument[2]);
    if (!open_for_reading(fd)) {
        return -EBADF; // first, whatever the buffer
    }
    if (!bytes) {
        return -EFAULT;
    }
    return host_result(::read(fd, bytes->data(), bytes->size()));
}

int64_t sys_pread64(Call& call)
{
    const int fd = call.files.host_fd(call.argument[0]);
    const std::optional<std::span<std::byte>> bytes =
        call.memory.writable_range(call.argument[1], call.argument[2]);
    if (!open_for_reading(fd)) {
        return -EBADF;
    }
    if (!bytes) {
        return -EFAULT;
    }
    return host_result(
        ::pread(fd, bytes->data(), bytes->size(), static_cast<off_t>(call.argument[3])));
}

int64_t sys_readv(Call& call)
{
    const int fd = call.files.host_fd(call.argument[0]);
    if (!open_for_reading(fd)) {
        return -EBADF;
    }
    std::vector<iovec> pieces;
    if (const int64_t error =
            host_iovecs(call, call.argument[1], call.argument[2], BufferUse::kFill, pieces)) {
        return error;
    }
    return host_result(::readv(fd, pieces.data(), static_cast<int>(pieces.size())));
}

int64_t sys_writev(Call& call)
{
    if (!open_for_writing(call.files.host_fd(call.argument[0]))) {
        return -EBADF;
    }
    std::vector<iovec> pieces;
    if (const int64_t error =
            host_iovecs(call, call.argument[1], call.argument[2], BufferUse::kRead, pieces)) {
        return error;
    }
    // Through GuestFiles, like write: the guest's file-size limit and disk quota hold.
    return call.files.write(call.argument[0], pieces, std::nullopt);
}

int64_t sys_pwrite64(Call& call)
{
    const std::optional<std::span<std::byte>> bytes =
        call.memory.range(call.argument[1], call.argument[2]);
    if (!open_for_writing(call.files.host_fd(call.argument[0]))) {
        return -EBADF;
    }
    if (!bytes) {
        return -EFAULT;
    }
    const iovec piece{bytes->data(), bytes->size()};
    return call.files.write(call.argument[0], std::span(&piece, 1), call.argument[3]);
}

int64_t sys_lseek(Call& call)
{
    const int fd = call.files.host_fd(call.argument[0]);
    if (fd < 0) {
        return -EBADF;
    }
    return host_result(
        ::lseek(fd, static_cast<off_t>(call.argument[1]), static_cast<int>(call.argument[2])));
}

int64_t sys_ftruncate(Call& call)
{
    // Through GuestFiles: a longer file counts against the guest's write limits.
    return call.files.truncate(call.argument[0], call.argument[1]);
}

int64_t sys_openat(Call& call)
{
    const GuestPath& path = call.path[1];
    if (path.error) {
        return path.error;
    }
    return call.files.open_at(call.argument[0], path.text, call.argument[2], call.argument[3]);
}

int64_t sys_fstat(Call& call)
{
    const int fd = call.files.host_fd(call.argument[0]);
    const std::optional<std::span<std::byte>> status =
        call.memory.writable_range(call.argument[1], kStatSize);
    if (fd < 0) {
        return -EBADF;
    }
    if (!status) {
        return -EFAULT;
    }
    // The raw call: the kernel writes its struct stat straight into guest memory.
    return host_result(::syscall(SYS_fstat, fd, status->data()));
}

int64_t sys_getdents64(Call& call)
{
    const int fd = call.files.host_fd(call.argument[0]);
    const std::optional<std::span<std::byte>> entries =
        call.memory.writable_range(call.argument[1], call.argument[2]);
    if (fd < 0) {
        return -EBADF;
    }
    if (!entries) {
        return -EFAULT;
    }
    return host_result(::syscall(SYS_getdents64, fd, entries->data(), entries->size()));
}

int64_t sys_ioctl(Call& call)
{
    const int fd = call.files.host_fd(call.argument[0]);
    if (fd < 0) {
        return -EBADF;
    }
    // The C library asks whether an fd is a terminal (TCGETS: isatty(), and
    // the line buffering of stdout) and how wide it is (TIOCGWINSZ). A file
    // or a pipe is no terminal: ENOTTY, as Linux answers. A terminal answers
    // for itself. No other request reaches the host (the VMM's seccomp filter
    // allows only these two): ENOTTY, as for a file that has none.
    const auto request = static_cast<uint32_t>(call.argument[1]); // the kernel's unsigned int
    const uint64_t size = request == TCGETS       ? kKernelTermiosSize
                          : request == TIOCGWINSZ ? kWinsizeSize
                                                  : 0;
    if (size == 0 || !::isatty(fd)) {
        return -ENOTTY;
    }
    const std::optional<std::span<std::byte>> answer =
        call.memory.writable_range(call.argument[2], size);
    if (!answer) {
        return -EFAULT;
    }
    return host_result(::ioctl(fd, request, answer->data()));
}

int64_t sys_fcntl(Call& call)
{
    const uint64_t guest_fd = call.argument[0];
    const uint64_t argument = call.argument[2];
    const int fd = call.files.host_fd(guest_fd);
    if (fd < 0) {
        return -EBADF;
    }
    switch (static_cast<int>(call.argument[1])) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        return call.files.duplicate(guest_fd, argument, call.argument[1] == F_DUPFD_CLOEXEC);
    case F_GETFD:
        return call.files.close_on_exec(guest_fd) == 1 ? FD_CLOEXEC : 0;
    case F_SETFD:
        return call.files.set_close_on_exec(guest_fd, (argument & FD_CLOEXEC) != 0);
    case F_GETFL:
    case F_SETFL:
        // The file's status flags (O_APPEND, O_NONBLOCK, ...) are the host file's.
        return host_result(
            ::fcntl(fd, static_cast<int>(call.argument[1]), static_cast<int>(argument)));
    default:
        return -EINVAL; // locks, leases, signals, pipe sizes: not here
    }
}

int64_t sys_dup(Call& call)
{
    return call.files.duplicate(call.argument[0], 0, false);
}

int64_t sys_dup2(Call& call)
{
    return call.files.duplicate_to(call.argument[0], call.argument[1], false);
}

int64_t sys_dup3(Call& call)
{
    const uint64_t flags = call.argument[2];
    if ((flags & ~uint64_t{O_CLOEXEC}) || call.argument[0] == call.argument[1]) {
        return -EINVAL;
    }
    return call.files.duplicate_to(call.argument[0], call.argument[1], (flags & O_CLOEXEC) != 0);
}

} // namespace vmm
