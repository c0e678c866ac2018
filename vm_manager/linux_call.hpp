// linux_call.hpp: what a handler of the calls beyond the lab's works with
// (linux_calls.hpp), one system call of the guest.
#pragma once

#include "guest_files.hpp"
#include "kvm.hpp"
#include "program_memory.hpp"
#include "user_memory.hpp"

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace vmm {

// What the program's signal calls set. No signal is ever delivered to the
// guest (nothing here sends one, and the VMM keeps its own), so this is only
// kept and given back, as Linux gives back what was set.
struct SignalState {
    static constexpr int kSignals = 64;                    // _NSIG: signals 1 to 64
    static constexpr std::size_t kActionSize = 32;         // struct kernel_sigaction on x86-64
    static constexpr std::size_t kAlternateStackSize = 24; // stack_t
    std::array<std::array<std::byte, kActionSize>, kSignals> actions{}; // all SIG_DFL
    uint64_t blocked = 0;                                               // the signal mask
    std::array<std::byte, kAlternateStackSize> alternate_stack{};
};

// struct stat on x86-64, the same for the kernel and the C libraries; and
// struct statx.
inline constexpr uint64_t kStatSize = 144;
inline constexpr uint64_t kStatxSize = 256;

// A host call's result as the guest gets it: the value, or -errno.
inline int64_t host_result(long result)
{
    return result < 0 ? -errno : result;
}

// What a call does with a buffer of the program's: reads it, as Linux's
// copy_from_user(), or fills it, as copy_to_user(), which needs it writable.
enum class BufferUse { kRead, kFill };

// A path argument, as read from guest memory: the text, or -EFAULT or
// -ENAMETOOLONG in `error`.
struct GuestPath {
    std::string_view text;
    int64_t error = 0;
};

// Reads the NUL-terminated path at `address`, at most PATH_MAX bytes with its NUL.
GuestPath read_path(UserMemory& memory, uint64_t address);

struct Call {
    uint64_t number;                  // RAX
    std::array<uint64_t, 6> argument; // RDI, RSI, RDX, R10, R8, R9
    std::array<GuestPath, 6> path;    // the arguments the call's table entry says are paths
    Vcpu& vcpu;
    UserMemory&
        memory; // the call's buffers: range() for what it reads, writable_range() for what it fills
    GuestFiles& files;
    ProgramMemory& program_memory;
    SignalState& signals;
};

} // namespace vmm
