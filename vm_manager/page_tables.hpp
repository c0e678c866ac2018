// page_tables.hpp: the identity page tables the guest runs on.
#pragma once

#include "guest_memory.hpp"

#include <cstdint>

namespace vmm {

// Page-table entry bits (Intel SDM vol. 3A, 4.5 "4-level paging", tables 4-15 to 4-18).
inline constexpr uint64_t kPtePresent = 1 << 0;
inline constexpr uint64_t kPteWritable = 1 << 1;
inline constexpr uint64_t kPteUser = 1 << 2;      // ring 3 may access it
inline constexpr uint64_t kPteLargePage = 1 << 7; // in a page directory: maps 2 MiB directly

// Writes a PML4, a PDPT and a page directory at the addresses of guest_layout.hpp
// that map every 2 MiB page of guest memory to itself (virtual == physical),
// present, writable and user-accessible. Nothing past the end of guest memory
// is mapped, so a stray access there is a page fault inside the guest.
// Returns the address of the PML4, the value for CR3.
uint64_t build_identity_page_tables(GuestMemory& memory);

} // namespace vmm
