#include "run_control.hpp"

#include <sys/time.h>

#include <csignal>
#include <cstring>

namespace vmm {

namespace {

volatile std::sig_atomic_t stop_signal = 0;
kvm_run* volatile running_vcpu = nullptr;

void on_stop_signal(int signal_number)
{
    stop_signal = signal_number;
    if (running_vcpu != nullptr) {
        running_vcpu->immediate_exit = 1;
    }
}

constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGALRM};

void set_timer(double seconds)
{
    itimerval timer{};
    timer.it_value.tv_sec = static_cast<time_t>(seconds);
    timer.it_value.tv_usec = static_cast<suseconds_t>((seconds - timer.it_value.tv_sec) * 1e6);
    ::setitimer(ITIMER_REAL, &timer, nullptr);
}

// The RunStopped for the signal that arrived, which says how many exits there were.
[[noreturn]] void throw_stopped_by_signal(uint64_t exits)
{
    const std::string counted = " after " + std::to_string(exits) + " VM exits";
    switch (stop_signal) {
    case SIGALRM:
        throw RunStopped("stopped by --timeout: the guest was still running" + counted,
                         kExitStopped);
    case SIGINT:
        throw RunStopped("stopped by Ctrl-C" + counted, kExitInterrupted);
    default:
        throw RunStopped(std::string("stopped by SIG") + sigabbrev_np(stop_signal) + counted,
                         exit_status_of_signal(stop_signal));
    }
}

} // namespace

RunControl::RunControl(Vcpu& vcpu, const RunLimits& limits) : limits_(limits)
{
    stop_signal = 0;
    running_vcpu = &vcpu.run_state();
    struct sigaction action;
    std::memset(&action, 0, sizeof action);
    action.sa_handler = on_stop_signal;
    for (int signal_number : kStopSignals) {
        ::sigaction(signal_number, &action, nullptr);
    }
    if (limits_.timeout_seconds > 0) {
        set_timer(limits_.timeout_seconds);
    }
}

RunControl::~RunControl()
{
    set_timer(0);
    for (int signal_number : kStopSignals) {
        std::signal(signal_number, SIG_DFL);
    }
    running_vcpu = nullptr;
}

void RunControl::after_exit(const Vcpu& vcpu)
{
    if (vcpu.exit_reason() != KVM_EXIT_INTR) {
        ++exits_;
    }
    // Nothing here allocates unless the run stops: this runs at every exit.
    stop_if_signalled();
    if (limits_.max_exits != 0 && exits_ > limits_.max_exits) {
        throw RunStopped("stopped by --max-exits " + std::to_string(limits_.max_exits) +
                             ": the guest was still running",
                         kExitStopped);
    }
}

void RunControl::stop_if_signalled() const
{
    if (stop_signal != 0) {
        throw_stopped_by_signal(exits_);
    }
}

} // namespace vmm
