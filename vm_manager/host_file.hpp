// host_file.hpp: reading an input file of the VMM (the boot image, the program).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vmm {

// The whole file, which must be a regular file of at most `max_size` bytes
// (the guest memory it is loaded into). Anything else is refused before a
// byte is read: a FIFO, which would block, a device, a file too big to
// load. Throws SystemError or VmmError naming `what` and the path.
std::vector<std::byte> read_host_file(const std::string& path, const char* what, uint64_t max_size);

} // namespace vmm
