// breakpoints.hpp: a debugger's breakpoints, as KVM_SET_GUEST_DEBUG wants them.
//
// A software breakpoint is an int3 (0xCC) written over the first byte of an
// instruction: executing it raises #BP, which KVM then reports as
// KVM_EXIT_DEBUG (KVM_GUESTDBG_USE_SW_BP) instead of giving it to the guest.
// A hardware breakpoint is one of the CPU's four debug registers DR0-DR3:
// an address, and in DR7 whether to stop on executing, writing or accessing
// it (Intel SDM vol. 3A, 18.2). They also watch data, and cost no memory write.
//
// A software breakpoint is both: always an int3, and also a debug register
// while one is free. Each KVM misses one of them somewhere. On PVM, ring-0
// code runs in KVM's instruction emulator, which checks debug registers in
// every mode but cannot emulate int3 outside real mode (int3_hit.hpp copes
// with that). QEMU's emulated AMD-V (measured with Debian's QEMU 7.2, TCG)
// never fires the debug registers of a nested guest, and gives the guest its
// int3 instead of KVM (int3_hit.hpp finds it in boot.asm's exception report).
// Hardware-assisted KVM sees both; the debug register, a fault before the
// instruction, fires first.
#pragma once

#include "guest_memory.hpp"

#include <linux/kvm.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

namespace vmm {

// DR7's R/W field for each kind of hardware breakpoint.
enum class Watch : uint8_t { kExecute = 0, kWrite = 1, kAccess = 3 };

struct HardwareBreakpoint {
    Watch watch;
    uint64_t address;
    uint64_t length;           // 1, 2, 4 or 8; 1 for kExecute
    bool for_software = false; // a software breakpoint placed in a debug register
};

class Breakpoints {
  public:
    explicit Breakpoints(GuestMemory& memory) : memory_(memory) {}

    // False when the address is outside guest memory.
    bool insert_software(uint64_t address);
    // An int3 alone, without a debug register: a step's temporary breakpoint
    // (gdb_stub.cpp, step_narrator.cpp), which must not take one of gdb's.
    bool insert_int3(uint64_t address);
    bool remove_software(uint64_t address);
    // False when the range is not aligned, or no debug register is free.
    bool insert_hardware(const HardwareBreakpoint& breakpoint);
    bool remove_hardware(const HardwareBreakpoint& breakpoint);
    // Puts every replaced byte back.
    void remove_all();

    // Guest memory as the program wrote it: the bytes int3s replaced. Nothing
    // when the range is outside guest memory.
    std::optional<std::vector<std::byte>> read(uint64_t address, uint64_t length) const;
    // Writes guest memory; where an int3 is, the byte goes behind it.
    bool write(uint64_t address, std::span<const std::byte> bytes);

    kvm_guest_debug guest_debug(bool single_step) const;
    // A software breakpoint (or a step's int3) is at `address`.
    bool is_int3(uint64_t address) const { return software_.contains(address); }
    bool has_int3() const { return !software_.empty(); }
    // The hardware breakpoint whose bit DR6 (B0-B3) says fired.
    std::optional<HardwareBreakpoint> fired(uint64_t dr6) const;

  private:
    GuestMemory& memory_;
    std::map<uint64_t, std::byte> software_; // address -> the byte the int3 replaced
    std::array<std::optional<HardwareBreakpoint>, 4> hardware_;
};

} // namespace vmm
