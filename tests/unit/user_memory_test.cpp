// Unit tests for UserMemory: a system call's pointers reach only what the page
// tables at the vCPU's CR3 let the program use, on guest memory and page
// tables built as run_vm() builds them, on a vCPU without KVM.
#include "guest_layout.hpp"
#include "page_tables.hpp"
#include "program_memory.hpp"
#include "test_support.hpp"
#include "user_memory.hpp"

#include <elf.h>
#include <sys/mman.h>

#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <string_view>

namespace {

using namespace vmm::layout;
using vmm::kUserSpaceEnd;

const vmm::LoadedBootImage& kBoot = kLabBootImage;
constexpr uint64_t kMemorySize = 8 * MiB;
constexpr uint64_t kReadOnly = 0x402000;
constexpr uint64_t kData = 0x404000;
constexpr uint64_t kUnmapped = 0x405000;
constexpr uint64_t kStack = kMemorySize - 0x1000;

class UserMemoryTest : public testing::Test {
  protected:
    // The program's own address space: arch_prctl(ARCH_SET_FS) was made.
    void SetUp() override { vcpu.sregs().cr3 = kProgramPml4; }

    void put(uint64_t address, std::string_view text)
    {
        std::memcpy(memory.checked_range(address, text.size(), "test").data(), text.data(),
                    text.size());
    }

    vmm::GuestMemory memory{kMemorySize};
    vmm::LoadedProgram program = lab_program();
    vmm::PageTables tables = vmm::build_identity_page_tables(memory, kBoot, program);
    kvm_run run{};
    vmm::Vcpu vcpu = vmm::Vcpu::without_kvm(run);
    vmm::UserMemory user{memory, vcpu};
};

TEST_F(UserMemoryTest, TheProgramsMemoryIsItsOwnToReadAndWhereWritableToWrite)
{
    const std::optional<std::span<std::byte>> data = user.writable_range(kData, 16);
    ASSERT_TRUE(data);
    EXPECT_EQ(static_cast<void*>(data->data()),
              static_cast<std::byte*>(memory.host_base()) + kData);
    EXPECT_TRUE(user.writable_range(kStack, 0x1000));
    EXPECT_TRUE(user.range(kReadOnly, 0x70));
    EXPECT_TRUE(user.range(0x400000, 0x5000)) << "across segments of different access";
}

TEST_F(UserMemoryTest, ReadOnlyMemoryCannotBeFilled)
{
    EXPECT_FALSE(user.writable_range(kReadOnly, 1)) << "read() into .rodata is EFAULT on Linux";
    EXPECT_FALSE(user.writable_range(0x401000, 1)) << "nor into code";
    EXPECT_FALSE(user.writable_range(kReadOnly + 0xfff, 2)) << "one read-only byte is enough";
}

TEST_F(UserMemoryTest, BootAsmsPagesAreNotTheProgramsAtAll)
{
    EXPECT_FALSE(user.range(kBootImage, 16)) << "boot.asm's code";
    EXPECT_FALSE(user.range(kExceptionStack, 16)) << "the exception stack";
    EXPECT_FALSE(user.range(kPageTables, 16)) << "the page tables";
    EXPECT_FALSE(user.range(kPageTablesLimit - 8, 8));
    EXPECT_FALSE(user.c_string(kBootImage + 8, 100)) << "its signature";
}

TEST_F(UserMemoryTest, PageZeroIsTheProgramsOnlyInTheStartUpAddressSpace)
{
    EXPECT_FALSE(user.range(0, 5)) << "a NULL pointer, once the thread pointer is set";
    EXPECT_FALSE(user.c_string(0, 100));
    vcpu.sregs().cr3 = kStartupPml4;
    EXPECT_TRUE(user.writable_range(0x28, 8)) << "the stand-in thread area";
    EXPECT_FALSE(user.range(kPageSize, 1)) << "the page after it is ring 0's";
}

TEST_F(UserMemoryTest, TwinAddressSpacesAreTheSame)
{
    vcpu.sregs().cr3 = kProgramPml4Twin;
    EXPECT_TRUE(user.writable_range(kData, 16));
    EXPECT_FALSE(user.range(0, 1));
}

TEST_F(UserMemoryTest, UnmappedMemoryAndWhatLiesBeyondAreNot)
{
    EXPECT_FALSE(user.range(kUnmapped, 1));
    EXPECT_FALSE(user.range(kData, 0x1001)) << "runs into the unmapped page";
    EXPECT_FALSE(user.range(kMemorySize, 1));
    EXPECT_FALSE(user.range(kMemorySize - 8, 9));
    EXPECT_FALSE(user.range(0x10000000000, 1));
    EXPECT_FALSE(user.range(UINT64_MAX, 1));
    EXPECT_FALSE(user.range(kData, UINT64_MAX)) << "address + length wraps around";
    EXPECT_FALSE(user.range(kData, uint64_t{1} << 62));
}

TEST_F(UserMemoryTest, AnEmptyRangeIsTheProgramsAnywhereInUserSpace)
{
    // Linux's access_ok() is all a call of 0 bytes checks.
    for (uint64_t address :
         {uint64_t{0}, kBootImage, kUnmapped, uint64_t{0x10000000000}, kUserSpaceEnd}) {
        const std::optional<std::span<std::byte>> empty = user.range(address, 0);
        ASSERT_TRUE(empty) << address;
        EXPECT_TRUE(empty->empty());
        EXPECT_TRUE(user.writable_range(address, 0));
        EXPECT_TRUE(user.contains(address, 0));
    }
    EXPECT_FALSE(user.range(kUserSpaceEnd + 1, 0));
    EXPECT_FALSE(user.range(0xffff800000000000, 0)) << "the kernel's half";
}

TEST_F(UserMemoryTest, ContainsSaysWhatRangeFinds)
{
    EXPECT_TRUE(user.contains(kReadOnly, 16));
    EXPECT_FALSE(user.contains(kBootImage, 16));
    EXPECT_EQ(user.host_base(), memory.host_base());
    EXPECT_EQ(user.size(), kMemorySize);
}

TEST_F(UserMemoryTest, CStringReadsUpToTheNul)
{
    put(kData, std::string_view("hello\0world", 11));
    EXPECT_EQ(user.c_string(kData, 100), "hello");
}

TEST_F(UserMemoryTest, CStringMayEndJustBeforeMemoryTheProgramMayNotRead)
{
    put(kUnmapped - 4, std::string_view("abc\0", 4));
    EXPECT_EQ(user.c_string(kUnmapped - 4, 100), "abc");
    put(kMemorySize - 4, std::string_view("xyz\0", 4));
    EXPECT_EQ(user.c_string(kMemorySize - 4, 100), "xyz") << "in the last byte of memory";
}

TEST_F(UserMemoryTest, CStringIsNothingWhenItRunsIntoMemoryTheProgramMayNotRead)
{
    put(kUnmapped - 4, "abcd");
    put(kUnmapped, std::string_view("e\0", 2)); // there, but not the program's
    EXPECT_EQ(user.c_string(kUnmapped - 4, 100), std::nullopt);
    put(kMemorySize - 4, "abcd");
    EXPECT_EQ(user.c_string(kMemorySize - 4, 100), std::nullopt);
}

TEST_F(UserMemoryTest, CStringIsCutAtMaxLengthWhenNoNulComesBefore)
{
    put(kUnmapped - 8, "abcdefgh"); // no NUL before the unmapped page
    const std::optional<std::string_view> text = user.c_string(kUnmapped - 8, 4);
    ASSERT_TRUE(text);
    EXPECT_EQ(*text, "abcd");
    EXPECT_EQ(user.c_string(kUnmapped - 8, 8), "abcdefgh") << "up to the page's last byte";
}

TEST_F(UserMemoryTest, CStringIsNothingForAnAddressOutsideUserSpaceOrMemory)
{
    EXPECT_EQ(user.c_string(kMemorySize, 10), std::nullopt);
    EXPECT_EQ(user.c_string(kUserSpaceEnd, 10), std::nullopt);
    EXPECT_EQ(user.c_string(UINT64_MAX, 10), std::nullopt);
}

TEST_F(UserMemoryTest, WhatTheProgramMapsAndGivesBackFollows)
{
    vmm::ProgramMemory program_memory(memory, tables, program);
    const int64_t mapped = program_memory.map(vcpu, 0, 0x2000, PROT_READ | PROT_WRITE,
                                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_GT(mapped, 0);
    const auto address = static_cast<uint64_t>(mapped);
    EXPECT_TRUE(user.writable_range(address, 0x2000));
    ASSERT_EQ(program_memory.protect(vcpu, address, 0x1000, PROT_READ), 0);
    EXPECT_FALSE(user.writable_range(address, 1));
    EXPECT_TRUE(user.range(address, 1));
    ASSERT_EQ(program_memory.protect(vcpu, address, 0x1000, PROT_NONE), 0);
    EXPECT_FALSE(user.range(address, 1)) << "PROT_NONE: not even readable";
    ASSERT_EQ(program_memory.unmap(vcpu, address + 0x1000, 0x1000), 0);
    EXPECT_FALSE(user.range(address + 0x1000, 1));
    EXPECT_EQ(program_memory.brk(vcpu, kUnmapped + 0x100), kUnmapped + 0x100);
    EXPECT_TRUE(user.writable_range(kUnmapped, 0x1000)) << "the break's new page";
}

TEST_F(UserMemoryTest, TablesOutsideGuestMemoryMapNothing)
{
    vcpu.sregs().cr3 = kMemorySize; // as a ring-0 program could load
    EXPECT_FALSE(user.range(kData, 1));
    EXPECT_TRUE(user.range(kData, 0));
}

} // namespace
