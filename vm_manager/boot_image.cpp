#include "boot_image.hpp"

#include "error.hpp"
#include "guest_layout.hpp"
#include "hex.hpp"
#include "host_file.hpp"

#include <cstddef>
#include <cstring>

namespace vmm {

LoadedBootImage load_boot_image(GuestMemory& memory, std::span<const std::byte> image)
{
    BootHeader header;
    if (image.size() < sizeof header) {
        throw VmmError("the boot image is too small to be a ScratchVM boot image (" +
                       std::to_string(image.size()) + " bytes); rebuild it with make");
    }
    std::memcpy(&header, image.data(), sizeof header);
    if (std::memcmp(header.signature, "SCRATCHV", sizeof header.signature) != 0) {
        throw VmmError("the boot image has no SCRATCHV signature: is --boot a build of "
                       "vm_src/src/boot.asm?");
    }
    if (header.load_address < layout::kBootImageLowest ||
        header.load_address > layout::kBootImageEnd ||
        image.size() > layout::kBootImageEnd - header.load_address) {
        throw VmmError("the boot image must lie between " + hex(layout::kBootImageLowest) +
                       " and " + hex(layout::kBootImageEnd) + " (it is assembled for address " +
                       hex(header.load_address) + ", " + std::to_string(image.size()) + " bytes)");
    }
    // The VMM takes a `hlt` for a system call, and an `out` for an exception
    // report, only at these two addresses: they must be boot.asm's own code.
    const auto in_code = [&](uint64_t address) {
        return address >= header.load_address + sizeof header &&
               address < header.load_address + image.size();
    };
    if (!in_code(header.syscall_entry)) {
        throw VmmError("the boot image's system-call entry point (" + hex(header.syscall_entry) +
                       ") is not inside the image; rebuild it with make");
    }
    if (!in_code(header.exception_report)) {
        throw VmmError("the boot image's exception report (" + hex(header.exception_report) +
                       ") is not inside the image; rebuild it with make");
    }
    memory.write(header.load_address, image, "boot image");
    return {header.load_address, image.size(), header.syscall_entry, header.exception_report};
}

LoadedBootImage load_boot_image_file(GuestMemory& memory, const std::string& path)
{
    const std::vector<std::byte> image =
        read_host_file(path, "boot image", memory.size(), guest_memory_limit(memory.size()));
    try {
        return load_boot_image(memory, image);
    } catch (const VmmError& error) {
        throw VmmError(path + ": " + error.what());
    }
}

void write_boot_parameters(GuestMemory& memory, uint64_t load_address,
                           const BootParameters& parameters)
{
    memory.write_u64(load_address + offsetof(BootHeader, program_entry), parameters.program_entry,
                     "boot header");
    memory.write_u64(load_address + offsetof(BootHeader, program_stack), parameters.program_stack,
                     "boot header");
    memory.write_u64(load_address + offsetof(BootHeader, page_tables), parameters.page_tables,
                     "boot header");
    memory.write_u64(load_address + offsetof(BootHeader, user_mode), parameters.user_mode ? 1 : 0,
                     "boot header");
}

} // namespace vmm
