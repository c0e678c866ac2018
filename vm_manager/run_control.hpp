// run_control.hpp: stopping a guest that does not stop by itself.
//
// The VMM stops the guest on Ctrl-C (SIGINT), SIGTERM, --timeout and
// --max-exits. A guest spinning in a loop never leaves KVM_RUN on its own, so
// the signal handler sets kvm_run's immediate_exit: KVM_RUN then returns
// EINTR at once, also when the signal came just before the ioctl
// (Documentation/virt/kvm/api.rst, "immediate_exit").
#pragma once

#include "error.hpp"
#include "kvm.hpp"

#include <cstdint>

namespace vmm {

struct RunLimits {
    uint64_t max_exits = 0;     // 0: none
    double timeout_seconds = 0; // 0: none; else between the two bounds below
};

// What --timeout may be. Below a millisecond it would stop a program before
// it has done anything worth a run, and below a microsecond the timer's
// struct timeval would hold 0, which disarms it. At the other end, the kernel
// keeps the timer in nanoseconds, in a signed 64-bit ktime_t: about 292 years.
inline constexpr double kMinTimeoutSeconds = 0.001;
inline constexpr double kMaxTimeoutSeconds = 9223372036.0; // 2^63 ns

// Thrown when the run was stopped; carries its exit status (error.hpp): 124
// for --timeout and --max-exits, 130 for Ctrl-C, 143 for SIGTERM, 137 when
// gdb killed it.
class RunStopped : public VmmError {
  public:
    using VmmError::VmmError;
};

class RunControl {
  public:
    // Installs the signal handlers and starts the --timeout timer.
    RunControl(Vcpu& vcpu, const RunLimits& limits);
    ~RunControl();
    RunControl(const RunControl&) = delete;
    RunControl& operator=(const RunControl&) = delete;

    // Call after each return from KVM_RUN: counts the exit, and throws
    // RunStopped when a signal, the timeout or the exit limit says to stop.
    void after_exit(const Vcpu& vcpu);

    // Throws RunStopped if Ctrl-C, SIGTERM or the timeout came: for code that
    // waits outside KVM_RUN (a debugger waiting for gdb) and saw EINTR.
    void stop_if_signalled() const;

    uint64_t exits() const { return exits_; }

  private:
    RunLimits limits_;
    uint64_t exits_ = 0;
};

} // namespace vmm
