// cpu_state.hpp: the names of the CPU's control bits and modes, for people.
//
// One table per register says what each bit is called in the Intel SDM and
// what it does. gdb's target description (gdb_registers.cpp) shows them with
// `info registers cr0`; --step (step_narrator.cpp) names each bit an
// instruction sets or clears.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <span>
#include <string>

namespace vmm {

struct NamedBit {
    unsigned bit;
    const char* name;    // as in the Intel SDM, e.g. "PE"
    const char* meaning; // what setting it does, e.g. "protected mode"
};

// Intel SDM vol. 3A, 2.5 (CR0, CR4) and 2.2.1 (EFER); vol. 1, 3.4.3 (RFLAGS).
std::span<const NamedBit> cr0_bits();
std::span<const NamedBit> cr4_bits();
std::span<const NamedBit> efer_bits();
std::span<const NamedBit> rflags_bits();

inline constexpr uint64_t kCr0Pe = 1u << 0;
inline constexpr uint64_t kEferLma = 1u << 10;

// How the CPU decodes instructions: 16, 32 or 64 bits.
unsigned code_size(const kvm_sregs& sregs);

// The linear address of the instruction at `rip`: CS's base plus RIP, but in
// 64-bit code, where the CPU takes CS's base as 0 (Intel SDM vol. 3A, 3.4.4).
// In real mode the base is CS * 16. Under the identity page tables, the
// linear address is also the guest physical one.
uint64_t code_address(const kvm_sregs& sregs, uint64_t rip);

// The privilege level the CPU runs at: 0 (kernel) to 3 (user). Real mode has none: 0.
unsigned ring(const kvm_sregs& sregs);

// "real mode (16-bit)", "protected mode (32-bit)", "long mode (64-bit)",
// "compatibility mode (32-bit code in long mode)".
std::string mode_name(const kvm_sregs& sregs);

// "PE set (protected mode), PG clear": the named bits that differ between
// `before` and `after`; bits without a name are left out.
std::string changed_bits(std::span<const NamedBit> bits, uint64_t before, uint64_t after);

} // namespace vmm
