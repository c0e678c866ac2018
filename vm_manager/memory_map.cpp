#include "memory_map.hpp"

#include "guest_layout.hpp"
#include "hex.hpp"

#include <algorithm>

namespace vmm {

std::vector<MemoryArea> memory_areas(const MemoryMapInputs& map)
{
    std::vector<MemoryArea> areas = mapped_areas(map.memory_size, map.boot, map.program);
    areas.push_back(
        {MemoryArea::Kind::kPageTables, layout::kPageTables, map.page_tables.end, Access{}});
    std::stable_sort(areas.begin(), areas.end(),
                     [](const MemoryArea& a, const MemoryArea& b) { return a.start < b.start; });
    return areas;
}

std::optional<MemoryArea> area_of(const MemoryMapInputs& map, uint64_t address)
{
    for (const MemoryArea& area : memory_areas(map)) {
        if (address >= area.start && address < area.end) {
            return area;
        }
    }
    return std::nullopt;
}

std::string access_text(const Access& access)
{
    if (!access.read && !access.write && !access.execute) {
        return "--- unmapped";
    }
    return std::string(access.read ? "r" : "-") + (access.write ? "w" : "-") +
           (access.execute ? "x" : "-") + (access.user ? " user" : " kernel");
}

namespace {

// What an area is, for the memory map.
std::string description(const MemoryArea& area, const MemoryMapInputs& map)
{
    switch (area.kind) {
    case MemoryArea::Kind::kThreadArea:
        return "page 0: the thread area (FS:0x28) until arch_prctl, then unmapped";
    case MemoryArea::Kind::kExceptionStack:
        return "exception stack (boot.asm, TSS IST1)";
    case MemoryArea::Kind::kBootImage:
        return "boot image (boot.asm)";
    case MemoryArea::Kind::kPageTables:
        return "page tables: two address spaces, with and without page 0, and their twins";
    case MemoryArea::Kind::kSegment:
        return "program segment";
    case MemoryArea::Kind::kStack:
        return "stack; the program starts with RSP = " + hex(map.initial_stack);
    }
    return "?";
}

} // namespace

std::string area_text(const MemoryArea& area)
{
    std::string name;
    switch (area.kind) {
    case MemoryArea::Kind::kThreadArea:
        name = "page 0";
        break;
    case MemoryArea::Kind::kExceptionStack:
        name = "the exception stack";
        break;
    case MemoryArea::Kind::kBootImage:
        name = "the boot image";
        break;
    case MemoryArea::Kind::kPageTables:
        name = "the page tables";
        break;
    case MemoryArea::Kind::kSegment:
        name = "a program segment";
        break;
    case MemoryArea::Kind::kStack:
        name = "the stack";
        break;
    }
    return name + " " + hex(area.start) + "-" + hex(area.end) + " (" + access_text(area.access) +
           ")";
}

void print_memory_map(std::FILE* out, const MemoryMapInputs& map)
{
    std::fprintf(out, "# guest physical memory: %llu MiB, identity-mapped (virtual == physical)\n",
                 static_cast<unsigned long long>(map.memory_size >> 20));
    std::fprintf(out, "# access (of the whole 4 KiB pages an area touches): read, write, execute;"
                      " user: ring 3 too, kernel: ring 0 only. Pages of no area are unmapped.\n");
    std::fprintf(out, "# start     end         access        what\n");
    for (const MemoryArea& area : memory_areas(map)) {
        std::fprintf(out, "0x%08llx  0x%08llx  %-12s  %s\n",
                     static_cast<unsigned long long>(area.start),
                     static_cast<unsigned long long>(area.end), access_text(area.access).c_str(),
                     description(area, map).c_str());
    }
}

} // namespace vmm
