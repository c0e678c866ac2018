// opcodes.hpp: the instructions the VMM recognizes by their bytes (Intel SDM vol. 2).
#pragma once

#include <cstdint>

namespace vmm {

inline constexpr uint8_t kHltOpcode = 0xf4;  // hlt: a system call at boot.asm's syscall_entry
inline constexpr uint8_t kInt3Opcode = 0xcc; // int3: a breakpoint, raises #BP

// syscall and sysret: two bytes each, after the 0x0f escape (and, for the
// 64-bit sysret, a REX.W prefix before it).
inline constexpr uint8_t kTwoByteEscape = 0x0f;
inline constexpr uint8_t kSyscallOpcode = 0x05;
inline constexpr uint8_t kSysretOpcode = 0x07;

} // namespace vmm
