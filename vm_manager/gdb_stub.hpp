// gdb_stub.hpp: vm_manager --gdb PORT, a gdb stub for the micro-VM.
//
// gdb connects over TCP (target remote localhost:PORT) before the vCPU runs
// its first instruction, and then sees the CPU as it is: it reads and writes
// registers (control registers included) and guest memory, sets software and
// hardware breakpoints and watchpoints, single-steps, continues, interrupts
// (Ctrl-C), detaches or kills. The stub uses KVM's own debugging support
// (KVM_SET_GUEST_DEBUG): each breakpoint or step is an exit the stub handles
// (a KVM_EXIT_DEBUG, or an int3 found as int3_hit.hpp says); every other exit
// (the program's system calls, its crashes) goes to the VMM's run loop as
// usual, so the program does the same with gdb attached.
#pragma once

#include "boot_image.hpp"
#include "breakpoints.hpp"
#include "gdb_connection.hpp"
#include "gdb_registers.hpp"
#include "guest_memory.hpp"
#include "kvm.hpp"
#include "run_control.hpp"
#include "single_step.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace vmm {

class GdbStub : public Debugger {
  public:
    // Waits for gdb to connect on localhost:port. `boot` says where boot.asm
    // reports the #BP of an int3 (int3_hit.hpp).
    GdbStub(Vcpu& vcpu, GuestMemory& memory, const LoadedBootImage& boot, const RunControl& control,
            uint16_t port);
    ~GdbStub() override;
    GdbStub(const GdbStub&) = delete;
    GdbStub& operator=(const GdbStub&) = delete;

    void before_run(Vcpu& vcpu) override;
    bool after_exit(Vcpu& vcpu) override;

  private:
    enum class Resume { kContinue, kStep };

    // Answers gdb until it says continue or step (or detaches, or kills).
    void serve();
    // The reply to one packet; nothing when there is none to send (the packet
    // resumed the guest, or was answered already).
    std::optional<std::string> answer(const std::string& packet);
    std::string query(const std::string& packet);
    std::string breakpoint(const std::string& packet);
    std::string read_memory(const std::string& arguments);
    std::string write_memory(const std::string& arguments, bool binary);
    std::string write_register(std::size_t n, std::string_view hex_value);
    std::string monitor(const std::string& command);
    std::optional<std::string> resume(Resume how, const std::string& address);

    // The step gdb asked for, of the instruction at RIP. True: KVM's single
    // step does it; false: an exit ends it (a hlt's, a temporary int3's).
    bool start_step(const kvm_regs& regs);
    // Takes out the step's temporary int3, if it planted one.
    void finish_step();

    // Tells gdb the guest stopped, and waits for its commands.
    void stopped(const std::string& reply);
    std::string stop_reply_for_debug_exit();
    CpuRegisters& cpu();
    void detach(const char* why);

    // The step under way (single_step.hpp).
    struct Step {
        StepKind kind;
        uint64_t rflags_before;
        std::optional<uint64_t> ends_at; // over sysret: where it returns
        bool planted;                    // a temporary int3 is at ends_at
    };

    Vcpu& vcpu_;
    GuestMemory& memory_;
    const RunControl& control_;
    Breakpoints breakpoints_;
    const LoadedBootImage boot_;       // where int3s are reported (int3_hit.hpp)
    std::optional<GdbConnection> gdb_; // empty once detached
    bool is_stopped_ = true;           // gdb is in charge: the guest does not run
    Resume resume_ = Resume::kContinue;
    std::optional<Step> step_;
    bool step_ended_outside_ = false; // a step ended in an exit the VMM handled
    bool continue_by_steps_ = false;  // a continue, one step at a time (before_run)
    bool inject_breakpoint_ = false;  // the guest gets the #BP of its own int3
    std::string last_stop_ = "S05"; // gdb connects to a guest stopped before its first instruction
    std::optional<CpuRegisters> cpu_; // read once per stop
};

} // namespace vmm
