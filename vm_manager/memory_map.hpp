// memory_map.hpp: the guest's physical memory as the VMM laid it out, in words.
//
// `vm_manager --memory-map` prints it for a real run's addresses; the
// handout's memory-map figure is drawn from that output, so it cannot drift
// from the code.
#pragma once

#include "elf_loader.hpp"

#include <cstdint>
#include <cstdio>

namespace vmm {

struct MemoryMapInputs {
    uint64_t memory_size;
    uint64_t boot_image;
    uint64_t boot_image_size;
    const LoadedProgram& program;
    uint64_t initial_stack; // RSP at the program's start
};

// One line per region, in address order: "START END DESCRIPTION", addresses
// in hex, END excluded.
void print_memory_map(std::FILE* out, const MemoryMapInputs& map);

} // namespace vmm
