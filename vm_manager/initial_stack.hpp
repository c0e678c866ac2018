// initial_stack.hpp: the stack a Linux program finds when it starts.
#pragma once

#include "elf_loader.hpp"
#include "guest_memory.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace vmm {

// What the System V ABI puts on the stack at process entry (AMD64 psABI 3.4.1,
// figure 3.9), from the stack pointer upwards:
//
//   RSP ->  argc
//           argv[0] ... argv[argc - 1], 0
//           envp[0] ... envp[n - 1], 0
//           auxv: (type, value) pairs, ending with (AT_NULL, 0)
//           padding, then the strings and AT_RANDOM's 16 bytes they point to
//
// musl's _start reads all of it: argc and argv for main(), envp for environ,
// and the auxiliary vector for the page size (AT_PAGESZ), the program headers
// (AT_PHDR, to find its TLS) and the stack-protector seed (AT_RANDOM).
struct ProgramStart {
    std::vector<std::string> arguments;   // argv
    std::vector<std::string> environment; // envp, "NAME=value"
    std::array<uint8_t, 16> random_bytes; // AT_RANDOM
};

// 16 bytes from the host's random source, for AT_RANDOM.
std::array<uint8_t, 16> host_random_bytes();

// Builds the stack so that it ends at stack_top and returns the initial RSP
// (16-byte aligned, pointing at argc).
uint64_t build_initial_stack(GuestMemory& memory, uint64_t stack_top, const LoadedProgram& program,
                             const ProgramStart& start);

} // namespace vmm
