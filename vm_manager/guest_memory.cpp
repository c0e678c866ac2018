#include "guest_memory.hpp"

#include "error.hpp"
#include "guest_layout.hpp"
#include "hex.hpp"

#include <sys/mman.h>

#include <cstring>

namespace vmm {

std::string guest_memory_limit(uint64_t size)
{
    return "the guest's memory holds (" + std::to_string(size) + " bytes)" +
           (size < layout::kMaxMemorySize ? "; a larger --mem, up to 1 GiB, may help" : "");
}

GuestMemory::GuestMemory(uint64_t size) : size_(size)
{
    // MAP_NORESERVE | anonymous: zero-filled pages that cost nothing until touched,
    // so an 8 MiB guest that uses 100 KiB costs about 100 KiB.
    void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
        throw SystemError("mmap of " + std::to_string(size) + " bytes of guest memory", errno);
    }
    mapping_ = Mapping(base, size);
}

bool GuestMemory::contains(uint64_t address, uint64_t length) const
{
    // Written so that nothing can overflow: address + length might wrap around.
    return address <= size_ && length <= size_ - address;
}

std::optional<std::span<std::byte>> GuestMemory::range(uint64_t address, uint64_t length)
{
    if (!contains(address, length)) {
        return std::nullopt;
    }
    auto* base = static_cast<std::byte*>(mapping_.get());
    return std::span<std::byte>(base + address, length);
}

void GuestMemory::discard(uint64_t address, uint64_t length)
{
    std::span<std::byte> pages = checked_range(address, length, "discarded pages");
    // MADV_DONTNEED on private anonymous memory: the next touch finds a zero page.
    if (!pages.empty() && ::madvise(pages.data(), pages.size(), MADV_DONTNEED) != 0) {
        throw SystemError("madvise(MADV_DONTNEED) of guest memory", errno);
    }
}

std::span<std::byte> GuestMemory::checked_range(uint64_t address, uint64_t length, const char* what)
{
    std::optional<std::span<std::byte>> bytes = range(address, length);
    if (!bytes) {
        throw VmmError(std::string(what) + " (" + hex(address) + ", " + hex(length) +
                       " bytes) does not fit: " + guest_memory_limit(size_));
    }
    return *bytes;
}

void GuestMemory::write(uint64_t address, std::span<const std::byte> bytes, const char* what)
{
    std::span<std::byte> target = checked_range(address, bytes.size(), what);
    std::memcpy(target.data(), bytes.data(), bytes.size());
}

void GuestMemory::write_u64(uint64_t address, uint64_t value, const char* what)
{
    // x86 is little-endian, like the host: the bytes of `value` go in as they are.
    write(address, std::as_bytes(std::span(&value, 1)), what);
}

uint64_t GuestMemory::read_u64(uint64_t address, const char* what)
{
    uint64_t value;
    std::memcpy(&value, checked_range(address, sizeof value, what).data(), sizeof value);
    return value;
}

} // namespace vmm
