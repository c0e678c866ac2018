#include "memory_map.hpp"

#include "guest_layout.hpp"
#include "hex.hpp"

#include <elf.h>

#include <algorithm>
#include <string>
#include <vector>

namespace vmm {

namespace {

struct Region {
    uint64_t start;
    uint64_t end;
    std::string what;
};

std::string permissions(uint32_t flags)
{
    return std::string(flags & PF_R ? "r" : "-") + (flags & PF_W ? "w" : "-") +
           (flags & PF_X ? "x" : "-");
}

} // namespace

void print_memory_map(std::FILE* out, const MemoryMapInputs& map)
{
    using namespace layout;
    std::vector<Region> regions = {
        {kPageZero, kPml4, "page 0, left empty (musl reads its stack canary at FS:0x28)"},
        {kPml4, kPageTablesEnd, "page tables: PML4, PDPT, page directory of 2 MiB pages"},
        {kPageTablesEnd, kExceptionStackTop, "exception stack (boot.asm, TSS IST1)"},
        {map.boot_image, map.boot_image + map.boot_image_size, "boot image (boot.asm)"},
        {map.memory_size - kStackReserve, map.memory_size,
         "stack; the program starts with RSP = " + hex(map.initial_stack)},
    };
    for (const LoadedSegment& segment : map.program.segments) {
        regions.push_back({segment.start, segment.start + segment.size,
                           "program segment " + permissions(segment.flags)});
    }
    std::sort(regions.begin(), regions.end(),
              [](const Region& a, const Region& b) { return a.start < b.start; });

    std::fprintf(out, "# guest physical memory: %llu MiB, identity-mapped (virtual == physical)\n",
                 static_cast<unsigned long long>(map.memory_size >> 20));
    std::fprintf(out, "# start      end          what\n");
    for (const Region& region : regions) {
        std::fprintf(out, "0x%08llx  0x%08llx  %s\n", static_cast<unsigned long long>(region.start),
                     static_cast<unsigned long long>(region.end), region.what.c_str());
    }
}

} // namespace vmm
