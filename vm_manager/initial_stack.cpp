#include "initial_stack.hpp"

#include "error.hpp"
#include "guest_layout.hpp"

#include <elf.h>
#include <sys/random.h>

#include <cstring>

namespace vmm {

namespace {

// Copies bytes just below `top` and returns their new guest address.
uint64_t push_bytes(GuestMemory& memory, uint64_t& top, const void* data, uint64_t size)
{
    if (size > top) {
        throw VmmError("the program's arguments do not fit on the stack");
    }
    top -= size;
    std::memcpy(memory.checked_range(top, size, "initial stack").data(), data, size);
    return top;
}

} // namespace

std::array<uint8_t, 16> host_random_bytes()
{
    std::array<uint8_t, 16> bytes;
    if (::getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
        throw SystemError("getrandom", errno);
    }
    return bytes;
}

uint64_t build_initial_stack(GuestMemory& memory, uint64_t stack_top, const LoadedProgram& program,
                             const ProgramStart& start)
{
    uint64_t top = stack_top;

    // The strings and the random bytes go at the very top; the tables below point to them.
    const uint64_t random = push_bytes(memory, top, start.random_bytes.data(), 16);
    auto push_strings = [&](const std::vector<std::string>& strings) {
        std::vector<uint64_t> addresses;
        for (const std::string& text : strings) {
            addresses.push_back(push_bytes(memory, top, text.c_str(), text.size() + 1));
        }
        return addresses;
    };
    const std::vector<uint64_t> argv = push_strings(start.arguments);
    const std::vector<uint64_t> envp = push_strings(start.environment);

    // The tables, as one array of 8-byte words in the order the program reads them.
    std::vector<uint64_t> words;
    words.push_back(argv.size());
    words.insert(words.end(), argv.begin(), argv.end());
    words.push_back(0);
    words.insert(words.end(), envp.begin(), envp.end());
    words.push_back(0);
    auto auxiliary = [&](uint64_t type, uint64_t value) {
        words.push_back(type);
        words.push_back(value);
    };
    if (program.program_headers != 0) {
        auxiliary(AT_PHDR, program.program_headers);
        auxiliary(AT_PHENT, program.program_header_size);
        auxiliary(AT_PHNUM, program.program_header_count);
    }
    auxiliary(AT_PAGESZ, 4096);
    auxiliary(AT_ENTRY, program.entry);
    auxiliary(AT_RANDOM, random);
    auxiliary(AT_NULL, 0);

    // RSP points at the first word and must be 16-byte aligned at entry.
    const uint64_t table_size = words.size() * 8;
    if (table_size > top || stack_top - (top - table_size) > layout::kStackReserve / 2) {
        throw VmmError("the program's arguments and environment do not fit on its stack");
    }
    const uint64_t rsp = (top - table_size) & ~uint64_t{15};
    std::memcpy(memory.checked_range(rsp, table_size, "initial stack").data(), words.data(),
                table_size);
    return rsp;
}

} // namespace vmm
