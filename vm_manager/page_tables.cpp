#include "page_tables.hpp"

#include "error.hpp"
#include "guest_layout.hpp"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <span>

namespace vmm {

namespace {

using namespace layout;

constexpr uint64_t kEntriesPerTable = kPageSize / sizeof(uint64_t); // 512

// A PML4, PDPT or page-directory entry that points at the next table allows
// everything: the CPU combines the levels, and the last one decides.
constexpr uint64_t kTableEntry = kPtePresent | kPteWritable | kPteUser;

// The bits of a last-level entry that give `access`. x86 has no write-only or
// execute-only pages: any access makes the page readable.
uint64_t entry_bits(const Access& access)
{
    if (!access.read && !access.write && !access.execute) {
        return 0; // not present
    }
    return kPtePresent | (access.write ? kPteWritable : 0) | (access.user ? kPteUser : 0) |
           (access.execute ? 0 : kPteNoExecute);
}

// Two segments that share a page (their ends are not page-aligned): the page
// allows what either segment allows, so that neither faults where Linux would not.
uint64_t either(uint64_t a, uint64_t b)
{
    if (a == 0 || b == 0) {
        return a | b;
    }
    return ((a | b) & ~kPteNoExecute) | (a & b & kPteNoExecute);
}

// Hands out zeroed 4 KiB pages for page tables, from kPageTables up.
class TableAllocator {
  public:
    explicit TableAllocator(GuestMemory& memory) : memory_(memory) {}

    uint64_t allocate()
    {
        if (next_ == kPageTablesLimit) {
            throw VmmError("the program's segments need more page tables than fit below 1 MiB: "
                           "too many of its 2 MiB regions mix pages of different access");
        }
        std::span<std::byte> table = memory_.checked_range(next_, kPageSize, "page table");
        std::memset(table.data(), 0, table.size());
        next_ += kPageSize;
        return next_ - kPageSize;
    }
    uint64_t end() const { return next_; }

  private:
    GuestMemory& memory_;
    uint64_t next_ = kPageTables;
};

// Fills the address space whose PML4 is `pml4` from `pages`, the last-level
// entry bits of every 4 KiB page of guest memory. Only the first 1 GiB exists
// here: PML4 entry 0, PDPT entry 0, one page directory.
void map_address_space(GuestMemory& memory, TableAllocator& tables, uint64_t pml4,
                       const std::vector<uint64_t>& pages)
{
    const uint64_t pdpt = tables.allocate();
    const uint64_t directory = tables.allocate();
    memory.write_u64(pml4, pdpt | kTableEntry, "PML4");
    memory.write_u64(pdpt, directory | kTableEntry, "PDPT");

    for (uint64_t region = 0; region < pages.size() / kEntriesPerTable; ++region) {
        const auto first = pages.begin() + static_cast<std::ptrdiff_t>(region * kEntriesPerTable);
        const auto last = first + static_cast<std::ptrdiff_t>(kEntriesPerTable);
        const uint64_t address = region * kLargePage;
        uint64_t entry;
        if (std::all_of(first, last, [&](uint64_t bits) { return bits == *first; })) {
            // The same access for all 2 MiB: one large page, or nothing at all.
            entry = *first == 0 ? 0 : address | *first | kPteLargePage;
        } else {
            const uint64_t table = tables.allocate();
            std::vector<uint64_t> entries(first, last);
            for (uint64_t i = 0; i < kEntriesPerTable; ++i) {
                if (entries[i] != 0) {
                    entries[i] |= address + i * kPageSize;
                }
            }
            memory.write(table, std::as_bytes(std::span(entries)), "page table");
            entry = table | kTableEntry;
        }
        memory.write_u64(directory + region * sizeof(uint64_t), entry, "page directory");
    }
}

} // namespace

std::vector<MemoryArea> mapped_areas(uint64_t memory_size, const LoadedBootImage& boot,
                                     const LoadedProgram& program)
{
    using Kind = MemoryArea::Kind;
    // Linux's access for a program: ring 3 may use it, and no code runs from
    // the stack (musl-gcc marks it so: PT_GNU_STACK without PF_X).
    const Access user_data{.read = true, .write = true, .execute = false, .user = true};
    std::vector<MemoryArea> areas = {
        {Kind::kThreadArea, kThreadArea, kThreadArea + kPageSize, user_data},
        // boot.asm's pages are for ring 0 only: from ring 3 the program can
        // neither read nor change the code that reports its exceptions. The
        // image holds boot.asm's variables too: writable.
        {Kind::kExceptionStack, kExceptionStack, boot.address, {true, true, false, false}},
        {Kind::kBootImage, boot.address, boot.address + boot.size, {true, true, true, false}},
        {Kind::kStack, memory_size - kStackReserve, memory_size, user_data},
    };
    for (const LoadedSegment& segment : program.segments) {
        areas.push_back({Kind::kSegment,
                         segment.start,
                         segment.start + segment.size,
                         {.read = (segment.flags & PF_R) != 0,
                          .write = (segment.flags & PF_W) != 0,
                          .execute = (segment.flags & PF_X) != 0,
                          .user = true}});
    }
    std::stable_sort(areas.begin(), areas.end(),
                     [](const MemoryArea& a, const MemoryArea& b) { return a.start < b.start; });
    return areas;
}

PageTables build_identity_page_tables(GuestMemory& memory, const LoadedBootImage& boot,
                                      const LoadedProgram& program)
{
    if (memory.size() % kLargePage != 0 || memory.size() > kMaxMemorySize) {
        throw VmmError("guest memory must be a multiple of 2 MiB and at most 1 GiB");
    }
    // The entry bits of each 4 KiB page of the program's own address space,
    // then of the start-up one, which also maps the thread area (page 0).
    std::vector<uint64_t> pages(memory.size() / kPageSize, 0);
    uint64_t thread_area = 0;
    for (const MemoryArea& area : mapped_areas(memory.size(), boot, program)) {
        const uint64_t bits = entry_bits(area.access);
        if (area.kind == MemoryArea::Kind::kThreadArea) {
            thread_area = bits;
            continue;
        }
        const uint64_t end = std::min((area.end + kPageSize - 1) / kPageSize, pages.size());
        for (uint64_t page = area.start / kPageSize; page < end; ++page) {
            pages[page] = either(pages[page], bits);
        }
    }

    // The two PML4s first, so that they are at kStartupPml4 and kProgramPml4.
    TableAllocator tables(memory);
    const uint64_t startup_pml4 = tables.allocate();
    const uint64_t program_pml4 = tables.allocate();
    map_address_space(memory, tables, program_pml4, pages);
    pages[kThreadArea / kPageSize] = thread_area;
    map_address_space(memory, tables, startup_pml4, pages);
    return {startup_pml4, tables.end()};
}

} // namespace vmm
