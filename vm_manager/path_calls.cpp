#include "path_calls.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace vmm {

namespace {

// AT_FDCWD as a guest passes it: the older calls are their *at forms with it.
constexpr uint64_t kCwd = static_cast<uint32_t>(AT_FDCWD);

// What an *at call's dirfd, path and flags (AT_EMPTY_PATH,
// AT_SYMLINK_NOFOLLOW) name: a host fd that the kernel's calls take with
// AT_EMPTY_PATH, or -errno in `error`.
struct Target {
    UniqueFd owned; // the O_PATH fd found, when the path named something
    int fd = -1;
    int64_t error = 0;
};

// Whether a call changes what it names: one that does may not act on the
// file behind a standard stream (AT_EMPTY_PATH), which lies outside.
enum class Use { kRead, kChange };

Target target_of(Call& call, uint64_t dir_fd, const GuestPath& path, uint64_t flags, Use use)
{
    if (path.error) {
        return {UniqueFd(), -1, path.error};
    }
    const GuestFiles::PathStart start = call.files.directory(dir_fd);
    if (start.error) {
        return {UniqueFd(), -1, start.error};
    }
    std::string_view name = path.text;
    if (name.empty()) {
        if (!(flags & AT_EMPTY_PATH)) {
            return {UniqueFd(), -1, -ENOENT};
        }
        if (start.fd != kWorkingDirectory) {
            // The guest's fd itself: a standard stream's file may be read from only.
            return {UniqueFd(), start.fd, start.own || use == Use::kRead ? 0 : -EPERM};
        }
        name = "."; // the working directory itself
    }
    if (!start.own) {
        return {UniqueFd(), -1, -EXDEV}; // no path from a standard stream (guest_files.hpp)
    }
    const int64_t fd = call.files.paths().look_up(start.fd, name, !(flags & AT_SYMLINK_NOFOLLOW));
    if (fd < 0) {
        return {UniqueFd(), -1, fd};
    }
    return {UniqueFd(static_cast<int>(fd)), static_cast<int>(fd), 0};
}

// The directory and last name of an *at call's dirfd and path.
GuestPaths::Parent parent_of(Call& call, uint64_t dir_fd, const GuestPath& path)
{
    if (path.error) {
        return {UniqueFd(), "", path.error};
    }
    const GuestFiles::PathStart start = call.files.directory(dir_fd);
    if (start.error || !start.own) {
        return {UniqueFd(), "", start.error ? start.error : -EXDEV};
    }
    return call.files.paths().parent_of(start.fd, path.text);
}

// The kernel's name for what a host fd stands for: with AT_SYMLINK_FOLLOW,
// the calls that have no AT_EMPTY_PATH (chmod, link) act on the fd's file
// itself through it, and on nothing else. It needs /proc mounted in the VMM's world.
std::string fd_path(int fd)
{
    return "/proc/self/fd/" + std::to_string(fd);
}

int64_t stat_at(Call& call, uint64_t dir_fd, const GuestPath& path, uint64_t buffer, uint64_t flags)
{
    if (flags & ~uint64_t{AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT}) {
        return -EINVAL;
    }
    const Target target = target_of(call, dir_fd, path, flags, Use::kRead);
    if (target.error) {
        return target.error;
    }
    const std::optional<std::span<std::byte>> status =
        call.memory.writable_range(buffer, kStatSize);
    if (!status) {
        return -EFAULT;
    }
    // The kernel writes its struct stat straight into guest memory.
    return host_result(::syscall(SYS_newfstatat, target.fd, "", status->data(), AT_EMPTY_PATH));
}

int64_t access_at(Call& call, uint64_t dir_fd, const GuestPath& path, uint64_t mode, uint64_t flags)
{
    if ((mode & ~uint64_t{R_OK | W_OK | X_OK}) ||
        (flags & ~uint64_t{AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH})) {
        return -EINVAL;
    }
    const Target target = target_of(call, dir_fd, path, flags, Use::kRead);
    if (target.error) {
        return target.error;
    }
    return host_result(::syscall(SYS_faccessat2, target.fd, "", static_cast<int>(mode),
                                 AT_EMPTY_PATH | static_cast<int>(flags & AT_EACCESS)));
}

int64_t readlink_at(Call& call, uint64_t dir_fd, const GuestPath& path, uint64_t buffer,
                    uint64_t size)
{
    if (static_cast<int32_t>(size) <= 0) {
        return -EINVAL; // the kernel's int bufsiz
    }
    const Target target = target_of(call, dir_fd, path, AT_SYMLINK_NOFOLLOW, Use::kRead);
    if (target.error) {
        return target.error;
    }
    struct stat info;
    if (::fstat(target.fd, &info) != 0) {
        return -errno;
    }
    if (!S_ISLNK(info.st_mode)) {
        return -EINVAL; // not a symbolic link
    }
    const std::optional<std::span<std::byte>> text =
        call.memory.writable_range(buffer, static_cast<uint32_t>(size));
    if (!text) {
        return -EFAULT;
    }
    return host_result(
        ::readlinkat(target.fd, "", reinterpret_cast<char*>(text->data()), text->size()));
}

int64_t chmod_at(Call& call, uint64_t dir_fd, const GuestPath& path, uint64_t mode)
{
    const Target target = target_of(call, dir_fd, path, 0, Use::kChange);
    if (target.error) {
        return target.error;
    }
    return host_result(::chmod(fd_path(target.fd).c_str(), guest_file_mode(mode)));
}

int64_t chown_fd(int fd, uint64_t owner, uint64_t group)
{
    struct stat info;
    if (::fstat(fd, &info) != 0) {
        return -errno;
    }
    // -1 keeps an id; the kernel reads both as 32-bit ids.
    const auto keeps = [](uint64_t asked, uint32_t now) {
        return static_cast<uint32_t>(asked) == UINT32_MAX || static_cast<uint32_t>(asked) == now;
    };
    return keeps(owner, info.st_uid) && keeps(group, info.st_gid) ? 0 : -EPERM;
}

int64_t chown_at(Call& call, uint64_t dir_fd, const GuestPath& path, uint64_t owner, uint64_t group,
                 uint64_t flags)
{
    if (flags & ~uint64_t{AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH}) {
        return -EINVAL;
    }
    const Target target = target_of(call, dir_fd, path, flags, Use::kRead);
    if (target.error) {
        return target.error;
    }
    return chown_fd(target.fd, owner, group);
}

int64_t mkdir_at(Call& call, uint64_t dir_fd, const GuestPath& path, uint64_t mode)
{
    const GuestPaths::Parent parent = parent_of(call, dir_fd, path);
    if (parent.error) {
        return parent.error;
    }
    return host_result(
        ::mkdirat(parent.directory.get(), parent.name.c_str(), guest_file_mode(mode)));
}

int64_t unlink_at(Call& call, uint64_t dir_fd, const GuestPath& path, uint64_t flags)
{
    if (flags & ~uint64_t{AT_REMOVEDIR}) {
        return -EINVAL;
    }
    const GuestPaths::Parent parent = parent_of(call, dir_fd, path);
    if (parent.error) {
        return parent.error;
    }
    return host_result(
        ::unlinkat(parent.directory.get(), parent.name.c_str(), static_cast<int>(flags)));
}

int64_t rename_at(Call& call, uint64_t old_dir, const GuestPath& old_path, uint64_t new_dir,
                  const GuestPath& new_path, uint64_t flags)
{
    if (flags & ~uint64_t{RENAME_NOREPLACE | RENAME_EXCHANGE}) {
        return -EINVAL;
    }
    const GuestPaths::Parent from = parent_of(call, old_dir, old_path);
    if (from.error) {
        return from.error;
    }
    const GuestPaths::Parent to = parent_of(call, new_dir, new_path);
    if (to.error) {
        return to.error;
    }
    return host_result(::renameat2(from.directory.get(), from.name.c_str(), to.directory.get(),
                                   to.name.c_str(), static_cast<unsigned>(flags)));
}

int64_t link_at(Call& call, uint64_t old_dir, const GuestPath& old_path, uint64_t new_dir,
                const GuestPath& new_path, uint64_t flags)
{
    if (flags & ~uint64_t{AT_SYMLINK_FOLLOW | AT_EMPTY_PATH}) {
        return -EINVAL;
    }
    const GuestPaths::Parent to = parent_of(call, new_dir, new_path);
    if (to.error) {
        return to.error;
    }
    if ((flags & AT_SYMLINK_FOLLOW) || ((flags & AT_EMPTY_PATH) && old_path.text.empty())) {
        // What the old path leads to, the kernel finding it inside: linked through its fd.
        const Target target = target_of(call, old_dir, old_path,
                                        (flags & AT_EMPTY_PATH) |
                                            ((flags & AT_SYMLINK_FOLLOW) ? 0 : AT_SYMLINK_NOFOLLOW),
                                        Use::kChange);
        if (target.error) {
            return target.error;
        }
        return host_result(::linkat(AT_FDCWD, fd_path(target.fd).c_str(), to.directory.get(),
                                    to.name.c_str(), AT_SYMLINK_FOLLOW));
    }
    const GuestPaths::Parent from = parent_of(call, old_dir, old_path);
    if (from.error) {
        return from.error;
    }
    return host_result(
        ::linkat(from.directory.get(), from.name.c_str(), to.directory.get(), to.name.c_str(), 0));
}

int64_t symlink_at(Call& call, const GuestPath& target, uint64_t dir_fd, const GuestPath& path)
{
    // The target is only text, kept in the link: it leads anywhere only when
    // followed, and every walk that follows it stays inside.
    if (target.error) {
        return target.error;
    }
    const GuestPaths::Parent parent = parent_of(call, dir_fd, path);
    if (parent.error) {
        return parent.error;
    }
    return host_result(
        ::symlinkat(std::string(target.text).c_str(), parent.directory.get(), parent.name.c_str()));
}

} // namespace

int64_t sys_stat(Call& call)
{
    return stat_at(call, kCwd, call.path[0], call.argument[1], 0);
}

int64_t sys_lstat(Call& call)
{
    return stat_at(call, kCwd, call.path[0], call.argument[1], AT_SYMLINK_NOFOLLOW);
}

int64_t sys_newfstatat(Call& call)
{
    return stat_at(call, call.argument[0], call.path[1], call.argument[2], call.argument[3]);
}

int64_t sys_statx(Call& call)
{
    const uint64_t flags = call.argument[2];
    if (flags &
        ~uint64_t{AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE}) {
        return -EINVAL;
    }
    const Target target = target_of(call, call.argument[0], call.path[1], flags, Use::kRead);
    if (target.error) {
        return target.error;
    }
    const std::optional<std::span<std::byte>> status =
        call.memory.writable_range(call.argument[4], kStatxSize);
    if (!status) {
        return -EFAULT;
    }
    return host_result(::syscall(SYS_statx, target.fd, "",
                                 AT_EMPTY_PATH | static_cast<int>(flags & AT_STATX_SYNC_TYPE),
                                 static_cast<unsigned>(call.argument[3]), status->data()));
}

int64_t sys_access(Call& call)
{
    return access_at(call, kCwd, call.path[0], call.argument[1], 0);
}

int64_t sys_faccessat(Call& call)
{
    return access_at(call, call.argument[0], call.path[1], call.argument[2], 0);
}

int64_t sys_faccessat2(Call& call)
{
    return access_at(call, call.argument[0], call.path[1], call.argument[2], call.argument[3]);
}

int64_t sys_readlink(Call& call)
{
    return readlink_at(call, kCwd, call.path[0], call.argument[1], call.argument[2]);
}

int64_t sys_readlinkat(Call& call)
{
    return readlink_at(call, call.argument[0], call.path[1], call.argument[2], call.argument[3]);
}

int64_t sys_chmod(Call& call)
{
    return chmod_at(call, kCwd, call.path[0], call.argument[1]);
}

int64_t sys_fchmod(Call& call)
{
    const int64_t fd = call.files.own_file(call.argument[0]); // not a standard stream's file
    if (fd < 0) {
        return fd;
    }
    return host_result(::fchmod(static_cast<int>(fd), guest_file_mode(call.argument[1])));
}

int64_t sys_fchmodat(Call& call)
{
    return chmod_at(call, call.argument[0], call.path[1], call.argument[2]);
}

int64_t sys_chown(Call& call)
{
    return chown_at(call, kCwd, call.path[0], call.argument[1], call.argument[2], 0);
}

int64_t sys_lchown(Call& call)
{
    return chown_at(call, kCwd, call.path[0], call.argument[1], call.argument[2],
                    AT_SYMLINK_NOFOLLOW);
}

int64_t sys_fchown(Call& call)
{
    // It never changes anything (chown_fd()): a standard stream's file may be asked too.
    const int fd = call.files.host_fd(call.argument[0]);
    return fd < 0 ? -EBADF : chown_fd(fd, call.argument[1], call.argument[2]);
}

int64_t sys_fchownat(Call& call)
{
    return chown_at(call, call.argument[0], call.path[1], call.argument[2], call.argument[3],
                    call.argument[4]);
}

int64_t sys_utimensat(Call& call)
{
    const uint64_t flags = call.argument[3];
    if (flags & ~uint64_t{AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH}) {
        return -EINVAL;
    }
    // Two struct timespec, or NULL for "now".
    std::byte* times = nullptr;
    if (call.argument[2] != 0) {
        const std::optional<std::span<std::byte>> given = call.memory.range(call.argument[2], 32);
        if (!given) {
            return -EFAULT;
        }
        times = given->data();
    }
    if (call.argument[1] == 0 && static_cast<int32_t>(call.argument[0]) != AT_FDCWD) {
        // No path: the guest's fd itself (what futimens() calls).
        const int64_t fd = call.files.own_file(call.argument[0]);
        if (flags != 0) {
            return -EINVAL;
        }
        if (fd < 0) {
            return fd;
        }
        return host_result(::syscall(SYS_utimensat, fd, nullptr, times, 0));
    }
    const Target target = target_of(call, call.argument[0], call.path[1], flags, Use::kChange);
    if (target.error) {
        return target.error;
    }
    return host_result(
        ::syscall(SYS_utimensat, target.fd, "", times, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
}

int64_t sys_mkdir(Call& call)
{
    return mkdir_at(call, kCwd, call.path[0], call.argument[1]);
}

int64_t sys_mkdirat(Call& call)
{
    return mkdir_at(call, call.argument[0], call.path[1], call.argument[2]);
}

int64_t sys_unlink(Call& call)
{
    return unlink_at(call, kCwd, call.path[0], 0);
}

int64_t sys_rmdir(Call& call)
{
    return unlink_at(call, kCwd, call.path[0], AT_REMOVEDIR);
}

int64_t sys_unlinkat(Call& call)
{
    return unlink_at(call, call.argument[0], call.path[1], call.argument[2]);
}

int64_t sys_rename(Call& call)
{
    return rename_at(call, kCwd, call.path[0], kCwd, call.path[1], 0);
}

int64_t sys_renameat(Call& call)
{
    return rename_at(call, call.argument[0], call.path[1], call.argument[2], call.path[3], 0);
}

int64_t sys_renameat2(Call& call)
{
    return rename_at(call, call.argument[0], call.path[1], call.argument[2], call.path[3],
                     call.argument[4]);
}

int64_t sys_link(Call& call)
{
    return link_at(call, kCwd, call.path[0], kCwd, call.path[1], 0);
}

int64_t sys_linkat(Call& call)
{
    return link_at(call, call.argument[0], call.path[1], call.argument[2], call.path[3],
                   call.argument[4]);
}

int64_t sys_symlink(Call& call)
{
    return symlink_at(call, call.path[0], kCwd, call.path[1]);
}

int64_t sys_symlinkat(Call& call)
{
    return symlink_at(call, call.path[0], call.argument[1], call.path[2]);
}

int64_t sys_chdir(Call& call)
{
    if (call.path[0].error) {
        return call.path[0].error;
    }
    return call.files.paths().change_directory(call.path[0].text);
}

int64_t sys_getcwd(Call& call)
{
    const std::string directory = call.files.paths().working_directory();
    const uint64_t size = directory.size() + 1; // with its NUL, what getcwd returns
    if (call.argument[1] < size) {
        return -ERANGE;
    }
    const std::optional<std::span<std::byte>> buffer =
        call.memory.writable_range(call.argument[0], size);
    if (!buffer) {
        return -EFAULT;
    }
    std::memcpy(buffer->data(), directory.c_str(), size);
    return static_cast<int64_t>(size);
}

} // namespace vmm
