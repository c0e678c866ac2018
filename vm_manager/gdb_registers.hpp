// gdb_registers.hpp: the vCPU's registers as gdb sees them.
//
// gdb learns which registers exist, in which order and with which bit names
// from a target description (XML, gdb manual "Target Descriptions"), which it
// reads once it connects. The registers of x86-64 programs come first, as gdb
// expects them (features org.gnu.gdb.i386.core, .sse, .segments); then the
// system registers a program never sees but boot.asm sets: CR0, CR2, CR3,
// CR4, EFER and the segment bases, with their bits named, so that
// `info registers cr0` shows [ PG ET PE ].
#pragma once

#include <linux/kvm.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace vmm {

struct CpuRegisters {
    kvm_regs regs;
    kvm_sregs sregs;
};

std::string target_description();

// How many registers the description lists; gdb numbers them from 0.
std::size_t gdb_register_count();

// Register n as gdb reads it: its bytes in hex, little-endian, or "xx" per
// byte for those this VMM does not read (x87 and SSE). Nothing if no such n.
std::optional<std::string> read_gdb_register(const CpuRegisters& cpu, std::size_t n);
// All of them, one after the other (the 'g' packet).
std::string read_gdb_registers(const CpuRegisters& cpu);

enum class RegisterWrite { kGeneral, kSystem, kIgnored, kNoSuchRegister };
// Sets register n from its bytes (little-endian). Says which part of `cpu`
// changed: kvm_regs (kGeneral) or kvm_sregs (kSystem).
RegisterWrite write_gdb_register(CpuRegisters& cpu, std::size_t n, std::string_view bytes);

} // namespace vmm
