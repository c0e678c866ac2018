// error.hpp: the exceptions the VMM throws. Each is caught once, in main(),
// which prints its message and exits with the status it carries.
#pragma once

#include <cerrno>
#include <csignal>
#include <stdexcept>
#include <string>

namespace vmm {

// Exit statuses of vm_manager, apart from the guest's own exit status.
inline constexpr int kExitUsage = 2;     // bad command line
inline constexpr int kExitStopped = 124; // --timeout or --max-exits stopped the guest
inline constexpr int kExitFailed = 125;  // the guest crashed or the VMM failed

// A run stopped by a signal exits as a shell reports a process that signal
// killed: 128 + its number.
constexpr int exit_status_of_signal(int signal_number)
{
    return 128 + signal_number;
}
inline constexpr int kExitInterrupted = exit_status_of_signal(SIGINT); // Ctrl-C: 130
inline constexpr int kExitKilled = exit_status_of_signal(SIGKILL);     // killed from gdb: 137

// Something went wrong; what() says what happened and what to do about it.
class VmmError : public std::runtime_error {
  public:
    explicit VmmError(const std::string& message, int exit_status = kExitFailed)
        : std::runtime_error(message), exit_status_(exit_status)
    {
    }
    int exit_status() const { return exit_status_; }

  private:
    int exit_status_;
};

// A host system call failed: carries the call and errno, e.g.
// "ioctl(KVM_CREATE_VM) failed: Invalid argument".
class SystemError : public VmmError {
  public:
    SystemError(const std::string& call, int error_number, const std::string& hint = "");
    int error_number() const { return error_number_; }

  private:
    int error_number_;
};

// The command line was wrong: exit status 2.
class UsageError : public VmmError {
  public:
    explicit UsageError(const std::string& message) : VmmError(message, kExitUsage) {}
};

// Throws SystemError(call, errno) when a host call returned -1.
inline long check(long result, const char* call)
{
    if (result == -1) {
        throw SystemError(call, errno);
    }
    return result;
}

} // namespace vmm
