#include "linux_calls.hpp"

#include "file_calls.hpp"
#include "memory_calls.hpp"
#include "path_calls.hpp"
#include "process_calls.hpp"

#include <linux/limits.h>
#include <sys/syscall.h>

#include <array>
#include <cerrno>
#include <string>
#include <string_view>

namespace vmm {

namespace {

// One call of the module: its number, its handler, and how its trace line
// shows it (trace.hpp): one letter per argument shown, `n` a number, `i` an
// int (an fd, a dirfd), `a` a guest address (hex), `p` a path (read from
// guest memory, escaped); and whether its result is an address.
struct Handler {
    uint64_t number;
    int64_t (*handle)(Call&);
    std::string_view arguments;
    bool returns_address = false;
};

// The calls, by family. What is not here stays "undefined" (-ENOSYS).
constexpr Handler kHandlers[] = {
    // On open files (file_calls.hpp). open, write and close are the lab's.
    {SYS_read, sys_read, "ian"},
    {SYS_pread64, sys_pread64, "iann"},
    {SYS_readv, sys_readv, "ian"},
    {SYS_writev, sys_writev, "ian"},
    {SYS_pwrite64, sys_pwrite64, "iann"},
    {SYS_lseek, sys_lseek, "inn"},
    {SYS_ftruncate, sys_ftruncate, "in"},
    {SYS_openat, sys_openat, "ipnn"},
    {SYS_fstat, sys_fstat, "ia"},
    {SYS_getdents64, sys_getdents64, "ian"},
    {SYS_ioctl, sys_ioctl, "ina"},
    {SYS_fcntl, sys_fcntl, "inn"},
    {SYS_dup, sys_dup, "i"},
    {SYS_dup2, sys_dup2, "ii"},
    {SYS_dup3, sys_dup3, "iin"},
    // On names (path_calls.hpp).
    {SYS_stat, sys_stat, "pa"},
    {SYS_lstat, sys_lstat, "pa"},
    {SYS_newfstatat, sys_newfstatat, "ipan"},
    {SYS_statx, sys_statx, "ipnna"},
    {SYS_access, sys_access, "pn"},
    {SYS_faccessat, sys_faccessat, "ipn"},
    {SYS_faccessat2, sys_faccessat2, "ipnn"},
    {SYS_readlink, sys_readlink, "pan"},
    {SYS_readlinkat, sys_readlinkat, "ipan"},
    {SYS_chmod, sys_chmod, "pn"},
    {SYS_fchmod, sys_fchmod, "in"},
    {SYS_fchmodat, sys_fchmodat, "ipn"},
    {SYS_chown, sys_chown, "pii"},
    {SYS_lchown, sys_lchown, "pii"},
    {SYS_fchown, sys_fchown, "iii"},
    {SYS_fchownat, sys_fchownat, "ipiin"},
    {SYS_utimensat, sys_utimensat, "ipan"},
    {SYS_mkdir, sys_mkdir, "pn"},
    {SYS_mkdirat, sys_mkdirat, "ipn"},
    {SYS_unlink, sys_unlink, "p"},
    {SYS_rmdir, sys_rmdir, "p"},
    {SYS_unlinkat, sys_unlinkat, "ipn"},
    {SYS_rename, sys_rename, "pp"},
    {SYS_renameat, sys_renameat, "ipip"},
    {SYS_renameat2, sys_renameat2, "ipipn"},
    {SYS_link, sys_link, "pp"},
    {SYS_linkat, sys_linkat, "ipipn"},
    {SYS_symlink, sys_symlink, "pp"},
    {SYS_symlinkat, sys_symlinkat, "pip"},
    {SYS_chdir, sys_chdir, "p"},
    {SYS_getcwd, sys_getcwd, "an"},
    // Memory (memory_calls.hpp).
    {SYS_brk, sys_brk, "a", true},
    {SYS_mmap, sys_mmap, "annnin", true},
    {SYS_munmap, sys_munmap, "an"},
    {SYS_mprotect, sys_mprotect, "ann"},
    {SYS_mremap, sys_mremap, "annna", true},
    // Time, identity, limits, signals (process_calls.hpp).
    {SYS_clock_gettime, sys_clock_gettime, "ia"},
    {SYS_gettimeofday, sys_gettimeofday, "aa"},
    {SYS_time, sys_time, "a"},
    {SYS_nanosleep, sys_nanosleep, "aa"},
    {SYS_clock_nanosleep, sys_clock_nanosleep, "inaa"},
    {SYS_getpid, sys_getpid, ""},
    {SYS_gettid, sys_getpid, ""}, // the only thread of the only process
    {SYS_getppid, sys_getppid, ""},
    {SYS_getuid, sys_getuid, ""},
    {SYS_geteuid, sys_geteuid, ""},
    {SYS_getgid, sys_getgid, ""},
    {SYS_getegid, sys_getegid, ""},
    {SYS_uname, sys_uname, "a"},
    {SYS_getrandom, sys_getrandom, "ann"},
    {SYS_umask, sys_umask, "n"},
    {SYS_prlimit64, sys_prlimit64, "inaa"},
    {SYS_rt_sigaction, sys_rt_sigaction, "iaan"},
    {SYS_rt_sigprocmask, sys_rt_sigprocmask, "naan"},
    {SYS_sigaltstack, sys_sigaltstack, "aa"},
    {SYS_set_robust_list, sys_not_implemented, "an"},
    {SYS_rseq, sys_not_implemented, "anna"},
};

const Handler* handler_of(uint64_t number)
{
    for (const Handler& handler : kHandlers) {
        if (handler.number == number) {
            return &handler;
        }
    }
    return nullptr;
}

} // namespace

GuestPath read_path(UserMemory& memory, uint64_t address)
{
    // A path is at most PATH_MAX bytes with its NUL, as Linux's getname() reads it.
    const std::optional<std::string_view> text = memory.c_string(address, PATH_MAX);
    if (!text) {
        return {"", -EFAULT};
    }
    return {*text, text->size() == PATH_MAX ? -ENAMETOOLONG : 0};
}

LinuxCalls::LinuxCalls(GuestMemory& memory, UserMemory& user_memory, GuestFiles& files,
                       Trace& trace, const PageTables& tables, const LoadedProgram& program)
    : memory_(user_memory), files_(files), trace_(trace), program_memory_(memory, tables, program)
{
}

std::optional<int64_t> LinuxCalls::handle(Vcpu& vcpu)
{
    const kvm_regs& regs = vcpu.regs();
    const Handler* handler = handler_of(regs.rax);
    if (handler == nullptr) {
        return std::nullopt;
    }
    Call call{regs.rax,
              {regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9},
              {},
              vcpu,
              memory_,
              files_,
              program_memory_,
              signals_};

    // The paths first, copied as the kernel copies them (getname()): what the
    // handler uses and what the trace shows are what the guest passed, even
    // if the call writes over them.
    std::array<std::string, 6> paths;
    std::array<TraceValue, 6> shown;
    for (std::size_t i = 0; i < handler->arguments.size(); ++i) {
        const uint64_t value = call.argument[i];
        switch (handler->arguments[i]) {
        case 'p': {
            const GuestPath path = read_path(memory_, value);
            paths[i] = path.text;
            call.path[i] = {path.error == 0 ? std::string_view(paths[i]) : "", path.error};
            // A path it could not read is shown as strace shows it: NULL, or
            // (where strace shows the address) "(bad address)".
            const std::string_view text = path.error != -EFAULT ? std::string_view(paths[i])
                                          : value == 0          ? "NULL"
                                                                : "(bad address)";
            shown[i] = {TraceValue::Kind::kPath, 0, text};
            break;
        }
        case 'a':
            shown[i] = {TraceValue::Kind::kAddress, value, {}};
            break;
        case 'i':
            shown[i] = {TraceValue::Kind::kInt, value, {}};
            break;
        default:
            shown[i] = {TraceValue::Kind::kNumber, value, {}};
            break;
        }
    }
    const int64_t result = handler->handle(call);
    trace_.call(regs.rax, std::span(shown.data(), handler->arguments.size()),
                {handler->returns_address ? TraceValue::Kind::kAddress : TraceValue::Kind::kNumber,
                 static_cast<uint64_t>(result),
                 {}});
    return result;
}

} // namespace vmm
