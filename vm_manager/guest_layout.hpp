// guest_layout.hpp: where things live in guest physical memory.
//
// The guest's page tables map every virtual address to the same physical
// address (an identity map), so these are also the addresses the program sees.
//
//   0x0000_0000  page 0, left empty (see kPageZero)
//   0x0000_1000  page tables: PML4, PDPT, PD (built by the VMM)
//   0x0000_4000  exception stack (16 KiB, growing down from 0x8000)
//   0x0000_8000  boot image (vm_src/src/boot.asm)
//   0x0010_0000  lowest address a program segment may use (1 MiB)
//   0x0040_0000  where musl-gcc -static links a program
//        ...     free
//   size - 256K  the stack's reserved area; the initial stack is built at its top
//   size         end of guest memory (default 8 MiB)
#pragma once

#include <cstdint>

namespace vmm::layout {

inline constexpr uint64_t KiB = 1024;
inline constexpr uint64_t MiB = 1024 * KiB;
inline constexpr uint64_t GiB = 1024 * MiB;

// Page 0 stays mapped and empty: until the VMM implements arch_prctl(ARCH_SET_FS),
// the FS base is 0 and musl's stack protector reads its canary at %fs:0x28.
inline constexpr uint64_t kPageZero = 0x0;

// The identity page tables: one PML4, one PDPT and one page directory of 2 MiB pages
// cover the first 1 GiB, which bounds the guest memory size.
inline constexpr uint64_t kPml4 = 0x1000;
inline constexpr uint64_t kPdpt = 0x2000;
inline constexpr uint64_t kPageDirectory = 0x3000;
inline constexpr uint64_t kPageTablesEnd = 0x4000;

// boot.asm's exception handlers run on the stack below the boot image, and
// report an exception by writing to this I/O port (EXCEPTION_PORT in boot.asm).
inline constexpr uint64_t kExceptionStackTop = 0x8000;
inline constexpr uint16_t kExceptionPort = 0xE0;

// The boot image is assembled for this address (`org` in boot.asm) and must end
// below 64 KiB, the reach of real mode with CS = 0.
inline constexpr uint64_t kBootImage = 0x8000;
inline constexpr uint64_t kBootImageEnd = 0x10000;

// Program segments must lie in [kProgramLowest, size - kStackReserve).
inline constexpr uint64_t kProgramLowest = 1 * MiB;
inline constexpr uint64_t kStackReserve = 256 * KiB;

// Guest memory size: a whole number of 2 MiB pages, at most what one page directory maps.
inline constexpr uint64_t kLargePage = 2 * MiB;
inline constexpr uint64_t kDefaultMemorySize = 8 * MiB;
inline constexpr uint64_t kMinMemorySize = 2 * MiB;
inline constexpr uint64_t kMaxMemorySize = 1 * GiB;

} // namespace vmm::layout
