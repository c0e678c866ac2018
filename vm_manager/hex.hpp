// hex.hpp: addresses in messages, written the way the manuals and objdump do.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace vmm {

// "0x401000"
inline std::string hex(uint64_t value)
{
    char text[24];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
    return text;
}

} // namespace vmm
