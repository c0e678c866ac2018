#include "program_memory.hpp"

#include "guest_layout.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vmm {

namespace {

using namespace layout;

constexpr uint64_t kProtections = PROT_READ | PROT_WRITE | PROT_EXEC;

// How the page tables give a page its protection. x86 cannot make a page
// writable or executable without making it readable: PROT_WRITE alone reads too.
Access access_of(uint8_t prot)
{
    return {.read = prot != 0,
            .write = (prot & PROT_WRITE) != 0,
            .execute = (prot & PROT_EXEC) != 0,
            .user = true};
}

uint8_t prot_of(uint32_t segment_flags)
{
    return static_cast<uint8_t>(((segment_flags & PF_R) ? PROT_READ : 0) |
                                ((segment_flags & PF_W) ? PROT_WRITE : 0) |
                                ((segment_flags & PF_X) ? PROT_EXEC : 0));
}

// A length in whole pages, rounded up; nothing when that overflows.
std::optional<uint64_t> page_count(uint64_t length)
{
    if (length > UINT64_MAX - (kPageSize - 1)) {
        return std::nullopt;
    }
    return (length + kPageSize - 1) / kPageSize;
}

bool page_aligned(uint64_t address)
{
    return address % kPageSize == 0;
}

} // namespace

ProgramMemory::ProgramMemory(GuestMemory& memory, const PageTables& tables,
                             const LoadedProgram& program)
    : memory_(memory), tables_(memory, tables), pages_(memory.size() / kPageSize)
{
    const uint64_t stack = memory.size() >= kStackReserve ? memory.size() - kStackReserve : 0;
    top_ = std::min<uint64_t>(std::max(stack, kProgramLowest) / kPageSize, pages_.size());
    for (uint64_t page = kProgramLowest / kPageSize; page < top_ && page < pages_.size(); ++page) {
        pages_[page].use = Use::kFree;
    }
    for (uint64_t page = top_; page < pages_.size(); ++page) {
        pages_[page] = {Use::kStack, PROT_READ | PROT_WRITE};
    }
    uint64_t end = kProgramLowest;
    for (const LoadedSegment& segment : program.segments) {
        // Two segments that share a page share its access (page_tables.cpp).
        const uint64_t last = (segment.start + segment.size + kPageSize - 1) / kPageSize;
        for (uint64_t page = segment.start / kPageSize; page < last && page < pages_.size();
             ++page) {
            pages_[page].use = Use::kSegment;
            pages_[page].prot |= prot_of(segment.flags);
        }
        end = std::max(end, last * kPageSize);
    }
    break_start_ = break_ = end;
}

bool ProgramMemory::all_pages(uint64_t first, uint64_t end, Use use) const
{
    return end <= pages_.size() && std::all_of(pages_.begin() + static_cast<std::ptrdiff_t>(first),
                                               pages_.begin() + static_cast<std::ptrdiff_t>(end),
                                               [&](const Page& page) { return page.use == use; });
}

bool ProgramMemory::all_program_pages(uint64_t first, uint64_t end) const
{
    return end <= pages_.size() &&
           std::none_of(pages_.begin() + static_cast<std::ptrdiff_t>(first),
                        pages_.begin() + static_cast<std::ptrdiff_t>(end), [](const Page& page) {
                            return page.use == Use::kNotProgram || page.use == Use::kFree;
                        });
}

std::optional<uint64_t> ProgramMemory::find_free(uint64_t count) const
{
    const uint64_t bottom = (break_ + kPageSize - 1) / kPageSize;
    uint64_t run = 0;
    for (uint64_t page = top_; page > bottom; --page) {
        run = pages_[page - 1].use == Use::kFree ? run + 1 : 0;
        if (run == count) {
            return page - 1;
        }
    }
    return std::nullopt;
}

bool ProgramMemory::set_pages(uint64_t first, uint64_t end, Use use, uint8_t prot, bool zeroed)
{
    if (!tables_.set_access(first * kPageSize, end * kPageSize, access_of(prot))) {
        return false;
    }
    if (zeroed) {
        memory_.discard(first * kPageSize, (end - first) * kPageSize);
    }
    std::fill(pages_.begin() + static_cast<std::ptrdiff_t>(first),
              pages_.begin() + static_cast<std::ptrdiff_t>(end), Page{use, prot});
    return true;
}

bool ProgramMemory::free_pages(uint64_t first, uint64_t end)
{
    // Page by page: only the program's pages, and runs of them at once.
    end = std::min<uint64_t>(end, pages_.size());
    for (uint64_t page = first; page < end;) {
        if (pages_[page].use == Use::kNotProgram || pages_[page].use == Use::kFree) {
            ++page;
            continue;
        }
        uint64_t run_end = page;
        while (run_end < end && pages_[run_end].use != Use::kNotProgram &&
               pages_[run_end].use != Use::kFree) {
            ++run_end;
        }
        if (!set_pages(page, run_end, Use::kFree, 0, true)) {
            return false;
        }
        page = run_end;
    }
    return true;
}

uint64_t ProgramMemory::brk(Vcpu& vcpu, uint64_t address)
{
    if (address < break_start_ || address > top_ * kPageSize) {
        return break_; // brk(0) and the like: where the break is
    }
    const uint64_t old_end = (break_ + kPageSize - 1) / kPageSize;
    const uint64_t new_end = (address + kPageSize - 1) / kPageSize;
    if (new_end > old_end) {
        // Growing: only into free pages (not into a mapping), zero-filled.
        if (!all_pages(old_end, new_end, Use::kFree) ||
            !set_pages(old_end, new_end, Use::kBreak, PROT_READ | PROT_WRITE, true)) {
            return break_;
        }
    } else if (new_end < old_end) {
        if (!free_pages(new_end, old_end)) {
            return break_;
        }
        tables_.flush(vcpu);
    }
    break_ = address;
    return break_;
}

int64_t ProgramMemory::map(Vcpu& vcpu, uint64_t address, uint64_t length, uint64_t prot,
                           uint64_t flags, int file, uint64_t offset)
{
    // The checks of Linux's mmap (mm/mmap.c, do_mmap), in its order.
    const std::optional<uint64_t> count = page_count(length);
    if (!page_aligned(offset) || length == 0) {
        return -EINVAL;
    }
    if (!count) {
        return -ENOMEM;
    }
    const uint64_t type = flags & MAP_TYPE;
    if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE) {
        return -EINVAL;
    }
    if (file >= 0) {
        if (type != MAP_PRIVATE) {
            return -ENODEV; // a shared file mapping: see program_memory.hpp
        }
        const int status_flags = ::fcntl(file, F_GETFL);
        struct stat info;
        if (status_flags < 0 || ::fstat(file, &info) != 0) {
            return -errno;
        }
        if ((status_flags & O_ACCMODE) == O_WRONLY || (status_flags & O_PATH)) {
            return -EACCES; // mapping a file needs read access to it
        }
        if (!S_ISREG(info.st_mode)) {
            return -ENODEV;
        }
    }

    // Where: exactly at `address` (MAP_FIXED), at `address` if it is free,
    // else the highest free pages below the stack.
    uint64_t first;
    const uint64_t wanted = address / kPageSize;
    const bool fits = page_aligned(address) && wanted >= kProgramLowest / kPageSize &&
                      wanted <= top_ && *count <= top_ - wanted;
    if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
        if (!page_aligned(address)) {
            return -EINVAL;
        }
        if (!fits) {
            return -ENOMEM; // not where the program's memory is
        }
        // MAP_FIXED replaces what was there, as on Linux: musl's malloc puts
        // a guard page at the start of the break so.
        if ((flags & MAP_FIXED_NOREPLACE) && !all_pages(wanted, wanted + *count, Use::kFree)) {
            return -EEXIST;
        }
        first = wanted;
    } else if (fits && all_pages(wanted, wanted + *count, Use::kFree)) {
        first = wanted;
    } else if (const std::optional<uint64_t> found = find_free(*count)) {
        first = *found;
    } else {
        return -ENOMEM;
    }

    // Zero-filled, then the file's bytes, with the access asked for.
    if (!set_pages(first, first + *count, Use::kMapping, static_cast<uint8_t>(prot & kProtections),
                   true)) {
        return -ENOMEM;
    }
    tables_.flush(vcpu); // MAP_FIXED may have replaced a mapping
    if (file >= 0) {
        std::span<std::byte> target =
            memory_.checked_range(first * kPageSize, *count * kPageSize, "file mapping");
        uint64_t done = 0;
        while (done < target.size()) {
            const ssize_t got = ::pread(file, target.data() + done, target.size() - done,
                                        static_cast<off_t>(offset + done));
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got <= 0) {
                break; // the end of the file: zeros from there, as set_pages left them
            }
            done += static_cast<uint64_t>(got);
        }
    }
    return static_cast<int64_t>(first * kPageSize);
}

int64_t ProgramMemory::unmap(Vcpu& vcpu, uint64_t address, uint64_t length)
{
    const std::optional<uint64_t> count = page_count(length);
    if (!page_aligned(address) || length == 0 || !count) {
        return -EINVAL;
    }
    const uint64_t first = address / kPageSize;
    if (first >= pages_.size()) {
        return 0; // nothing mapped there: nothing to do, as on Linux
    }
    const uint64_t end = std::min<uint64_t>(pages_.size(), first + std::min(*count, pages_.size()));
    const bool done = free_pages(first, end);
    tables_.flush(vcpu);
    return done ? 0 : -ENOMEM;
}

int64_t ProgramMemory::protect(Vcpu& vcpu, uint64_t address, uint64_t length, uint64_t prot)
{
    const std::optional<uint64_t> count = page_count(length);
    if (!page_aligned(address) || (prot & ~(kProtections | PROT_GROWSDOWN | PROT_GROWSUP)) ||
        !count) {
        return -EINVAL;
    }
    if (*count == 0) {
        return 0;
    }
    const uint64_t first = address / kPageSize;
    if (first >= pages_.size() || *count > pages_.size() - first ||
        !all_program_pages(first, first + *count)) {
        return -ENOMEM; // a page in the range is not mapped
    }
    // The same access for all of them; each page keeps its use.
    const auto protection = static_cast<uint8_t>(prot & kProtections);
    if (!tables_.set_access(address, address + *count * kPageSize, access_of(protection))) {
        return -ENOMEM;
    }
    for (uint64_t page = first; page < first + *count; ++page) {
        pages_[page].prot = protection;
    }
    tables_.flush(vcpu);
    return 0;
}

int64_t ProgramMemory::remap(Vcpu& vcpu, uint64_t old_address, uint64_t old_length,
                             uint64_t new_length, uint64_t flags, uint64_t new_address)
{
    const std::optional<uint64_t> old_count = page_count(old_length);
    const std::optional<uint64_t> new_count = page_count(new_length);
    if (!page_aligned(old_address) || (flags & ~uint64_t{MREMAP_MAYMOVE | MREMAP_FIXED}) ||
        ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)) || !old_count || !new_count ||
        *new_count == 0 || *old_count == 0) {
        return -EINVAL;
    }
    const uint64_t first = old_address / kPageSize;
    if (first >= pages_.size() || *old_count > pages_.size() - first ||
        !all_pages(first, first + *old_count, Use::kMapping)) {
        return -EFAULT; // not one mapping of mmap()'s
    }
    const uint8_t prot = pages_[first].prot;

    if (!(flags & MREMAP_FIXED)) {
        if (*new_count <= *old_count) {
            // Shrinking, or the same size: in place.
            const bool done = free_pages(first + *new_count, first + *old_count);
            tables_.flush(vcpu);
            return done ? static_cast<int64_t>(old_address) : -ENOMEM;
        }
        // Growing in place, when the pages after it are free.
        const uint64_t end = first + *new_count;
        if (end <= top_ && all_pages(first + *old_count, end, Use::kFree) &&
            set_pages(first + *old_count, end, Use::kMapping, prot, true)) {
            return static_cast<int64_t>(old_address);
        }
        if (!(flags & MREMAP_MAYMOVE)) {
            return -ENOMEM;
        }
    }

    // Moving: to new_address (MREMAP_FIXED), else where mmap would put it.
    uint64_t target;
    if (flags & MREMAP_FIXED) {
        target = new_address / kPageSize;
        if (!page_aligned(new_address) || target < kProgramLowest / kPageSize || target > top_ ||
            *new_count > top_ - target ||
            (target < first + *old_count && first < target + *new_count)) {
            return -EINVAL;
        }
    } else if (const std::optional<uint64_t> found = find_free(*new_count)) {
        target = *found;
    } else {
        return -ENOMEM;
    }
    if (!set_pages(target, target + *new_count, Use::kMapping, prot, true)) {
        return -ENOMEM;
    }
    const uint64_t kept = std::min(*old_count, *new_count) * kPageSize;
    std::memcpy(memory_.checked_range(target * kPageSize, kept, "moved mapping").data(),
                memory_.checked_range(old_address, kept, "mapping").data(), kept);
    const bool done = free_pages(first, first + *old_count);
    tables_.flush(vcpu);
    return done ? static_cast<int64_t>(target * kPageSize) : -ENOMEM;
}

} // namespace vmm
