#include "process_calls.hpp"

#include "guest_layout.hpp"
#include "write_limits.hpp"

#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace vmm {

namespace {

// The guest is the only process in its machine: pid 1, its only thread 1 too.
constexpr int64_t kGuestProcess = 1;

constexpr uint64_t kTimespecSize = 16; // struct timespec, struct timeval, struct rlimit
constexpr uint64_t kSigsetSize = 8;    // the kernel's sigset_t: 64 signals
constexpr uint64_t kUtsnameSize = 390; // struct utsname: 6 fields of 65 bytes
// The smallest alternate signal stack Linux takes (MINSIGSTKSZ in the
// kernel's asm/signal.h; the C library's may be a function of the CPU).
constexpr uint64_t kMinSignalStack = 2048;
// sigaltstack's flag that disarms the stack while a handler runs (linux/signal.h).
constexpr uint32_t kStackAutoDisarm = 1U << 31;

// Copies a value into the program's memory; false where it may not write.
template <typename T> bool put(Call& call, uint64_t address, const T& value)
{
    const std::optional<std::span<std::byte>> target =
        call.memory.writable_range(address, sizeof value);
    if (target) {
        std::memcpy(target->data(), &value, sizeof value);
    }
    return target.has_value();
}

// A guest pointer that may be NULL, to what the call reads or fills: its host
// address (nullptr for NULL), or nothing when the program may not use it so.
std::optional<std::byte*> optional_buffer(Call& call, uint64_t address, uint64_t length,
                                          BufferUse use)
{
    if (address == 0) {
        return nullptr;
    }
    const std::optional<std::span<std::byte>> bytes =
        use == BufferUse::kFill ? call.memory.writable_range(address, length)
                                : call.memory.range(address, length);
    return bytes ? std::optional<std::byte*>(bytes->data()) : std::nullopt;
}

bool is_signal(uint64_t number)
{
    return number >= 1 && number <= SignalState::kSignals;
}

} // namespace

int64_t sys_clock_gettime(Call& call)
{
    const std::optional<std::span<std::byte>> time =
        call.memory.writable_range(call.argument[1], kTimespecSize);
    if (!time) {
        return -EFAULT;
    }
    return host_result(
        ::syscall(SYS_clock_gettime, static_cast<int>(call.argument[0]), time->data()));
}

int64_t sys_gettimeofday(Call& call)
{
    const std::optional<std::byte*> time =
        optional_buffer(call, call.argument[0], kTimespecSize, BufferUse::kFill);
    const std::optional<std::byte*> zone =
        optional_buffer(call, call.argument[1], 8, BufferUse::kFill);
    if (!time || !zone) {
        return -EFAULT;
    }
    return host_result(::syscall(SYS_gettimeofday, *time, *zone));
}

int64_t sys_time(Call& call)
{
    const int64_t now = ::time(nullptr);
    if (call.argument[0] != 0 && !put(call, call.argument[0], now)) {
        return -EFAULT;
    }
    return now;
}

int64_t sys_nanosleep(Call& call)
{
    const std::optional<std::span<std::byte>> request =
        call.memory.range(call.argument[0], kTimespecSize);
    const std::optional<std::byte*> remaining =
        optional_buffer(call, call.argument[1], kTimespecSize, BufferUse::kFill);
    if (!request || !remaining) {
        return -EFAULT;
    }
    // The VMM sleeps for the guest. A --timeout or Ctrl-C interrupts it
    // (EINTR, for the guest), and the run then stops.
    return host_result(::syscall(SYS_nanosleep, request->data(), *remaining));
}

int64_t sys_clock_nanosleep(Call& call)
{
    const std::optional<std::span<std::byte>> request =
        call.memory.range(call.argument[2], kTimespecSize);
    const std::optional<std::byte*> remaining =
        optional_buffer(call, call.argument[3], kTimespecSize, BufferUse::kFill);
    if (!request || !remaining) {
        return -EFAULT;
    }
    // clock_nanosleep returns the error number itself, not -1 and errno.
    const long error = ::clock_nanosleep(static_cast<clockid_t>(call.argument[0]),
                                         static_cast<int>(call.argument[1]),
                                         reinterpret_cast<const timespec*>(request->data()),
                                         reinterpret_cast<timespec*>(*remaining));
    return -error;
}

int64_t sys_getpid(Call&)
{
    return kGuestProcess;
}

int64_t sys_getppid(Call&)
{
    return 0; // no parent in the machine, as for Linux's first process
}

int64_t sys_getuid(Call&)
{
    return ::getuid();
}

int64_t sys_geteuid(Call&)
{
    return ::geteuid();
}

int64_t sys_getgid(Call&)
{
    return ::getgid();
}

int64_t sys_getegid(Call&)
{
    return ::getegid();
}

int64_t sys_uname(Call& call)
{
    const std::optional<std::span<std::byte>> names =
        call.memory.writable_range(call.argument[0], kUtsnameSize);
    if (!names) {
        return -EFAULT;
    }
    return host_result(::syscall(SYS_uname, names->data()));
}

int64_t sys_getrandom(Call& call)
{
    if (call.argument[2] & ~uint64_t{GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE}) {
        return -EINVAL;
    }
    const std::optional<std::span<std::byte>> bytes =
        call.memory.writable_range(call.argument[0], call.argument[1]);
    if (!bytes) {
        return -EFAULT;
    }
    return host_result(
        ::getrandom(bytes->data(), bytes->size(), static_cast<unsigned>(call.argument[2])));
}

int64_t sys_umask(Call& call)
{
    return ::umask(static_cast<mode_t>(call.argument[0] & 0777));
}

int64_t sys_prlimit64(Call& call)
{
    const auto pid = static_cast<int32_t>(call.argument[0]);
    const uint64_t resource = call.argument[1];
    if (pid != 0 && pid != kGuestProcess) {
        return -ESRCH; // the only process there is
    }
    if (resource >= RLIM_NLIMITS) {
        return -EINVAL;
    }
    if (call.argument[2] != 0) {
        return -EPERM; // the guest's limits are the VMM's to set
    }
    if (call.argument[3] == 0) {
        return 0;
    }
    // The limits the VMM holds the guest to, where it has its own.
    rlimit64 limit;
    switch (resource) {
    case RLIMIT_NOFILE:
        limit = {GuestFiles::kMaxFiles, GuestFiles::kMaxFiles};
        break;
    case RLIMIT_FSIZE:
        limit = {kMaxGuestFileSize, kMaxGuestFileSize};
        break;
    case RLIMIT_STACK:
        limit = {layout::kStackReserve, layout::kStackReserve};
        break;
    case RLIMIT_AS:
    case RLIMIT_DATA:
        limit = {call.memory.size(), call.memory.size()};
        break;
    default:
        if (::prlimit64(0, static_cast<__rlimit_resource>(resource), nullptr, &limit) != 0) {
            return -errno;
        }
    }
    return put(call, call.argument[3], limit) ? 0 : -EFAULT;
}

int64_t sys_rt_sigaction(Call& call)
{
    const uint64_t signal = call.argument[0];
    if (call.argument[3] != kSigsetSize || !is_signal(signal)) {
        return -EINVAL;
    }
    const std::optional<std::byte*> action =
        optional_buffer(call, call.argument[1], SignalState::kActionSize, BufferUse::kRead);
    const std::optional<std::byte*> old_action =
        optional_buffer(call, call.argument[2], SignalState::kActionSize, BufferUse::kFill);
    if (!action || !old_action) {
        return -EFAULT;
    }
    if (*action != nullptr && (signal == SIGKILL || signal == SIGSTOP)) {
        return -EINVAL; // their actions cannot change
    }
    auto& kept = call.signals.actions[signal - 1];
    if (*old_action != nullptr) {
        std::memcpy(*old_action, kept.data(), kept.size());
    }
    if (*action != nullptr) {
        std::memcpy(kept.data(), *action, kept.size());
    }
    return 0;
}

int64_t sys_rt_sigprocmask(Call& call)
{
    const uint64_t how = call.argument[0];
    if (call.argument[3] != kSigsetSize) {
        return -EINVAL;
    }
    const std::optional<std::byte*> set =
        optional_buffer(call, call.argument[1], kSigsetSize, BufferUse::kRead);
    const std::optional<std::byte*> old_set =
        optional_buffer(call, call.argument[2], kSigsetSize, BufferUse::kFill);
    if (!set || !old_set) {
        return -EFAULT;
    }
    uint64_t change = 0;
    if (*set != nullptr) {
        if (how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK) {
            return -EINVAL;
        }
        std::memcpy(&change, *set, sizeof change);
    }
    uint64_t& blocked = call.signals.blocked;
    if (*old_set != nullptr) {
        std::memcpy(*old_set, &blocked, sizeof blocked);
    }
    if (*set != nullptr) {
        blocked = how == SIG_BLOCK     ? blocked | change
                  : how == SIG_UNBLOCK ? blocked & ~change
                                       : change;
        // SIGKILL and SIGSTOP cannot be blocked.
        blocked &= ~((uint64_t{1} << (SIGKILL - 1)) | (uint64_t{1} << (SIGSTOP - 1)));
    }
    return 0;
}

int64_t sys_sigaltstack(Call& call)
{
    struct GuestStack { // stack_t on x86-64
        uint64_t pointer;
        int32_t flags;
        int32_t padding;
        uint64_t size;
    };
    static_assert(sizeof(GuestStack) == SignalState::kAlternateStackSize);
    const std::optional<std::byte*> stack =
        optional_buffer(call, call.argument[0], sizeof(GuestStack), BufferUse::kRead);
    const std::optional<std::byte*> old_stack =
        optional_buffer(call, call.argument[1], sizeof(GuestStack), BufferUse::kFill);
    if (!stack || !old_stack) {
        return -EFAULT;
    }
    GuestStack kept;
    std::memcpy(&kept, call.signals.alternate_stack.data(), sizeof kept);
    if (kept.flags == 0 && kept.pointer == 0 && kept.size == 0) {
        kept.flags = SS_DISABLE; // none set yet
    }
    GuestStack asked{};
    if (*stack != nullptr) {
        std::memcpy(&asked, *stack, sizeof asked);
        const int32_t mode =
            static_cast<int32_t>(static_cast<uint32_t>(asked.flags) & ~kStackAutoDisarm);
        if (mode != 0 && mode != SS_DISABLE) {
            return -EINVAL;
        }
        if (mode == 0 && asked.size < kMinSignalStack) {
            return -ENOMEM;
        }
    }
    if (*old_stack != nullptr) {
        std::memcpy(*old_stack, &kept, sizeof kept);
    }
    if (*stack != nullptr) {
        std::memcpy(call.signals.alternate_stack.data(), &asked, sizeof asked);
    }
    return 0;
}

int64_t sys_not_implemented(Call&)
{
    return -ENOSYS;
}

} // namespace vmm
