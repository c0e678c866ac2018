#include "confinement.hpp"

#include "error.hpp"

#include <linux/kvm.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>

namespace vmm {

namespace {

// The system calls the VMM makes after set-up, and why.
constexpr int kAllowed[] = {
    SCMP_SYS(write),        // the guest's writes, the trace, messages
    SCMP_SYS(openat2),      // the guest's open, confined to --workdir (GuestFiles::open)
    SCMP_SYS(openat),       // ... and the same through openat, in students' handlers
    SCMP_SYS(close),        // the guest's close, and clean-up
    SCMP_SYS(newfstatat),   // the C library looks at stdout before buffering it
    SCMP_SYS(fstat),        //
    SCMP_SYS(lseek),        //
    SCMP_SYS(brk),          // memory allocation
    SCMP_SYS(mmap),         //
    SCMP_SYS(munmap),       // ... and release, guest memory included
    SCMP_SYS(mremap),       //
    SCMP_SYS(futex),        // locks taken by the C++ runtime when it throws an exception
    SCMP_SYS(rt_sigaction), // restoring signal handlers (RunControl)
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn), // returning from the Ctrl-C / timeout handler
    SCMP_SYS(setitimer),    // stopping the --timeout timer
    SCMP_SYS(getpid),       // abort(), should the C++ runtime need it
    SCMP_SYS(gettid),       //
    SCMP_SYS(tgkill),       //
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
};

// ioctl is allowed only for these requests: running the vCPU, reading its
// registers for a crash report, and the terminal check of the C library.
constexpr unsigned long kAllowedIoctls[] = {KVM_RUN, KVM_GET_SREGS, KVM_GET_REGS, TCGETS};

// What a debugger (gdb_stub.cpp for --gdb, step_narrator.cpp for --step)
// needs once the run has started: gdb's packets on the socket it accepted
// before, and the vCPU's breakpoints, single step and registers.
constexpr int kDebuggerCalls[] = {SCMP_SYS(read), SCMP_SYS(poll)};
constexpr unsigned long kDebuggerIoctls[] = {KVM_SET_GUEST_DEBUG, KVM_SET_REGS, KVM_SET_SREGS};

// A forbidden system call: say which, and stop. This runs as a signal
// handler, so it uses only write() and _exit(), and formats the number itself.
void on_forbidden_call(int, siginfo_t* info, void*)
{
    char number[12];
    char* digits = number + sizeof number;
    unsigned value = static_cast<unsigned>(info->si_syscall);
    do {
        *--digits = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0 && digits > number);
    auto say = [](const char* text, std::size_t length) {
        [[maybe_unused]] ssize_t ignored = ::write(2, text, length);
    };
    const char before[] = "vm_manager: the VMM made system call ";
    const char after[] = ", which its seccomp filter forbids: a bug in the VMM "
                         "(--no-seccomp lifts the filter, for debugging)\n";
    say(before, sizeof before - 1);
    say(digits, static_cast<std::size_t>(number + sizeof number - digits));
    say(after, sizeof after - 1);
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
    auto succeed = [](int result, const char* call) {
        if (result != 0) {
            throw SystemError(call, -result); // libseccomp returns -errno
        }
    };
    for (int call : kAllowed) {
        succeed(seccomp_rule_add(filter.get(), SCMP_ACT_ALLOW, call, 0), "seccomp_rule_add");
    }
    for (unsigned long request : kAllowedIoctls) {
        succeed(seccomp_rule_add(filter.get(), SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                 SCMP_A1(SCMP_CMP_EQ, request)),
                "seccomp_rule_add(ioctl)");
    }
    for (int call : kDebuggerCalls) {
        succeed(seccomp_rule_add(filter.get(), SCMP_ACT_ALLOW, call, 0), "seccomp_rule_add");
    }
    for (unsigned long request : kDebuggerIoctls) {
        succeed(seccomp_rule_add(filter.get(), SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                 SCMP_A1(SCMP_CMP_EQ, request)),
                "seccomp_rule_add(ioctl)");
    }
    succeed(seccomp_load(filter.get()), "seccomp_load");
}

} // namespace

void confine_vmm(bool seccomp)
{
    // Writes past the limit fail with EFBIG; ignore the SIGXFSZ that comes with them.
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit file_size{kMaxGuestFileSize, kMaxGuestFileSize};
    check(::setrlimit(RLIMIT_FSIZE, &file_size), "setrlimit(RLIMIT_FSIZE)");

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
