// memory_map.hpp: the guest's physical memory as the VMM laid it out, in words.
//
// `vm_manager --memory-map` prints it for a real run's addresses; the
// handout's memory-map figure is drawn from that output, so it cannot drift
// from the code. Crash reports name the area an address is in from the same
// list.
#pragma once

#include "boot_image.hpp"
#include "elf_loader.hpp"
#include "page_tables.hpp"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace vmm {

struct MemoryMapInputs {
    uint64_t memory_size;
    const LoadedBootImage& boot;
    const PageTables& page_tables;
    const LoadedProgram& program;
    uint64_t initial_stack; // RSP at the program's start
};

// Every area with a purpose, in address order: what the page tables map
// (page_tables.hpp), and the page tables themselves, which they do not.
std::vector<MemoryArea> memory_areas(const MemoryMapInputs& map);

// The area that holds `address`, if any.
std::optional<MemoryArea> area_of(const MemoryMapInputs& map, uint64_t address);

// How an area may be used, e.g. "r-x user", "rw- kernel" or "--- unmapped".
std::string access_text(const Access& access);

// An area in a sentence, e.g. "the boot image 0x8000-0x84e6 (rwx kernel)".
std::string area_text(const MemoryArea& area);

// One line per area, in address order: "START END ACCESS WHAT", addresses in
// hex, END excluded.
void print_memory_map(std::FILE* out, const MemoryMapInputs& map);

} // namespace vmm
