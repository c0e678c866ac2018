#include "page_tables.hpp"

#include "error.hpp"
#include "guest_layout.hpp"

namespace vmm {

uint64_t build_identity_page_tables(GuestMemory& memory)
{
    using namespace layout;
    if (memory.size() % kLargePage != 0 || memory.size() > kMaxMemorySize) {
        throw VmmError("guest memory must be a multiple of 2 MiB and at most 1 GiB");
    }
    const uint64_t flags = kPtePresent | kPteWritable | kPteUser;

    // Each level holds 512 entries of 8 bytes; entry 0 of the PML4 and of the PDPT
    // cover the first 512 GiB and the first 1 GiB of the address space.
    memory.write_u64(kPml4, kPdpt | flags, "PML4");
    memory.write_u64(kPdpt, kPageDirectory | flags, "PDPT");
    for (uint64_t page = 0; page < memory.size() / kLargePage; ++page) {
        const uint64_t address = page * kLargePage;
        memory.write_u64(kPageDirectory + page * 8, address | flags | kPteLargePage,
                         "page directory");
    }
    return kPml4;
}

} // namespace vmm
