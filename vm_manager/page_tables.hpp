// page_tables.hpp: the page tables the guest runs on.
//
// An identity map (virtual == physical) that gives each page the access Linux
// would give it: program segments as their ELF flags say (a write to .rodata
// faults), the stack read-write and not executable, boot.asm's pages to ring 0
// only, and nothing at all where nothing is (guest_layout.hpp).
//
// There are two address spaces, the same but for page 0 (guest_layout.hpp,
// kThreadArea). boot.asm starts the program on the start-up one, where page 0
// is mapped: it stands in for the thread area while the FS base is still 0.
// arch_prctl(ARCH_SET_FS) moves the program to its own address space, where
// page 0 is not mapped (thread_pointer.hpp).
//
// Once the program runs, its memory calls (mmap, munmap, mprotect, brk:
// program_memory.hpp) change the access of pages: PageTableEditor does it, in
// both address spaces, and makes the vCPU forget what it cached.
#pragma once

#include "boot_image.hpp"
#include "elf_loader.hpp"
#include "guest_memory.hpp"
#include "kvm.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace vmm {

// Page-table entry bits (Intel SDM vol. 3A, 4.5 "4-level paging", tables 4-15 to 4-20).
inline constexpr uint64_t kPtePresent = 1 << 0;
inline constexpr uint64_t kPteWritable = 1 << 1;
inline constexpr uint64_t kPteUser = 1 << 2;      // ring 3 may access it
inline constexpr uint64_t kPteLargePage = 1 << 7; // in a page directory: maps 2 MiB directly
inline constexpr uint64_t kPteNoExecute = uint64_t{1} << 63; // no instruction fetch (with EFER.NXE)

// How the guest may use a range of memory. All false: not mapped.
struct Access {
    bool read = false;
    bool write = false;
    bool execute = false;
    bool user = false; // ring 3 may use it too; otherwise only ring 0 (boot.asm)
};

// A range of guest memory that has a purpose, and how the page tables map it.
struct MemoryArea {
    enum class Kind { kThreadArea, kExceptionStack, kBootImage, kPageTables, kSegment, kStack };
    Kind kind;
    uint64_t start;
    uint64_t end; // excluded; the whole pages that hold [start, end) get `access`
    Access access;
};

// What ring 3 may do at `address` in the address space whose PML4 is at
// `pml4`, as the CPU decides it: it walks the four levels of tables, and every
// level must allow user access (U/S), and writing too (R/W) for a write
// (Intel SDM vol. 3A, 4.6). `end` is where the answer ends: the end of the
// 4 KiB or 2 MiB page, or of the stretch an absent entry leaves unmapped. The
// tables are read where they are, in guest memory (a table outside it maps
// nothing), so the answer follows every change PageTableEditor makes.
struct UserAccess {
    bool read = false;
    bool write = false;
    uint64_t end = 0; // excluded
};
UserAccess user_access(GuestMemory& memory, uint64_t pml4, uint64_t address);

// Every area the page tables map, in address order (the thread area as the
// start-up address space maps it). The rest of guest memory is not mapped.
std::vector<MemoryArea> mapped_areas(uint64_t memory_size, const LoadedBootImage& boot,
                                     const LoadedProgram& program);

struct PageTables {
    uint64_t startup_pml4; // CR3 when the program starts (layout::kStartupPml4)
    uint64_t end;          // the tables fill [layout::kPageTables, end)
};

// Writes the page tables of both address spaces from layout::kPageTables up:
// for each 2 MiB of guest memory, one large page where all of it has the same
// access, or a page table of 4 KiB pages where it does not. Throws VmmError
// when guest memory is not a multiple of 2 MiB up to 1 GiB, or when the
// program's segments need more page tables than fit below 1 MiB.
PageTables build_identity_page_tables(GuestMemory& memory, const LoadedBootImage& boot,
                                      const LoadedProgram& program);

// Changes the access of pages while the program runs, in both address spaces
// (they differ only in page 0, which is never the program's to change). It
// reads the tables where they are, in guest memory: they are the truth.
class PageTableEditor {
  public:
    // New page tables come from `tables.end` up, to layout::kPageTablesLimit.
    PageTableEditor(GuestMemory& memory, const PageTables& tables);

    // Gives the whole 4 KiB pages in [start, end) `access` (all false: not
    // mapped). Returns false, and changes nothing, when that needs more page
    // tables than are left (the caller's -ENOMEM).
    bool set_access(uint64_t start, uint64_t end, const Access& access);

    // The vCPU may have cached translations of the entries set_access()
    // changed (its TLB): a page unmapped, or made read-only, could still be
    // used. KVM forgets them when CR3 changes, so this moves the vCPU to the
    // twin of its PML4 (guest_layout.hpp): the same tables under another CR3.
    // Nothing to do when only new pages were mapped: no translation of a
    // page that was not present is ever cached.
    void flush(Vcpu& vcpu);

  private:
    std::optional<uint64_t> allocate_table();
    // The entry of the page directory of the address space at `pml4` for region `region`.
    uint64_t directory_entry_address(uint64_t pml4, uint64_t region);
    void set_region(uint64_t pml4, uint64_t region, uint64_t first, uint64_t last, uint64_t bits);

    GuestMemory& memory_;
    uint64_t next_table_;
    bool stale_ = false; // a present entry changed since the last flush()
};

} // namespace vmm
