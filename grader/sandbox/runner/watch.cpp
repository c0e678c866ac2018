#include "watch.hpp"

#include "error.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>

namespace runner {

namespace {

constexpr std::size_t kShownRefusals = 20; // described in the report; the rest are counted

// The open(2) flags that make an open a write.
constexpr int kWriteFlags[] = {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND};

// Calls whose first path argument names something they create, change or
// remove: (call, index of the directory fd or -1 for the current directory,
// index of the path).
struct PathCall {
    int number;
    int dir_argument;
    int path_argument;
};
constexpr PathCall kPathCalls[] = {
    {SCMP_SYS(creat), -1, 0},   {SCMP_SYS(truncate), -1, 0}, {SCMP_SYS(unlink), -1, 0},
    {SCMP_SYS(unlinkat), 0, 1}, {SCMP_SYS(rmdir), -1, 0},    {SCMP_SYS(mkdir), -1, 0},
    {SCMP_SYS(mkdirat), 0, 1},  {SCMP_SYS(mknod), -1, 0},    {SCMP_SYS(mknodat), 0, 1},
    {SCMP_SYS(chmod), -1, 0},   {SCMP_SYS(fchmodat), 0, 1},  {SCMP_SYS(chown), -1, 0},
    {SCMP_SYS(lchown), -1, 0},  {SCMP_SYS(fchownat), 0, 1},  {SCMP_SYS(rename), -1, 0},
    {SCMP_SYS(renameat), 0, 1}, {SCMP_SYS(renameat2), 0, 1}, {SCMP_SYS(link), -1, 1},
    {SCMP_SYS(linkat), 2, 3},   {SCMP_SYS(symlink), -1, 1},  {SCMP_SYS(symlinkat), 1, 2},
};
// rename and renameat also write their second path.
constexpr PathCall kSecondPaths[] = {
    {SCMP_SYS(rename), -1, 1}, {SCMP_SYS(renameat), 2, 3}, {SCMP_SYS(renameat2), 2, 3}};

// Devices and aliases of the standard streams that a program may open for writing.
constexpr const char* kWritableDevices[] = {"/dev/null",   "/dev/zero", "/dev/full",
                                            "/dev/kvm",    "/dev/tty",  "/dev/stdout",
                                            "/dev/stderr", "/dev/stdin"};
constexpr const char* kWritableDeviceDirectories[] = {"/dev/fd/", "/proc/self/fd/"};

struct ReleaseFilter {
    void operator()(void* context) const { seccomp_release(context); }
};

void add_rule(scmp_filter_ctx filter, uint32_t action, int call, std::vector<scmp_arg_cmp> when)
{
    const int result = seccomp_rule_add_array(filter, action, call,
                                              static_cast<unsigned>(when.size()), when.data());
    if (result != 0) {
        throw vmm::SystemError("seccomp_rule_add", -result); // libseccomp returns -errno
    }
}

// A NUL-terminated string from the caller's memory (at most PATH_MAX bytes),
// read page by page so that a string ending just before an unmapped page reads.
std::optional<std::string> read_string(pid_t pid, uint64_t address)
{
    std::string text;
    while (text.size() < PATH_MAX) {
        const uint64_t page_end = (address | 4095) + 1;
        std::array<char, 4096> chunk;
        iovec local{chunk.data(), page_end - address};
        iovec remote{reinterpret_cast<void*>(address), page_end - address};
        const ssize_t got = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (got <= 0) {
            return std::nullopt;
        }
        const char* nul = static_cast<const char*>(std::memchr(chunk.data(), '\0', got));
        if (nul != nullptr) {
            return text.append(chunk.data(), static_cast<std::size_t>(nul - chunk.data()));
        }
        text.append(chunk.data(), static_cast<std::size_t>(got));
        address += static_cast<uint64_t>(got);
    }
    return std::nullopt;
}

// `path` as the kernel will resolve it for `pid`, written out: relative paths
// start at its current directory or at the directory open as `dir_fd`. Only
// "." and ".." are resolved, not symbolic links: the sandbox, not this check,
// is what confines the command; this says what it tried.
std::string absolute(pid_t pid, int64_t dir_fd, const std::string& path)
{
    std::filesystem::path start;
    if (!path.starts_with("/")) {
        const std::string link = "/proc/" + std::to_string(pid) +
                                 (dir_fd == AT_FDCWD ? "/cwd" : "/fd/" + std::to_string(dir_fd));
        std::error_code ignored;
        start = std::filesystem::read_symlink(link, ignored);
    }
    return (start / path).lexically_normal().string();
}

bool inside(const std::string& path, const std::string& directory)
{
    return path == directory || path.starts_with(directory + "/");
}

std::string open_flags(int64_t flags)
{
    std::string text = (flags & O_ACCMODE) == O_WRONLY ? "O_WRONLY"
                       : (flags & O_ACCMODE) == O_RDWR ? "O_RDWR"
                                                       : "O_RDONLY";
    const std::pair<int, const char*> named[] = {
        {O_CREAT, "O_CREAT"}, {O_TRUNC, "O_TRUNC"}, {O_APPEND, "O_APPEND"}};
    for (auto [flag, name] : named) {
        if (flags & flag) {
            text += std::string("|") + name;
        }
    }
    return text;
}

std::string quoted(const std::string& text)
{
    std::string out = "\"";
    for (unsigned char c : text) {
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
            out += escaped;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

// The call's name, as libseccomp knows it from the kernel's table.
std::string call_name(int number)
{
    std::unique_ptr<char, decltype(&std::free)> name(
        seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, number), &std::free);
    return name ? name.get() : "system call " + std::to_string(number);
}

std::string signal_name(int64_t number)
{
    const char* name =
        number > 0 && number < NSIG ? sigabbrev_np(static_cast<int>(number)) : nullptr;
    return name != nullptr ? std::string("SIG") + name : std::to_string(number);
}

std::string family_name(int64_t family)
{
    switch (family) {
    case AF_INET:
        return "AF_INET";
    case AF_INET6:
        return "AF_INET6";
    case AF_NETLINK:
        return "AF_NETLINK";
    case AF_PACKET:
        return "AF_PACKET";
    default:
        return std::to_string(family);
    }
}

} // namespace

Watch::Watch(std::vector<std::string> writable) : writable_(std::move(writable))
{
    if (seccomp_notify_alloc(&request_, &response_) != 0) {
        throw vmm::VmmError("seccomp_notify_alloc failed");
    }
}

Watch::~Watch()
{
    seccomp_notify_free(request_, response_);
}

vmm::UniqueFd Watch::install()
{
    std::unique_ptr<void, ReleaseFilter> filter(seccomp_init(SCMP_ACT_ALLOW));
    if (!filter) {
        throw vmm::VmmError("seccomp_init failed");
    }
    scmp_filter_ctx f = filter.get();
    // Network sockets: a local (AF_UNIX) socket pair stays allowed.
    add_rule(f, SCMP_ACT_NOTIFY, SCMP_SYS(socket), {SCMP_A0(SCMP_CMP_NE, AF_UNIX)});
    for (int call : {SCMP_SYS(kill), SCMP_SYS(tkill), SCMP_SYS(tgkill), SCMP_SYS(rt_sigqueueinfo),
                     SCMP_SYS(rt_tgsigqueueinfo), SCMP_SYS(pidfd_send_signal)}) {
        add_rule(f, SCMP_ACT_NOTIFY, call, {});
    }
    // Opens for writing: the flags are in a register for open and openat, in
    // memory for openat2 (every openat2 is looked at).
    for (int flag : kWriteFlags) {
        const auto masked = static_cast<scmp_datum_t>(flag);
        add_rule(f, SCMP_ACT_NOTIFY, SCMP_SYS(open), {SCMP_A1(SCMP_CMP_MASKED_EQ, masked, masked)});
        add_rule(f, SCMP_ACT_NOTIFY, SCMP_SYS(openat),
                 {SCMP_A2(SCMP_CMP_MASKED_EQ, masked, masked)});
    }
    add_rule(f, SCMP_ACT_NOTIFY, SCMP_SYS(openat2), {});
    for (const PathCall& call : kPathCalls) {
        add_rule(f, SCMP_ACT_NOTIFY, call.number, {});
    }
    // No new user namespace: in one, the command's processes would be counted
    // apart from the limit on its processes (RLIMIT_NPROC is per namespace).
    // glibc falls back from clone3, whose flags seccomp cannot read, to clone.
    const auto new_user = static_cast<scmp_datum_t>(CLONE_NEWUSER);
    add_rule(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare),
             {SCMP_A0(SCMP_CMP_MASKED_EQ, new_user, new_user)});
    add_rule(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone),
             {SCMP_A0(SCMP_CMP_MASKED_EQ, new_user, new_user)});
    add_rule(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setns), {});
    add_rule(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), {});
    const int loaded = seccomp_load(f);
    if (loaded != 0) {
        throw vmm::SystemError("seccomp_load", -loaded);
    }
    return vmm::UniqueFd(seccomp_notify_fd(f));
}

void Watch::refuse(Refusals& kind, const std::string& description)
{
    if (kind.shown.size() < kShownRefusals) {
        kind.shown.push_back(description);
    }
    ++kind.count;
}

void Watch::answer(int listener, const RunProcesses& run)
{
    // The kernel wants an empty request to fill in (EINVAL otherwise).
    std::memset(request_, 0, sizeof *request_);
    if (seccomp_notify_receive(listener, request_) != 0) {
        return; // the caller is gone (killed meanwhile): nothing to answer
    }
    const seccomp_data& call = request_->data;
    const pid_t pid = static_cast<pid_t>(request_->pid);
    // The arguments this looks at are C ints (pids, signals, fds, flags): the
    // upper half of their 64-bit registers means nothing.
    const auto arg = [&](int i) {
        return static_cast<int64_t>(static_cast<int32_t>(call.args[i]));
    };
    Refusals* refused_as = nullptr;
    std::string description;
    int error = 0;

    if (call.nr == SCMP_SYS(socket)) {
        refused_as = &sockets_, error = EACCES;
        description = "socket(" + family_name(arg(0)) + ")";
    } else if (call.nr == SCMP_SYS(kill) || call.nr == SCMP_SYS(rt_sigqueueinfo)) {
        // pid > 0: that process; 0: the caller's own process group; -1: every
        // process it may signal; < -1: the process group -pid.
        const int64_t target = arg(0);
        const bool own = arg(1) == 0 /* only a probe */ || target == 0 ||
                         (target > 0 && run.contains(static_cast<pid_t>(target))) ||
                         (target < -1 && run.contains(static_cast<pid_t>(-target)));
        if (!own) {
            refused_as = &signals_, error = EPERM;
            description = "kill(" + std::to_string(target) + ", " + signal_name(arg(1)) + ")";
        }
    } else if (call.nr == SCMP_SYS(tkill) || call.nr == SCMP_SYS(tgkill) ||
               call.nr == SCMP_SYS(rt_tgsigqueueinfo)) {
        const int64_t signal_argument = call.nr == SCMP_SYS(tkill) ? arg(1) : arg(2);
        if (!run.contains(static_cast<pid_t>(arg(0)))) {
            refused_as = &signals_, error = EPERM;
            description = std::string(call.nr == SCMP_SYS(tkill) ? "tkill(" : "tgkill(") +
                          std::to_string(arg(0)) + ", " + signal_name(signal_argument) + ")";
        }
    } else if (call.nr == SCMP_SYS(pidfd_send_signal)) {
        refused_as = &signals_, error = EPERM;
        description = "pidfd_send_signal(" + signal_name(arg(1)) + ")";
    } else {
        // A call that writes at a path: where?
        struct Target {
            int64_t dir_fd;
            uint64_t path;
        };
        std::vector<Target> targets;
        int64_t flags = 0;
        const std::string name = call_name(call.nr);
        if (call.nr == SCMP_SYS(open)) {
            targets = {{AT_FDCWD, call.args[0]}}, flags = arg(1);
        } else if (call.nr == SCMP_SYS(openat)) {
            targets = {{arg(0), call.args[1]}}, flags = arg(2);
        } else if (call.nr == SCMP_SYS(openat2)) {
            open_how how{};
            iovec local{&how, sizeof how.flags};
            iovec remote{reinterpret_cast<void*>(call.args[2]), sizeof how.flags};
            if (::process_vm_readv(pid, &local, 1, &remote, 1, 0) == sizeof how.flags) {
                flags = static_cast<int64_t>(how.flags);
            }
            for (int flag : kWriteFlags) {
                if (flags & flag) {
                    targets = {{arg(0), call.args[1]}}; // a write; a read is not looked at
                }
            }
        }
        const std::span<const PathCall> lists[] = {kPathCalls, kSecondPaths};
        for (std::span<const PathCall> calls : lists) {
            for (const PathCall& path_call : calls) {
                if (path_call.number == static_cast<int>(call.nr)) {
                    targets.push_back(
                        {path_call.dir_argument < 0 ? AT_FDCWD : arg(path_call.dir_argument),
                         call.args[path_call.path_argument]});
                }
            }
        }
        for (const Target& target : targets) {
            const std::optional<std::string> path = read_string(pid, target.path);
            if (!path) {
                continue; // a bad pointer: the kernel answers EFAULT itself
            }
            const std::string where = absolute(pid, target.dir_fd, *path);
            bool allowed = false;
            for (const std::string& directory : writable_) {
                allowed = allowed || inside(where, directory);
            }
            for (const char* device : kWritableDevices) {
                allowed = allowed || where == device;
            }
            for (const char* prefix : kWritableDeviceDirectories) {
                allowed = allowed || where.starts_with(prefix);
            }
            if (!allowed) {
                refused_as = &writes_, error = EACCES;
                description = name + "(" + quoted(where) +
                              (name.starts_with("open") ? ", " + open_flags(flags) : "") + ")";
                break;
            }
        }
    }

    response_->id = request_->id;
    response_->val = 0;
    // The request may have died meanwhile, and its pid been reused: decide
    // only for the one it still is.
    if (refused_as != nullptr && seccomp_notify_id_valid(listener, request_->id) == 0) {
        refuse(*refused_as, description);
        response_->error = -error;
        response_->flags = 0;
    } else {
        response_->error = 0;
        response_->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE; // let the call run
    }
    seccomp_notify_respond(listener, response_);
}

void Watch::report(Json& json) const
{
    json.key("watch").begin_object();
    const std::pair<const char*, const Refusals*> kinds[] = {
        {"sockets", &sockets_}, {"signals", &signals_}, {"writes_outside", &writes_}};
    for (auto [name, kind] : kinds) {
        json.key(name).begin_object().key("count").number(static_cast<int64_t>(kind->count));
        json.key("shown").begin_array();
        for (const std::string& text : kind->shown) {
            json.string(text);
        }
        json.end_array().end_object();
    }
    json.end_object();
}

} // namespace runner
