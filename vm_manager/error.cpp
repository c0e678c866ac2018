#include "error.hpp"

#include <cstring>

namespace vmm {

SystemError::SystemError(const std::string& call, int error_number, const std::string& hint)
    : VmmError(call + " failed: " + std::strerror(error_number) +
               (hint.empty() ? "" : "\n" + hint)),
      error_number_(error_number)
{
}

} // namespace vmm
