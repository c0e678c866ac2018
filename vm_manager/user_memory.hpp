// user_memory.hpp: guest memory as the program itself may use it, which is
// all that the pointers of its system calls may reach.
//
// A pointer a program passes to a system call is an address in its own
// address space. Linux's copy_from_user() fails on an address the process has
// not mapped, and copy_to_user() on one it may not write (a read-only page):
// the call then fails with EFAULT. Nothing at or above the end of user space
// (kUserSpaceEnd) is ever the program's.
//
// Here the program's address space is what the page tables the vCPU runs on
// (its CR3) map with user access (page_tables.hpp, user_access()): its
// segments with their ELF flags, its stack, its brk and mmap memory
// (program_memory.hpp), page 0 only in the start-up address space
// (thread_pointer.hpp). boot.asm's code, its exception stack and the page
// tables are ring 0's: a program cannot have the VMM read or write them for
// it, in ring 0 as in ring 3. Each check reads the tables as they are at the
// call, so it follows mmap, munmap, mprotect, brk and arch_prctl unasked.
//
// One difference remains: Linux finds a bad pointer only as it copies, so a
// call that copies nothing (a read at the end of a file, a write to /dev/null)
// succeeds with it, and one that copies part of a buffer before it meets a bad
// page returns what it copied. Here a buffer is checked whole, before the
// call, and such calls fail with EFAULT.
//
// The VMM's own look at guest memory (loading, a debugger, a crash report)
// goes through GuestMemory: physical addresses, with no such check.
#pragma once

#include "guest_memory.hpp"
#include "kvm.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace vmm {

// The end of user space on x86-64 Linux (TASK_SIZE_MAX: 2^47 minus a guard
// page). Linux's access_ok() refuses a range that goes past it.
inline constexpr uint64_t kUserSpaceEnd = (uint64_t{1} << 47) - 4096;

class UserMemory {
  public:
    // The program's view of `memory`, through the page tables at the vCPU's CR3.
    UserMemory(GuestMemory& memory, const Vcpu& vcpu) : memory_(memory), vcpu_(vcpu) {}

    // True when the program may read all of [address, address + length). An
    // empty range is the program's anywhere up to kUserSpaceEnd: Linux checks
    // only that (access_ok), and then copies nothing.
    bool contains(uint64_t address, uint64_t length) const;

    // The host view of [address, address + length) when the program may read
    // all of it, what copy_from_user() needs; nothing otherwise (EFAULT).
    std::optional<std::span<std::byte>> range(uint64_t address, uint64_t length);

    // The same when the program may also write all of it, what copy_to_user()
    // needs: the buffer a read() or a stat() fills.
    std::optional<std::span<std::byte>> writable_range(uint64_t address, uint64_t length);

    // The NUL-terminated string at `address`, without its NUL, when the
    // program may read it up to its NUL; if no NUL comes within max_length
    // bytes, the first max_length bytes. Nothing when a byte before either is
    // not the program's to read (Linux's strncpy_from_user()).
    std::optional<std::string_view> c_string(uint64_t address, std::size_t max_length);

    // Guest address A is host address host_base() + A (the page tables are
    // an identity map): what range() gives, once contains() has said yes.
    void* host_base() const { return memory_.host_base(); }

    // The size of guest memory: no address of the program lies beyond it.
    uint64_t size() const { return memory_.size(); }

  private:
    // True when the program may read (and, with `write`, write) every byte of
    // [address, address + length).
    bool allows(uint64_t address, uint64_t length, bool write) const;
    std::optional<std::span<std::byte>> host_view(uint64_t address, uint64_t length, bool write);

    GuestMemory& memory_;
    const Vcpu& vcpu_;
};

} // namespace vmm
