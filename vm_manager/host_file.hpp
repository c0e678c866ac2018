// host_file.hpp: reading an input file of the VMM (the boot image, the program).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace vmm {

// The whole file; throws SystemError naming `what` and the path.
std::vector<std::byte> read_host_file(const std::string& path, const char* what);

} // namespace vmm
