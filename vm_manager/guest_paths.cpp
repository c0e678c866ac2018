#include "guest_paths.hpp"

#include "error.hpp"

#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>
#include <vector>

namespace vmm {

namespace {

// The kernel resolves the path and refuses any step out of the directory it
// starts from, however it is spelled: safer than checking the string. Nor may
// a path cross into another mount under it (a procfs mounted there would lead
// to the VMM's own /proc/self/mem), nor follow /proc's magic links.
constexpr uint64_t kInside = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS;

// The names of a path, in order; "" and "." are no names.
std::vector<std::string> names_of(std::string_view path)
{
    std::vector<std::string> names;
    while (!path.empty()) {
        const std::size_t slash = path.find('/');
        const std::string_view name = path.substr(0, slash);
        path = slash == std::string_view::npos ? "" : path.substr(slash + 1);
        if (!name.empty() && name != ".") {
            names.emplace_back(name);
        }
    }
    return names;
}

std::string joined(const std::vector<std::string>& names)
{
    std::string path;
    for (const std::string& name : names) {
        path += (path.empty() ? "" : "/") + name;
    }
    return path;
}

} // namespace

GuestPaths::GuestPaths(const std::string& workdir)
{
    const int fd = ::open(workdir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        throw SystemError("opening the working directory " + workdir, errno);
    }
    workdir_ = UniqueFd(fd);
    const std::unique_ptr<char, decltype(&std::free)> path(::realpath(workdir.c_str(), nullptr),
                                                           &std::free);
    if (!path) {
        throw SystemError("realpath of the working directory " + workdir, errno);
    }
    workdir_path_ = path.get();
}

GuestPaths::Start GuestPaths::start_of(int dir_fd, std::string_view path) const
{
    if (path.starts_with('/')) {
        // An absolute path names something inside only by --workdir's own
        // host path, as getcwd() gives it: from there it is relative to it.
        // Any other stays absolute, for openat2 to refuse (EXDEV).
        const std::string_view root =
            workdir_path_ == "/" ? std::string_view() : std::string_view(workdir_path_);
        if (path.starts_with(root) && (path.size() == root.size() || path[root.size()] == '/')) {
            return {workdir_.get(), "." + std::string(path.substr(root.size()))};
        }
        return {workdir_.get(), std::string(path)};
    }
    if (dir_fd != kWorkingDirectory) {
        return {dir_fd, std::string(path)};
    }
    return {workdir_.get(), cwd_.empty() ? std::string(path) : cwd_ + "/" + std::string(path)};
}

int64_t GuestPaths::open(int dir_fd, std::string_view path, uint64_t flags, uint64_t mode)
{
    // open(2) ignores flag bits it does not know and uses the mode only when
    // creating; openat2(2) refuses both with EINVAL. Do what open(2) does.
    constexpr uint64_t kLinuxLargeFile = 0100000; // O_LARGEFILE (glibc defines it as 0 here)
    constexpr uint64_t kKnownFlags = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND |
                                     O_NONBLOCK | O_DSYNC | O_ASYNC | O_DIRECT | kLinuxLargeFile |
                                     O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH |
                                     O_SYNC | O_TMPFILE;
    if (path.empty()) {
        return -ENOENT;
    }
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
    how.resolve = kInside;
    const Start start = start_of(dir_fd, path);
    long fd;
    int attempts = 0;
    do {
        fd = ::syscall(SYS_openat2, start.dir_fd, start.path.c_str(), &how, sizeof how);
        // EAGAIN: a rename somewhere on the host, while the path was walked,
        // kept the kernel from proving that ".." stayed inside. The guest did
        // nothing wrong: walk again (openat2(2) says to retry).
    } while (fd < 0 && errno == EAGAIN && ++attempts < kResolveAttempts);
    return fd < 0 ? -errno : fd;
}

int64_t GuestPaths::look_up(int dir_fd, std::string_view path, bool follow)
{
    return open(dir_fd, path, O_PATH | (follow ? 0 : O_NOFOLLOW), 0);
}

GuestPaths::Parent GuestPaths::parent_of(int dir_fd, std::string_view path)
{
    // The last name starts after the last slash that has a name after it.
    const std::size_t end = path.find_last_not_of('/');
    if (end == std::string_view::npos) {
        // "" names nothing; "/" (and "//") is absolute: not inside.
        return {UniqueFd(), "", path.empty() ? -ENOENT : -EXDEV};
    }
    const std::size_t slash = path.rfind('/', end);
    const std::string_view directory = slash == std::string_view::npos ? "."
                                       : slash == 0                    ? "/"
                                                                       : path.substr(0, slash);
    const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    const int64_t fd = open(dir_fd, directory, O_PATH | O_DIRECTORY, 0);
    if (fd < 0) {
        return {UniqueFd(), "", fd};
    }
    return {UniqueFd(static_cast<int>(fd)), std::string(name), 0};
}

int64_t GuestPaths::change_directory(std::string_view path)
{
    // The kernel's verdict first: it exists, it is a directory, it is inside.
    const int64_t fd = open(kWorkingDirectory, path, O_PATH | O_DIRECTORY, 0);
    if (fd < 0) {
        return fd;
    }
    UniqueFd directory(static_cast<int>(fd));
    // Then its names from --workdir, the symbolic links on the way replaced by
    // where they lead, as the kernel walked them: ".." from there is then the
    // kernel's "..", and getcwd() names the directory itself, as on Linux.
    std::vector<std::string> names;
    std::vector<std::string> pending = names_of(start_of(kWorkingDirectory, path).path);
    std::reverse(pending.begin(), pending.end()); // the next name at the back
    for (int links = 0; !pending.empty();) {
        const std::string name = std::move(pending.back());
        pending.pop_back();
        if (name == "..") {
            if (!names.empty()) {
                names.pop_back(); // never above --workdir: the kernel said it stays inside
            }
            continue;
        }
        names.push_back(name);
        const int64_t found = open(workdir_.get(), joined(names), O_PATH | O_NOFOLLOW, 0);
        if (found < 0) {
            return found; // changed on the host meanwhile
        }
        const UniqueFd step(static_cast<int>(found));
        char target[PATH_MAX];
        const ssize_t length = ::readlinkat(step.get(), "", target, sizeof target);
        if (length < 0) {
            continue; // not a symbolic link: a directory, as the kernel found
        }
        if (++links > kMaxSymlinks || length == 0 || target[0] == '/') {
            return length > 0 && target[0] == '/' ? -EXDEV : -ELOOP;
        }
        names.pop_back();
        std::vector<std::string> more = names_of(std::string_view(target, length));
        pending.insert(pending.end(), more.rbegin(), more.rend());
    }
    cwd_ = joined(names);
    return 0;
}

std::string GuestPaths::working_directory() const
{
    if (cwd_.empty()) {
        return workdir_path_;
    }
    return workdir_path_ + (workdir_path_ == "/" ? "" : "/") + cwd_;
}

} // namespace vmm
