// Unit tests for the initial stack: built in guest memory, then parsed back as musl's _start
// would read it.
#include "error.hpp"
#include "guest_layout.hpp"
#include "initial_stack.hpp"

#include <elf.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace vmm::layout;
using vmm::GuestMemory;

constexpr uint64_t kMemorySize = 8 * MiB;
constexpr uint64_t kStackTop = kMemorySize;
constexpr uint64_t kStackBottom = kStackTop - kStackReserve / 2; // lowest byte it may use

// A loaded program whose program headers are at `headers` (0: not in memory).
vmm::LoadedProgram program(uint64_t headers)
{
    vmm::LoadedProgram program{};
    program.entry = 0x401000;
    program.program_headers = headers;
    program.program_header_size = sizeof(Elf64_Phdr);
    program.program_header_count = 6;
    return program;
}
const vmm::LoadedProgram kWithHeaders = program(0x400040);
const vmm::LoadedProgram kWithoutHeaders = program(0);
const std::array<uint8_t, 16> kRandom{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

// The initial stack as the program reads it, from RSP upwards.
struct ParsedStack {
    uint64_t argc = 0;
    std::vector<uint64_t> argv;            // the pointers
    uint64_t argv_terminator = UINT64_MAX; // the word after argv[argc - 1]
    std::vector<uint64_t> envp;
    std::vector<std::pair<uint64_t, uint64_t>> auxv; // up to and including AT_NULL
    uint64_t end = 0;                                // just past the auxiliary vector

    std::optional<uint64_t> aux(uint64_t type) const
    {
        for (const auto& [key, value] : auxv) {
            if (key == type) {
                return value;
            }
        }
        return std::nullopt;
    }
};

ParsedStack parse_stack(GuestMemory& memory, uint64_t rsp)
{
    ParsedStack stack;
    uint64_t at = rsp;
    auto next = [&] {
        const uint64_t word = memory.read_u64(at, "initial stack word");
        at += 8;
        return word;
    };
    stack.argc = next();
    for (uint64_t i = 0; i < stack.argc && i < 1000; ++i) {
        stack.argv.push_back(next());
    }
    stack.argv_terminator = next();
    for (uint64_t pointer = next(); pointer != 0 && stack.envp.size() < 1000; pointer = next()) {
        stack.envp.push_back(pointer);
    }
    while (stack.auxv.size() < 100) {
        const uint64_t type = next();
        stack.auxv.emplace_back(type, next());
        if (type == AT_NULL) {
            break;
        }
    }
    stack.end = at;
    return stack;
}

// The NUL-terminated string at `pointer`, as the program reads it there.
std::string string_at(GuestMemory& memory, uint64_t pointer)
{
    const std::optional<std::span<std::byte>> rest =
        memory.range(pointer, pointer < kMemorySize ? kMemorySize - pointer : 0);
    if (!rest) {
        return "<bad pointer>";
    }
    const auto* text = reinterpret_cast<const char*>(rest->data());
    return std::string(text, strnlen(text, rest->size()));
}

std::vector<std::string> strings_at(GuestMemory& memory, const std::vector<uint64_t>& pointers)
{
    std::vector<std::string> strings;
    for (uint64_t pointer : pointers) {
        strings.push_back(string_at(memory, pointer));
    }
    return strings;
}

class InitialStackTest : public testing::Test {
  protected:
    uint64_t build(const vmm::LoadedProgram& program, std::vector<std::string> arguments,
                   std::vector<std::string> environment = {"X=1"})
    {
        return vmm::build_initial_stack(memory, kStackTop, program,
                                        {std::move(arguments), std::move(environment), kRandom});
    }
    ParsedStack build_and_parse(const vmm::LoadedProgram& program = kWithHeaders)
    {
        rsp = build(program, {"prog", "a b", "c"});
        return parse_stack(memory, rsp);
    }

    GuestMemory memory{kMemorySize};
    uint64_t rsp = 0;
};

TEST_F(InitialStackTest, RspIsSixteenByteAlignedAndBelowTheTop)
{
    build_and_parse();
    EXPECT_EQ(rsp % 16, 0u);
    EXPECT_LT(rsp, kStackTop);
}

TEST_F(InitialStackTest, ArgcAndArgvStrings)
{
    const ParsedStack stack = build_and_parse();
    EXPECT_EQ(stack.argc, 3u);
    EXPECT_EQ(strings_at(memory, stack.argv), (std::vector<std::string>{"prog", "a b", "c"}));
}

TEST_F(InitialStackTest, ArgvEndsWithANullPointer)
{
    EXPECT_EQ(build_and_parse().argv_terminator, 0u);
}

TEST_F(InitialStackTest, EnvironmentStrings)
{
    const ParsedStack stack = build_and_parse();
    EXPECT_EQ(strings_at(memory, stack.envp), std::vector<std::string>{"X=1"});
}

TEST_F(InitialStackTest, AuxvGivesThePageSize)
{
    EXPECT_EQ(build_and_parse().aux(AT_PAGESZ), 4096u);
}

TEST_F(InitialStackTest, AuxvRandomPointsAtTheRandomBytes)
{
    const std::optional<uint64_t> random = build_and_parse().aux(AT_RANDOM);
    ASSERT_TRUE(random);
    const auto bytes = memory.range(*random, 16);
    ASSERT_TRUE(bytes);
    EXPECT_EQ(std::memcmp(bytes->data(), kRandom.data(), 16), 0);
}

TEST_F(InitialStackTest, AuxvEntryIsTheProgramEntry)
{
    EXPECT_EQ(build_and_parse().aux(AT_ENTRY), kWithHeaders.entry);
}

TEST_F(InitialStackTest, AuxvDescribesTheProgramHeadersWhenLoaded)
{
    const ParsedStack stack = build_and_parse(kWithHeaders);
    EXPECT_EQ(stack.aux(AT_PHDR), kWithHeaders.program_headers);
    EXPECT_EQ(stack.aux(AT_PHENT), sizeof(Elf64_Phdr));
    EXPECT_EQ(stack.aux(AT_PHNUM), 6u);
}

TEST_F(InitialStackTest, AuxvOmitsTheProgramHeadersWhenNotLoaded)
{
    const ParsedStack stack = build_and_parse(kWithoutHeaders);
    EXPECT_EQ(stack.aux(AT_PHDR), std::nullopt);
    EXPECT_EQ(stack.aux(AT_PHENT), std::nullopt);
    EXPECT_EQ(stack.aux(AT_PHNUM), std::nullopt);
    EXPECT_EQ(stack.aux(AT_PAGESZ), 4096u) << "the rest of the auxiliary vector is still there";
}

TEST_F(InitialStackTest, AuxvEndsWithAtNull)
{
    const ParsedStack stack = build_and_parse();
    ASSERT_FALSE(stack.auxv.empty());
    EXPECT_EQ(stack.auxv.back(), std::make_pair(uint64_t{AT_NULL}, uint64_t{0}));
}

TEST_F(InitialStackTest, WholeStackLiesInTheTopHalfOfTheReserve)
{
    const ParsedStack stack = build_and_parse();
    EXPECT_GE(rsp, kStackBottom);
    EXPECT_LE(stack.end, kStackTop);
    std::vector<uint64_t> strings = stack.argv;
    strings.insert(strings.end(), stack.envp.begin(), stack.envp.end());
    for (uint64_t pointer : strings) {
        EXPECT_GE(pointer, stack.end) << "a string overlaps the tables";
        EXPECT_LE(pointer + string_at(memory, pointer).size() + 1, kStackTop);
    }
    const uint64_t random = stack.aux(AT_RANDOM).value_or(0);
    EXPECT_GE(random, stack.end);
    EXPECT_LE(random + 16, kStackTop);
}

TEST_F(InitialStackTest, ArgumentsTooBigForTheReserveThrow)
{
    EXPECT_THROW(build(kWithHeaders, {"prog", std::string(kStackReserve, 'x')}), vmm::VmmError);
}

TEST_F(InitialStackTest, TooManyArgumentsForTheReserveThrow)
{
    // 20000 empty strings take 20 KB, but their pointers alone take 160 KB.
    EXPECT_THROW(build(kWithHeaders, std::vector<std::string>(20000)), vmm::VmmError);
}

TEST_F(InitialStackTest, OddAndEvenArgumentCountsBothGiveAnAlignedRsp)
{
    for (std::size_t count = 1; count <= 6; ++count) {
        for (std::size_t environment = 0; environment <= 1; ++environment) {
            std::vector<std::string> arguments(count, "arg");
            const uint64_t top =
                build(kWithHeaders, arguments, std::vector<std::string>(environment, "X=1"));
            EXPECT_EQ(top % 16, 0u) << count << " arguments, " << environment << " variables";
            EXPECT_EQ(parse_stack(memory, top).argc, count);
        }
    }
}

} // namespace
