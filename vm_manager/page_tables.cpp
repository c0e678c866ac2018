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

// The bits of an entry that hold the physical address of a page or a table,
// and those that say how the page may be used. The CPU also sets bits of its
// own in the entries it uses (accessed, dirty): they are neither.
constexpr uint64_t kAddressBits = 0x000ffffffffff000;
constexpr uint64_t kAccessBits = kPtePresent | kPteWritable | kPteUser | kPteNoExecute;

// The access bits of a page-directory entry that maps 2 MiB itself; 0 when it
// maps nothing, or points at a page table.
uint64_t large_page_bits(uint64_t entry)
{
    return (entry & kPtePresent) && (entry & kPteLargePage) ? entry & kAccessBits : 0;
}

bool is_table(uint64_t entry)
{
    return (entry & kPtePresent) && !(entry & kPteLargePage);
}

// True when replacing entry `old` by `value` takes away a translation the
// vCPU may have cached: `old` was present, and now says something else.
bool changes_cached(uint64_t old, uint64_t value)
{
    return (old & kPtePresent) && (old & (kAddressBits | kAccessBits | kPteLargePage)) !=
                                      (value & (kAddressBits | kAccessBits | kPteLargePage));
}

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

// The lower half of the 48-bit address space, where a program's addresses
// are: PML4 entries 0-255. Above it the walk would need canonical addresses.
constexpr uint64_t kLowerHalfEnd = uint64_t{1} << 47;

} // namespace

UserAccess user_access(GuestMemory& memory, uint64_t pml4, uint64_t address)
{
    if (address >= kLowerHalfEnd) {
        return {false, false, UINT64_MAX};
    }
    // Bits 47-39 of the address index the PML4, 38-30 the PDPT, 29-21 the
    // page directory, 20-12 the page table (Intel SDM vol. 3A, 4.5).
    uint64_t table = pml4 & kAddressBits;
    bool write = true;
    for (unsigned shift = 39;; shift -= 9) {
        const uint64_t span = uint64_t{1} << shift; // what one entry of this level maps
        const uint64_t start = address & ~(span - 1);
        const std::optional<std::span<std::byte>> slot =
            memory.range(table + ((address >> shift) & (kEntriesPerTable - 1)) * 8, 8);
        uint64_t entry = 0;
        if (slot) {
            std::memcpy(&entry, slot->data(), sizeof entry);
        }
        // Bit 7 of a PML4 entry is reserved: the CPU faults on it.
        const bool reserved = shift == 39 && (entry & kPteLargePage);
        if (!(entry & kPtePresent) || !(entry & kPteUser) || reserved) {
            return {false, false, start + span};
        }
        write = write && (entry & kPteWritable);
        if (shift == 12 || (entry & kPteLargePage)) { // a 4 KiB page, or a 2 MiB or 1 GiB one
            // The VMM reaches guest memory through the identity map only (host
            // address = base + guest address): a page mapped elsewhere, which
            // only a ring-0 program's own tables could hold, is not followed.
            const bool identity = (entry & kAddressBits & ~(span - 1)) == start;
            return {identity, identity && write, start + span};
        }
        table = entry & kAddressBits;
    }
}

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

    // The four PML4s first, so that they are where guest_layout.hpp says;
    // each twin's only entry is its address space's, to the same PDPT.
    TableAllocator tables(memory);
    const uint64_t startup_pml4 = tables.allocate();
    const uint64_t program_pml4 = tables.allocate();
    const uint64_t startup_twin = tables.allocate();
    const uint64_t program_twin = tables.allocate();
    map_address_space(memory, tables, program_pml4, pages);
    pages[kThreadArea / kPageSize] = thread_area;
    map_address_space(memory, tables, startup_pml4, pages);
    memory.write_u64(startup_twin, memory.read_u64(startup_pml4, "PML4"), "PML4");
    memory.write_u64(program_twin, memory.read_u64(program_pml4, "PML4"), "PML4");
    return {startup_pml4, tables.end()};
}

PageTableEditor::PageTableEditor(GuestMemory& memory, const PageTables& tables)
    : memory_(memory), next_table_(tables.end)
{
}

std::optional<uint64_t> PageTableEditor::allocate_table()
{
    const std::optional<std::span<std::byte>> table = memory_.range(next_table_, kPageSize);
    if (next_table_ + kPageSize > kPageTablesLimit || !table) {
        return std::nullopt;
    }
    std::memset(table->data(), 0, table->size());
    next_table_ += kPageSize;
    return next_table_ - kPageSize;
}

uint64_t PageTableEditor::directory_entry_address(uint64_t pml4, uint64_t region)
{
    // Only the first 1 GiB exists: PML4 entry 0, PDPT entry 0 (map_address_space).
    const uint64_t pdpt = memory_.read_u64(pml4, "PML4") & kAddressBits;
    const uint64_t directory = memory_.read_u64(pdpt, "PDPT") & kAddressBits;
    return directory + region * sizeof(uint64_t);
}

bool PageTableEditor::set_access(uint64_t start, uint64_t end, const Access& access)
{
    const uint64_t bits = entry_bits(access);
    const uint64_t first_page = start / kPageSize;
    const uint64_t end_page =
        std::min((end + kPageSize - 1) / kPageSize, memory_.size() / kPageSize);
    if (first_page >= end_page) {
        return true;
    }
    const uint64_t first_region = first_page / kEntriesPerTable;
    const uint64_t end_region = (end_page + kEntriesPerTable - 1) / kEntriesPerTable;

    // First count the page tables it needs, so that it fails before any change.
    uint64_t needed = 0;
    for (uint64_t region = first_region; region < end_region; ++region) {
        const bool whole =
            first_page <= region * kEntriesPerTable && end_page >= (region + 1) * kEntriesPerTable;
        for (uint64_t pml4 : {kStartupPml4, kProgramPml4}) {
            const uint64_t entry =
                memory_.read_u64(directory_entry_address(pml4, region), "page directory");
            if (!whole && !is_table(entry) && large_page_bits(entry) != bits) {
                ++needed; // a large page to split, or a region mapped for the first time
            }
        }
    }
    if (needed > (kPageTablesLimit - std::min(next_table_, kPageTablesLimit)) / kPageSize ||
        !memory_.contains(next_table_, needed * kPageSize)) {
        return false;
    }

    for (uint64_t region = first_region; region < end_region; ++region) {
        const uint64_t base = region * kEntriesPerTable;
        const uint64_t first = std::max(first_page, base) - base;
        const uint64_t last = std::min(end_page, base + kEntriesPerTable) - base;
        for (uint64_t pml4 : {kStartupPml4, kProgramPml4}) {
            set_region(pml4, region, first, last, bits);
        }
    }
    return true;
}

// Pages [first, last) of 2 MiB region `region` get `bits` in one address space.
void PageTableEditor::set_region(uint64_t pml4, uint64_t region, uint64_t first, uint64_t last,
                                 uint64_t bits)
{
    const uint64_t entry_address = directory_entry_address(pml4, region);
    const uint64_t entry = memory_.read_u64(entry_address, "page directory");
    const uint64_t address = region * kLargePage;
    auto set_directory_entry = [&](uint64_t value) {
        stale_ |= changes_cached(entry, value);
        memory_.write_u64(entry_address, value, "page directory");
    };
    if (first == 0 && last == kEntriesPerTable) {
        // All 2 MiB: one large page, or nothing (a page table there is left unused).
        set_directory_entry(bits == 0 ? 0 : address | bits | kPteLargePage);
        return;
    }
    std::vector<uint64_t> entries(kEntriesPerTable, 0);
    uint64_t table;
    if (is_table(entry)) {
        table = entry & kAddressBits;
        std::memcpy(entries.data(), memory_.checked_range(table, kPageSize, "page table").data(),
                    kPageSize);
    } else {
        const uint64_t large_bits = large_page_bits(entry);
        if (large_bits == bits) {
            return; // the whole region already has this access (or is unmapped, as asked)
        }
        // A large page split in 4 KiB pages of the same access, or a region
        // mapped for the first time: a new table (set_access() counted it).
        table = *allocate_table();
        for (uint64_t i = 0; i < kEntriesPerTable && large_bits != 0; ++i) {
            entries[i] = (address + i * kPageSize) | large_bits;
        }
    }
    for (uint64_t i = first; i < last; ++i) {
        const uint64_t value = bits == 0 ? 0 : (address + i * kPageSize) | bits;
        stale_ |= changes_cached(entries[i], value);
        entries[i] = value;
    }
    memory_.write(table, std::as_bytes(std::span(entries)), "page table");
    set_directory_entry(table | kTableEntry);
}

void PageTableEditor::flush(Vcpu& vcpu)
{
    if (!stale_) {
        return;
    }
    // KVM loads the page tables afresh, and flushes the vCPU's TLB, when a
    // KVM_SET_SREGS changes CR3; the same value would change nothing.
    kvm_sregs& sregs = vcpu.sregs();
    switch (sregs.cr3) {
    case kStartupPml4:
        sregs.cr3 = kStartupPml4Twin;
        break;
    case kStartupPml4Twin:
        sregs.cr3 = kStartupPml4;
        break;
    case kProgramPml4:
        sregs.cr3 = kProgramPml4Twin;
        break;
    case kProgramPml4Twin:
        sregs.cr3 = kProgramPml4;
        break;
    default:
        return; // a ring-0 program runs on page tables of its own: not ours to flush
    }
    vcpu.mark_sregs_dirty();
    stale_ = false;
}

} // namespace vmm
