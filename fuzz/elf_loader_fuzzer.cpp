// elf_loader_fuzzer.cpp: load_elf() on arbitrary bytes, into 8 MiB of guest
// memory with the limits load_elf_file() uses (guest_layout.hpp), then the
// page tables for what it loaded.
//
// The input is the file. load_elf() must either throw VmmError or return a
// program whose entry point lies where programs may be loaded, and whose
// program headers, when it says they were loaded, lie inside guest memory.
// build_identity_page_tables() must then map its segments, or throw VmmError,
// without writing past the page tables' area.
// Any other exception is a finding (libFuzzer reports it as a crash).
#include "elf_loader.hpp"
#include "error.hpp"
#include "guest_layout.hpp"
#include "guest_memory.hpp"
#include "page_tables.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size)
{
    // Made once: load_elf() writes every byte it loads, and reads none of guest memory.
    static vmm::GuestMemory memory(vmm::layout::kDefaultMemorySize);
    const uint64_t lowest = vmm::layout::kProgramLowest;
    const uint64_t highest = memory.size() - vmm::layout::kStackReserve;

    vmm::LoadedProgram program;
    try {
        program = vmm::load_elf(memory, std::as_bytes(std::span(data, size)), lowest, highest);
    } catch (const vmm::VmmError&) {
        return 0; // refused, with a message: fine
    }
    if (program.entry < lowest || program.entry >= highest) {
        std::fprintf(stderr, "FINDING: entry point 0x%llx outside [0x%llx, 0x%llx)\n",
                     static_cast<unsigned long long>(program.entry),
                     static_cast<unsigned long long>(lowest),
                     static_cast<unsigned long long>(highest));
        std::abort();
    }
    if (program.program_headers != 0 &&
        !memory.contains(program.program_headers,
                         program.program_header_count * program.program_header_size)) {
        std::fprintf(stderr, "FINDING: program headers at 0x%llx (%llu of them) outside memory\n",
                     static_cast<unsigned long long>(program.program_headers),
                     static_cast<unsigned long long>(program.program_header_count));
        std::abort();
    }
    const vmm::LoadedBootImage boot{vmm::layout::kBootImage, 0x500, 0x8100, 0x8200};
    try {
        const vmm::PageTables tables = vmm::build_identity_page_tables(memory, boot, program);
        if (tables.end > vmm::layout::kPageTablesLimit) {
            std::fprintf(stderr, "FINDING: page tables end at 0x%llx\n",
                         static_cast<unsigned long long>(tables.end));
            std::abort();
        }
    } catch (const vmm::VmmError&) {
        return 0; // too many page tables for its segments: refused, with a message
    }
    return 0;
}
