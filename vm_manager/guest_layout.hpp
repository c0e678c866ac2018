// guest_layout.hpp: where things live in guest physical memory.
//
// The guest's page tables map every virtual address they map to the same
// physical address (an identity map), so these are also the addresses the
// program sees. What is not listed here is not mapped at all: touching it is a
// page fault, as touching an unmapped address is a SIGSEGV on Linux.
//
//   0x0000_0000  page 0: the program's thread area until it sets its own (kThreadArea)
//   0x0000_1000  exception stack (28 KiB, growing down from the boot image)
//   0x0000_8000  boot image (vm_src/src/boot.asm)
//   0x0001_0000  page tables (as many 4 KiB pages as the program needs; not mapped)
//   0x0010_0000  lowest address a program segment may use (1 MiB)
//   0x0040_0000  where musl-gcc -static links a program
//        ...     not mapped
//   size - 256K  the stack's reserved area; the initial stack is built at its top
//   size         end of guest memory (default 8 MiB)
#pragma once

#include <cstdint>

namespace vmm::layout {

inline constexpr uint64_t KiB = 1024;
inline constexpr uint64_t MiB = 1024 * KiB;
inline constexpr uint64_t GiB = 1024 * MiB;

// The page sizes of x86-64 4-level paging: a page table maps 4 KiB pages, a
// page directory can map 2 MiB pages directly.
inline constexpr uint64_t kPageSize = 4 * KiB;
inline constexpr uint64_t kLargePage = 2 * MiB;

// Page 0 stands in for the program's thread area until the program sets its
// own thread pointer: the FS base is 0 until then, and musl's stack protector
// reads its canary at %fs:0x28 (in open(), for one). arch_prctl(ARCH_SET_FS)
// sets the FS base and unmaps page 0, so that from main() on a NULL pointer
// faults as on Linux (thread_pointer.hpp).
inline constexpr uint64_t kThreadArea = 0x0;

// boot.asm's exception handlers run on the stack below the boot image, and
// report an exception by writing to this I/O port (EXCEPTION_PORT in boot.asm).
inline constexpr uint64_t kExceptionStack = 0x1000;
inline constexpr uint16_t kExceptionPort = 0xE0;

// The boot image is assembled for this address (`org` in boot.asm), which is
// also the top of the exception stack. It must lie in [kBootImageLowest,
// kBootImageEnd): below 64 KiB, the reach of real mode with CS = 0, and high
// enough that the exception stack below it, from kExceptionStack up, keeps
// 12 KiB at least, for the frames the CPU pushes there (an exception while
// boot.asm reports another, a double fault, nests a second one).
inline constexpr uint64_t kBootImage = 0x8000;
inline constexpr uint64_t kBootImageLowest = 0x4000;
inline constexpr uint64_t kBootImageEnd = 0x10000;

// The page tables (page_tables.hpp) fill 4 KiB pages from kPageTables up, at
// most up to kPageTablesLimit. The CPU reads them by physical address; the
// guest's own address spaces do not map them. The first four pages are PML4s:
// those of the two address spaces, the start-up one and the program's own,
// then a twin of each, which leads to the same tables under another CR3 value
// (switching to it makes KVM flush the vCPU's TLB: PageTableEditor::flush()).
// The tables the program's mmap and brk need later come after the others.
inline constexpr uint64_t kPageTables = 0x10000;
inline constexpr uint64_t kStartupPml4 = kPageTables;
inline constexpr uint64_t kProgramPml4 = kPageTables + kPageSize;
inline constexpr uint64_t kStartupPml4Twin = kPageTables + 2 * kPageSize;
inline constexpr uint64_t kProgramPml4Twin = kPageTables + 3 * kPageSize;
inline constexpr uint64_t kPageTablesLimit = 1 * MiB;

// Program segments must lie in [kProgramLowest, size - kStackReserve).
inline constexpr uint64_t kProgramLowest = 1 * MiB;
inline constexpr uint64_t kStackReserve = 256 * KiB;

// Guest memory size: a whole number of 2 MiB pages, at most what one page directory maps.
inline constexpr uint64_t kDefaultMemorySize = 8 * MiB;
inline constexpr uint64_t kMinMemorySize = 2 * MiB;
inline constexpr uint64_t kMaxMemorySize = 1 * GiB;

} // namespace vmm::layout
