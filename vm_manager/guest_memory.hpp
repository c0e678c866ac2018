// guest_memory.hpp: the guest's physical memory, as seen from the host.
//
// The VMM mmap()s a host buffer and hands it to KVM as guest physical memory:
// guest address A is host address base + A. Every access from the VMM goes
// through this class, which checks that the whole range [A, A + length) lies
// inside guest memory, without overflow, before touching host memory.
//
// These are physical addresses, for the VMM's own use: loading the program,
// building the page tables, a debugger, a crash report. A pointer the program
// passes to a system call is a number it chose, in its own address space:
// UserMemory (user_memory.hpp) checks it against what the program may use.
#pragma once

#include "unique_fd.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace vmm {

// What a message says of guest memory of `size` bytes, too small for
// something: "the guest's memory holds (N bytes)", and while --mem can give
// it more, "; a larger --mem, up to 1 GiB, may help".
std::string guest_memory_limit(uint64_t size);

class GuestMemory {
  public:
    // Reserves `size` bytes; pages cost host memory only once touched.
    explicit GuestMemory(uint64_t size);

    uint64_t size() const { return size_; }

    // True when [address, address + length) lies inside guest memory.
    bool contains(uint64_t address, uint64_t length) const;

    // The host view of a guest range, or nothing when it is not inside guest memory.
    std::optional<std::span<std::byte>> range(uint64_t address, uint64_t length);

    // For the VMM's own set-up, where a bad address is a bug or a bad input
    // file: like range(), but throws VmmError naming `what`.
    std::span<std::byte> checked_range(uint64_t address, uint64_t length, const char* what);
    void write(uint64_t address, std::span<const std::byte> bytes, const char* what);
    void write_u64(uint64_t address, uint64_t value, const char* what);
    uint64_t read_u64(uint64_t address, const char* what);

    // Gives the host pages of [address, address + length), whole 4 KiB pages
    // inside guest memory, back to the host: they cost nothing, and read as
    // zeros, until touched again. For memory the program unmaps, and the
    // fresh pages it maps, which Linux gives it zero-filled.
    void discard(uint64_t address, uint64_t length);

    // The host address of guest address 0, for KVM_SET_USER_MEMORY_REGION only.
    void* host_base() const { return mapping_.get(); }

  private:
    uint64_t size_;
    Mapping mapping_;
};

} // namespace vmm
