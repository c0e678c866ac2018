// kvm.hpp: the three KVM objects, each a file descriptor (Documentation/virt/kvm/api.rst).
//
//   Kvm   /dev/kvm: the KVM subsystem. Asks what KVM supports, creates VMs.
//   Vm    one virtual machine: owns the guest memory map, creates vCPUs.
//   Vcpu  one virtual CPU: its registers, and KVM_RUN, which runs the guest
//         until the next VM exit. A shared page (struct kvm_run, mmap()ed from
//         the vCPU fd) tells why the guest exited and carries the registers.
#pragma once

#include "guest_memory.hpp"
#include "unique_fd.hpp"

#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace vmm {

class Vcpu;

// A debugger (gdb_stub.hpp, step_narrator.hpp) sees the vCPU's exits before the
// VMM's run loop does. Its own exits (KVM_EXIT_DEBUG: a breakpoint, a single
// step) it handles itself; the others (system calls, crashes) go on to the
// run loop as they would without it, so the program behaves the same.
class Debugger {
  public:
    virtual ~Debugger() = default;
    // Just before the guest runs: the debugger may stop here (wait for gdb).
    virtual void before_run(Vcpu& vcpu) = 0;
    // Just after KVM_RUN returned. True: the exit was the debugger's own, and
    // the guest runs again without the run loop seeing it.
    virtual bool after_exit(Vcpu& vcpu) = 0;
};

// The CPUID leaves the guest sees (KVM_GET_SUPPORTED_CPUID, then KVM_SET_CPUID2):
// struct kvm_cpuid2 with room for its flexible array of entries.
struct CpuidTable {
    static constexpr unsigned kMaxEntries = 256;
    uint32_t nent; // number of entries: room on input, how many were filled on output
    uint32_t padding;
    kvm_cpuid_entry2 entries[kMaxEntries];
};
// The kernel's layout (in C, entries follow nent and padding). Not checked
// against kvm_cpuid2 itself: compiled as C++, its flexible-array macro adds a byte.
static_assert(offsetof(CpuidTable, entries) == 8);

class Vcpu {
  public:
    Vcpu(UniqueFd fd, std::size_t run_size);

    // Run the guest until the next VM exit. A signal interrupting KVM_RUN is
    // reported as the exit reason KVM_EXIT_INTR. With a debugger attached, its
    // own exits are handled inside and never returned.
    void run();
    void attach(Debugger* debugger) { debugger_ = debugger; }
    uint32_t exit_reason() const { return run_->exit_reason; }
    kvm_run& run_state() { return *run_; }
    const kvm_run& run_state() const { return *run_; }

    // The general-purpose registers as of the last exit. KVM copies them into
    // kvm_run at every exit (KVM_CAP_SYNC_REGS), saving a KVM_GET_REGS ioctl.
    kvm_regs& regs() { return run_->s.regs.regs; }
    const kvm_regs& regs() const { return run_->s.regs.regs; }
    // After changing regs(): KVM loads them back at the next KVM_RUN.
    void mark_regs_dirty() { run_->kvm_dirty_regs |= KVM_SYNC_X86_REGS; }

    // The segment and control registers (CS, FS base, CR0, CR3, EFER, ...) as
    // of the last exit, copied into kvm_run the same way; and after changing
    // them, loaded back at the next KVM_RUN as KVM_SET_SREGS would.
    kvm_sregs& sregs() { return run_->s.regs.sregs; }
    const kvm_sregs& sregs() const { return run_->s.regs.sregs; }
    void mark_sregs_dirty() { run_->kvm_dirty_regs |= KVM_SYNC_X86_SREGS; }

    // Breakpoints and single-stepping (KVM_SET_GUEST_DEBUG): KVM then reports
    // them as KVM_EXIT_DEBUG.
    void set_guest_debug(const kvm_guest_debug& debug);

    // The vCPU's fd. The engine needs none of it; a manager.cpp may make its
    // own ioctls, as a VMM without KVM_CAP_SYNC_REGS does (KVM_GET_REGS and
    // KVM_SET_REGS at every exit).
    int fd() const { return fd_.get(); }
    void set_cpuid(const CpuidTable& table);

    // The reset state, but starting at `address` with CS = 0: 16-bit real mode.
    void start_in_real_mode(uint64_t address);

    // For tests and fuzzing only, no KVM: a Vcpu over a kvm_run that the caller
    // owns and keeps alive. regs(), sregs(), their mark_..._dirty() and
    // exit_reason() work on it; run() and the other calls that need a vCPU
    // fail with EBADF.
    static Vcpu without_kvm(kvm_run& run) { return Vcpu(&run); }

  private:
    explicit Vcpu(kvm_run* run) : run_(run) {}

    void flush_dirty_regs();

    UniqueFd fd_;
    Mapping run_mapping_;
    kvm_run* run_;
    Debugger* debugger_ = nullptr;
};

class Vm {
  public:
    Vm(UniqueFd fd, std::size_t vcpu_run_size);

    // Makes `memory` the guest's physical memory, starting at guest address 0.
    void map_memory(GuestMemory& memory);
    Vcpu create_vcpu();

  private:
    UniqueFd fd_;
    std::size_t vcpu_run_size_;
};

class Kvm {
  public:
    // Opens /dev/kvm and checks the API version and the capabilities the VMM needs.
    Kvm();

    Vm create_vm();
    std::unique_ptr<CpuidTable> supported_cpuid() const;

  private:
    UniqueFd fd_;
};

// A name for an exit reason, e.g. "KVM_EXIT_HLT".
std::string exit_reason_name(uint32_t reason);

} // namespace vmm
