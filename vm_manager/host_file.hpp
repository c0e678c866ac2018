// host_file.hpp: reading an input file of the VMM (the boot image, the program).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vmm {

// The whole file, which must be a regular file of at most `max_size` bytes.
// Anything else is refused before a byte is read: a FIFO, which would block,
// a device, a file too big. Throws SystemError or VmmError naming `what` and
// the path; for a file too big, the message says it is "more than" `limit`:
// the caller's words for what holds max_size bytes, and what may help.
std::vector<std::byte> read_host_file(const std::string& path, const char* what, uint64_t max_size,
                                      const std::string& limit);

} // namespace vmm
