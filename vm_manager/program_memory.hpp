// program_memory.hpp: the program's memory calls: brk, mmap, munmap, mprotect, mremap.
//
// A Linux process gets more memory in two ways: by moving its program break
// (brk), the end of its heap, which starts just past its data; and by
// mappings (mmap), placed anywhere free. Here both come out of the guest
// memory between the program's last segment and its stack (guest_layout.hpp):
// the break grows up from the program, and mappings are placed from the top
// down, below the stack, as Linux places them (its "top-down mmap layout").
//
// A page the program gets is mapped in the page tables with the access it
// asked for (PageTableEditor) and holds zeros, or a file's bytes; a page it
// gives back is unmapped, its host memory released, and the vCPU's cached
// translations of it flushed.
//
// What differs from Linux, and why:
//   - A file mapping is a copy of the file's bytes, taken when it is mapped.
//     For a private mapping (MAP_PRIVATE) that is what the program sees
//     anyway, but for the file's later changes (which POSIX leaves
//     unspecified). A shared file mapping (MAP_SHARED) would have to write
//     the program's stores back to the file: it fails with ENODEV, as for a
//     file that cannot be mapped. Past the end of the file, where Linux
//     raises SIGBUS, the pages hold zeros.
//   - An anonymous shared mapping is a private one: there is no other
//     process to share it with.
//   - mremap() resizes and moves mappings that mmap() made, not the break,
//     the segments or the stack (EFAULT), and has no MREMAP_DONTUNMAP.
#pragma once

#include "elf_loader.hpp"
#include "guest_memory.hpp"
#include "kvm.hpp"
#include "page_tables.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace vmm {

class ProgramMemory {
  public:
    // The program as loaded; page tables as built. The break starts at the
    // first page past the program's last segment.
    ProgramMemory(GuestMemory& memory, const PageTables& tables, const LoadedProgram& program);

    // brk(address): moves the break to `address` and returns it; returns the
    // break unchanged when it cannot move there (brk(0) asks where it is), as
    // Linux's brk does.
    uint64_t brk(Vcpu& vcpu, uint64_t address);

    // mmap(address, length, prot, flags, fd, offset): the address of the new
    // mapping, or -errno. `file` is the host fd behind the guest's fd, or -1
    // for an anonymous mapping (the caller checks the guest's fd).
    int64_t map(Vcpu& vcpu, uint64_t address, uint64_t length, uint64_t prot, uint64_t flags,
                int file, uint64_t offset);

    // munmap(address, length): 0, or -errno.
    int64_t unmap(Vcpu& vcpu, uint64_t address, uint64_t length);

    // mprotect(address, length, prot): 0, or -errno.
    int64_t protect(Vcpu& vcpu, uint64_t address, uint64_t length, uint64_t prot);

    // mremap(old_address, old_length, new_length, flags, new_address): the
    // mapping's address, moved or not, or -errno.
    int64_t remap(Vcpu& vcpu, uint64_t old_address, uint64_t old_length, uint64_t new_length,
                  uint64_t flags, uint64_t new_address);

  private:
    // What each 4 KiB page of guest memory is to the program.
    enum class Use : uint8_t {
        kNotProgram, // boot.asm's, the page tables, page 0: never the program's
        kFree,       // nothing there: mmap and brk may take it
        kSegment,    // a segment of the program (or part of one)
        kStack,
        kBreak,   // between the program and its break
        kMapping, // an mmap() mapping
    };
    struct Page {
        Use use = Use::kNotProgram;
        uint8_t prot = 0; // PROT_READ, PROT_WRITE, PROT_EXEC
    };

    bool all_pages(uint64_t first, uint64_t end, Use use) const;
    bool all_program_pages(uint64_t first, uint64_t end) const;
    // The highest run of `count` free pages below the stack, above the break.
    std::optional<uint64_t> find_free(uint64_t count) const;
    // Gives pages [first, end) a use and a protection, in the page tables too.
    // Fresh pages (`zeroed`) are emptied first. False when the page tables are full.
    bool set_pages(uint64_t first, uint64_t end, Use use, uint8_t prot, bool zeroed);
    // Unmaps pages [first, end) that are the program's: they become free.
    bool free_pages(uint64_t first, uint64_t end);

    GuestMemory& memory_;
    PageTableEditor tables_;
    std::vector<Page> pages_;
    uint64_t break_start_; // the page past the program's last segment
    uint64_t break_;       // the break as the program set it (not page-aligned)
    uint64_t top_;         // the first page of the stack: mappings go below
};

} // namespace vmm
