#include "user_memory.hpp"

#include "page_tables.hpp"

#include <algorithm>
#include <cstring>

namespace vmm {

bool UserMemory::allows(uint64_t address, uint64_t length, bool write) const
{
    // Written so that nothing can overflow: address + length might wrap around.
    if (address > kUserSpaceEnd || length > kUserSpaceEnd - address) {
        return false;
    }
    const uint64_t end = address + length;
    // Page by page (or by larger stretches, where the tables answer for more).
    for (uint64_t at = address; at < end;) {
        const UserAccess access = user_access(memory_, vcpu_.sregs().cr3, at);
        if (!access.read || (write && !access.write)) {
            return false;
        }
        at = access.end;
    }
    return length == 0 || memory_.contains(address, length);
}

bool UserMemory::contains(uint64_t address, uint64_t length) const
{
    return allows(address, length, false);
}

std::optional<std::span<std::byte>> UserMemory::host_view(uint64_t address, uint64_t length,
                                                          bool write)
{
    if (!allows(address, length, write)) {
        return std::nullopt;
    }
    if (length == 0) {
        return std::span<std::byte>(); // nothing to copy, wherever it is
    }
    return memory_.range(address, length);
}

std::optional<std::span<std::byte>> UserMemory::range(uint64_t address, uint64_t length)
{
    return host_view(address, length, false);
}

std::optional<std::span<std::byte>> UserMemory::writable_range(uint64_t address, uint64_t length)
{
    return host_view(address, length, true);
}

std::optional<std::string_view> UserMemory::c_string(uint64_t address, std::size_t max_length)
{
    if (address > kUserSpaceEnd) {
        return std::nullopt;
    }
    // Piece by piece, each as far as the page tables answer for it: a string
    // may end just before memory the program may not read.
    const uint64_t limit = address + std::min<uint64_t>(max_length, kUserSpaceEnd - address);
    for (uint64_t at = address; at < limit;) {
        const UserAccess access = user_access(memory_, vcpu_.sregs().cr3, at);
        const uint64_t end = std::min(access.end, limit);
        const std::optional<std::span<std::byte>> piece =
            access.read ? memory_.range(at, end - at) : std::nullopt;
        if (!piece) {
            return std::nullopt;
        }
        if (const void* nul = std::memchr(piece->data(), '\0', piece->size())) {
            const auto* first = reinterpret_cast<const char*>(piece->data()) - (at - address);
            return std::string_view(first, static_cast<const char*>(nul) - first);
        }
        at = end;
    }
    if (limit - address < max_length) {
        return std::nullopt; // user space ended before the string did
    }
    if (max_length == 0) {
        return std::string_view();
    }
    // Too long: the caller decides. Every byte of it was in guest memory.
    return std::string_view(static_cast<const char*>(memory_.host_base()) + address, max_length);
}

} // namespace vmm
