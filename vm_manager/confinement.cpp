#include "confinement.hpp"

#include "error.hpp"
#include "syscall_names.hpp"

#include <linux/kvm.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vmm {

namespace {

// What a VMM may call once the guest runs, whatever the style of its handlers,
// and why. Anything else (execve, fork, sockets, ptrace, mount, ...) is a bug:
// no handler of a guest's system call needs it.

// The guest's files, forwarded by the handlers; the trace; messages.
constexpr int kFileCalls[] = {
    SCMP_SYS(read),       SCMP_SYS(write),      SCMP_SYS(pread64),   SCMP_SYS(pwrite64),
    SCMP_SYS(readv),      SCMP_SYS(writev),     SCMP_SYS(preadv),    SCMP_SYS(pwritev),
    SCMP_SYS(preadv2),    SCMP_SYS(pwritev2),   SCMP_SYS(lseek),     SCMP_SYS(fstat),
    SCMP_SYS(newfstatat), SCMP_SYS(stat),       SCMP_SYS(lstat),     SCMP_SYS(statx),
    SCMP_SYS(fstatfs),    SCMP_SYS(statfs),     SCMP_SYS(fsync),     SCMP_SYS(fdatasync),
    SCMP_SYS(ftruncate),  SCMP_SYS(truncate),   SCMP_SYS(fallocate), SCMP_SYS(fcntl),
    SCMP_SYS(flock),      SCMP_SYS(dup),        SCMP_SYS(dup2),      SCMP_SYS(dup3),
    SCMP_SYS(close),      SCMP_SYS(open),       SCMP_SYS(openat),    SCMP_SYS(openat2),
    SCMP_SYS(creat),      SCMP_SYS(getdents64), SCMP_SYS(poll),      SCMP_SYS(ppoll),
    SCMP_SYS(select),     SCMP_SYS(pselect6)};

// The file system, for handlers of unlink, mkdir, rename and the like.
constexpr int kFileSystemCalls[] = {
    SCMP_SYS(unlink),    SCMP_SYS(unlinkat),   SCMP_SYS(mkdir),     SCMP_SYS(mkdirat),
    SCMP_SYS(rmdir),     SCMP_SYS(rename),     SCMP_SYS(renameat),  SCMP_SYS(renameat2),
    SCMP_SYS(link),      SCMP_SYS(linkat),     SCMP_SYS(symlink),   SCMP_SYS(symlinkat),
    SCMP_SYS(readlink),  SCMP_SYS(readlinkat), SCMP_SYS(chmod),     SCMP_SYS(fchmod),
    SCMP_SYS(fchmodat),  SCMP_SYS(chown),      SCMP_SYS(fchown),    SCMP_SYS(lchown),
    SCMP_SYS(fchownat),  SCMP_SYS(access),     SCMP_SYS(faccessat), SCMP_SYS(faccessat2),
    SCMP_SYS(utimensat), SCMP_SYS(getcwd),     SCMP_SYS(chdir),     SCMP_SYS(fchdir),
    SCMP_SYS(umask)};

// Time, and what a handler may answer about the process and the machine.
constexpr int kTimeCalls[] = {SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
                              SCMP_SYS(gettimeofday),  SCMP_SYS(time),
                              SCMP_SYS(nanosleep),     SCMP_SYS(clock_nanosleep)};
constexpr int kIdentityCalls[] = {SCMP_SYS(getpid),    SCMP_SYS(getppid),  SCMP_SYS(gettid),
                                  SCMP_SYS(getuid),    SCMP_SYS(geteuid),  SCMP_SYS(getgid),
                                  SCMP_SYS(getegid),   SCMP_SYS(uname),    SCMP_SYS(getrandom),
                                  SCMP_SYS(getrlimit), SCMP_SYS(getrusage)};

// Memory: the C++ runtime's, and the release of guest memory.
constexpr int kMemoryCalls[] = {SCMP_SYS(brk),    SCMP_SYS(mmap),     SCMP_SYS(munmap),
                                SCMP_SYS(mremap), SCMP_SYS(mprotect), SCMP_SYS(madvise)};

// Signals: RunControl's handlers and timer, the C library's.
constexpr int kSignalCalls[] = {SCMP_SYS(rt_sigaction),   SCMP_SYS(rt_sigprocmask),
                                SCMP_SYS(rt_sigreturn),   SCMP_SYS(sigaltstack),
                                SCMP_SYS(setitimer),      SCMP_SYS(getitimer),
                                SCMP_SYS(restart_syscall)};

// Threads, should a VMM use them; the locks the C++ runtime takes when it
// throws; and the end.
constexpr int kThreadCalls[] = {SCMP_SYS(futex),       SCMP_SYS(set_robust_list),   SCMP_SYS(rseq),
                                SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity), SCMP_SYS(exit),
                                SCMP_SYS(exit_group)};

constexpr std::span<const int> kAllowedCalls[] = {kFileCalls,     kFileSystemCalls, kTimeCalls,
                                                  kIdentityCalls, kMemoryCalls,     kSignalCalls,
                                                  kThreadCalls};

// An ioctl request, and its name for the message when the filter stops it.
struct Ioctl {
    unsigned long request;
    const char* name;
};
#define IOCTL(request) (Ioctl{request, #request})

// The ioctls a VMM makes once the guest runs: running the vCPU, and reading or
// changing its state, whether through the registers KVM syncs into kvm_run or
// through the KVM_GET_* and KVM_SET_* calls; then the C library's questions to
// a terminal. (Those whose argument has a flexible array, such as KVM_GET_MSRS,
// have another number in C++ than in C: see kvm.cpp.)
constexpr Ioctl kAllowedIoctls[] = {
    IOCTL(KVM_RUN),           IOCTL(KVM_GET_REGS),        IOCTL(KVM_SET_REGS),
    IOCTL(KVM_GET_SREGS),     IOCTL(KVM_SET_SREGS),       IOCTL(KVM_GET_FPU),
    IOCTL(KVM_SET_FPU),       IOCTL(KVM_GET_VCPU_EVENTS), IOCTL(KVM_SET_VCPU_EVENTS),
    IOCTL(KVM_GET_DEBUGREGS), IOCTL(KVM_SET_DEBUGREGS),   IOCTL(KVM_GET_XCRS),
    IOCTL(KVM_SET_XCRS),      IOCTL(KVM_GET_MP_STATE),    IOCTL(KVM_SET_MP_STATE),
    IOCTL(KVM_TRANSLATE),     IOCTL(KVM_SET_GUEST_DEBUG), IOCTL(TCGETS),
    IOCTL(TIOCGWINSZ),
};

// Ioctls a VMM has no business making once the guest runs, named when the
// filter stops one: those that build a machine, and TIOCSTI, which types into a terminal.
constexpr Ioctl kForbiddenIoctls[] = {
    IOCTL(KVM_GET_API_VERSION),
    IOCTL(KVM_CHECK_EXTENSION),
    IOCTL(KVM_GET_VCPU_MMAP_SIZE),
    IOCTL(KVM_CREATE_VM),
    IOCTL(KVM_CREATE_VCPU),
    IOCTL(KVM_SET_USER_MEMORY_REGION),
    IOCTL(KVM_SET_TSS_ADDR),
    IOCTL(KVM_SET_IDENTITY_MAP_ADDR),
    IOCTL(KVM_CREATE_IRQCHIP),
    IOCTL(KVM_IRQ_LINE),
    IOCTL(KVM_INTERRUPT),
    IOCTL(KVM_NMI),
    IOCTL(TIOCSTI),
};
#undef IOCTL

const char* ioctl_name(unsigned long request)
{
    for (const Ioctl& ioctl : kAllowedIoctls) {
        if (ioctl.request == request) {
            return ioctl.name;
        }
    }
    for (const Ioctl& ioctl : kForbiddenIoctls) {
        if (ioctl.request == request) {
            return ioctl.name;
        }
    }
    return nullptr;
}

// A message put together without allocating: a signal handler may not call malloc.
class SignalSafeMessage {
  public:
    void add(std::string_view text)
    {
        for (char c : text) {
            if (length_ < sizeof text_) {
                text_[length_++] = c;
            }
        }
    }
    void add_number(uint64_t value, unsigned base)
    {
        char digits[20];
        int count = 0;
        do {
            digits[count++] = "0123456789abcdef"[value % base];
            value /= base;
        } while (value != 0);
        while (count > 0) {
            add(std::string_view(&digits[--count], 1));
        }
    }
    void write_to(int fd) const { [[maybe_unused]] ssize_t ignored = ::write(fd, text_, length_); }

  private:
    char text_[512];
    std::size_t length_ = 0;
};

// A forbidden system call: say which, by name, and stop. This runs as a signal
// handler: async-signal-safe calls only (write, _exit).
void on_forbidden_call(int, siginfo_t* info, void* context)
{
    const auto number = static_cast<uint64_t>(info->si_syscall);
    SignalSafeMessage message;
    message.add("vm_manager: the seccomp filter stopped ");
    if (number == SYS_ioctl) {
        // The request is the call's second argument, in RSI when the call was made.
        const auto request = static_cast<unsigned long>(
            static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_RSI]);
        message.add("ioctl(");
        if (const char* name = ioctl_name(request)) {
            message.add(name);
        } else {
            message.add("0x");
            message.add_number(request, 16);
        }
        message.add(")");
    } else if (const std::string_view name = syscall_name(number); !name.empty()) {
        message.add(name);
        message.add("(2)");
    } else {
        message.add("system call ");
        message.add_number(number, 10);
    }
    message.add(": no VMM needs it once the guest runs, so this is a bug in the VMM "
                "(--no-seccomp lifts the filter, for debugging)\n");
    message.write_to(STDERR_FILENO);
    ::_exit(kExitFailed);
}

struct ReleaseFilter {
    void operator()(void* context) const { seccomp_release(context); }
};

void install_seccomp_filter()
{
    struct sigaction action;
    std::memset(&action, 0, sizeof action);
    action.sa_sigaction = on_forbidden_call;
    action.sa_flags = SA_SIGINFO;
    check(::sigaction(SIGSYS, &action, nullptr), "sigaction(SIGSYS)");

    // Anything not allowed below raises SIGSYS.
    std::unique_ptr<void, ReleaseFilter> filter(seccomp_init(SCMP_ACT_TRAP));
    if (!filter) {
        throw VmmError("seccomp_init failed");
    }
    auto succeed = [](int result, const std::string& call) {
        if (result != 0) {
            throw SystemError(call, -result); // libseccomp returns -errno
        }
    };
    // The filter runs at every system call, KVM_RUN included: a binary tree
    // of the allowed numbers, rather than a list, keeps that short.
    succeed(seccomp_attr_set(filter.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2), "seccomp_attr_set");
    auto add = [&](uint32_t action, int call, std::optional<scmp_arg_cmp> condition = {}) {
        succeed(condition ? seccomp_rule_add(filter.get(), action, call, 1, *condition)
                          : seccomp_rule_add(filter.get(), action, call, 0),
                "seccomp_rule_add(" + std::string(syscall_name(call)) + ")");
    };
    for (std::span<const int> calls : kAllowedCalls) {
        for (int call : calls) {
            add(SCMP_ACT_ALLOW, call);
        }
    }
    for (const Ioctl& ioctl : kAllowedIoctls) {
        add(SCMP_ACT_ALLOW, SCMP_SYS(ioctl), SCMP_A1(SCMP_CMP_EQ, ioctl.request));
    }
    // Signals to itself only (abort() sends itself SIGABRT): never to another process.
    const pid_t self = ::getpid();
    add(SCMP_ACT_ALLOW, SCMP_SYS(kill), SCMP_A0(SCMP_CMP_EQ, static_cast<uint64_t>(self)));
    add(SCMP_ACT_ALLOW, SCMP_SYS(tgkill), SCMP_A0(SCMP_CMP_EQ, static_cast<uint64_t>(self)));
    // New threads, never new processes. clone3 keeps its flags in memory, out of
    // the filter's sight: it fails with ENOSYS, and the C library then uses clone.
    add(SCMP_ACT_ALLOW, SCMP_SYS(clone), SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
    add(SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3));
    // Reading a resource limit (sysconf() does), never changing one.
    add(SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), SCMP_A2(SCMP_CMP_EQ, 0));
    succeed(seccomp_load(filter.get()), "seccomp_load");
}

} // namespace

void confine_vmm(bool seccomp)
{
    // The sanitizers need system calls of their own: AddressSanitizer's leak
    // check at exit, UndefinedBehaviorSanitizer's report (readlink). gcc has no
    // macro for the latter: `make SANITIZE=...` defines VMM_SANITIZED.
#if defined(__SANITIZE_ADDRESS__) || defined(VMM_SANITIZED)
    constexpr bool kSanitized = true;
#else
    constexpr bool kSanitized = false;
#endif
    if (!seccomp) {
        std::fputs("vm_manager: --no-seccomp: the VMM is not confined\n", stderr);
    } else if (!kSanitized) {
        install_seccomp_filter();
    }
}

} // namespace vmm
