// elf_loader.hpp: loading a statically linked x86-64 ELF executable into guest memory.
#pragma once

#include "guest_memory.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vmm {

// One PT_LOAD segment, as loaded.
struct LoadedSegment {
    uint64_t start;
    uint64_t size;  // p_memsz
    uint32_t flags; // PF_R, PF_W, PF_X
};

// What the initial stack and the boot code need to know of a loaded program.
struct LoadedProgram {
    uint64_t entry;           // e_entry: where execution starts (musl's _start)
    uint64_t program_headers; // guest address of the program headers, 0 if not loaded
    uint64_t program_header_size;
    uint64_t program_header_count;
    std::vector<LoadedSegment> segments;
};

// Copies each PT_LOAD segment of `file` to its p_vaddr (guest virtual ==
// guest physical here) and zero-fills the rest of its p_memsz (.bss).
// Segments must lie in [lowest, highest). Throws VmmError naming the problem
// for anything else: not an ELF file, not x86-64, position-independent (PIE),
// dynamically linked, truncated, or too big for guest memory.
LoadedProgram load_elf(GuestMemory& memory, std::span<const std::byte> file, uint64_t lowest,
                       uint64_t highest);

// Reads the program at `path` and loads it where guest_layout.hpp allows
// programs; errors name the file.
LoadedProgram load_elf_file(GuestMemory& memory, const std::string& path);

} // namespace vmm
