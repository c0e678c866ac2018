// boot_image.hpp: loading boot.bin and telling it where the program starts.
#pragma once

#include "guest_memory.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace vmm {

// The header at the start of boot.bin (see the top of vm_src/src/boot.asm):
// the VMM checks the signature, loads the image at load_address, and fills in
// the last four fields, which the boot code reads once it runs.
struct BootHeader {
    uint8_t jump[8];           // `jmp short start16`, padded
    char signature[8];         // "SCRATCHV"
    uint64_t load_address;     // the `org` the image was assembled for
    uint64_t syscall_entry;    // the address of the `hlt` every system call executes
    uint64_t exception_report; // the address of the `out` that reports an exception
    uint64_t program_entry;    // filled in: the program's entry point
    uint64_t program_stack;    // filled in: RSP at the program's start
    uint64_t page_tables;      // filled in: the PML4's address, for CR3
    uint64_t user_mode;        // filled in: 1 = ring 3, 0 = ring 0
};
static_assert(sizeof(BootHeader) == 72, "must match the header in boot.asm");

struct BootParameters {
    uint64_t program_entry;
    uint64_t program_stack;
    uint64_t page_tables;
    bool user_mode;
};

struct LoadedBootImage {
    uint64_t address; // where it was loaded, and where the vCPU starts
    uint64_t size;
    uint64_t syscall_entry;    // the `hlt` of boot.asm's system-call entry point
    uint64_t exception_report; // the `out` of boot.asm's exception report
};

// Checks the image and copies it into guest memory at its load address: the
// vCPU starts there in real mode. Throws VmmError naming the problem when the
// file is not a ScratchVM boot image.
LoadedBootImage load_boot_image(GuestMemory& memory, std::span<const std::byte> image);

// The same, reading the image from `path`; errors name the file.
LoadedBootImage load_boot_image_file(GuestMemory& memory, const std::string& path);

// Fills in the header of the image loaded at load_address.
void write_boot_parameters(GuestMemory& memory, uint64_t load_address,
                           const BootParameters& parameters);

} // namespace vmm
