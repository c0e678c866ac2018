// Unit tests for the system-call names: the kernel's own list, by number.
#include "syscall_names.hpp"

#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <cstdint>

namespace {

using vmm::syscall_name;

TEST(SyscallNameTest, NamesTheLabProgramsCalls)
{
    EXPECT_EQ(syscall_name(SYS_arch_prctl), "arch_prctl");
    EXPECT_EQ(syscall_name(SYS_set_tid_address), "set_tid_address");
    EXPECT_EQ(syscall_name(SYS_open), "open");
    EXPECT_EQ(syscall_name(SYS_write), "write");
    EXPECT_EQ(syscall_name(SYS_close), "close");
    EXPECT_EQ(syscall_name(SYS_exit_group), "exit_group");
    EXPECT_EQ(syscall_name(SYS_exit), "exit");
}

TEST(SyscallNameTest, NumbersAreLinuxX86_64s)
{
    EXPECT_EQ(syscall_name(0), "read");
    EXPECT_EQ(syscall_name(16), "ioctl");
    EXPECT_EQ(syscall_name(41), "socket");
    EXPECT_EQ(syscall_name(59), "execve");
    EXPECT_EQ(syscall_name(231), "exit_group");
    EXPECT_EQ(syscall_name(437), "openat2");
}

TEST(SyscallNameTest, EveryNumberUpToRseqIsNamed)
{
    // Linux numbered its x86-64 calls from 0 to 334 (rseq) without a gap.
    for (uint64_t number = 0; number <= SYS_rseq; ++number) {
        EXPECT_FALSE(syscall_name(number).empty()) << "system call " << number;
    }
}

TEST(SyscallNameTest, OtherNumbersHaveNoName)
{
    EXPECT_EQ(syscall_name(1000), "");
    EXPECT_EQ(syscall_name(UINT64_MAX), "");             // -1 in RAX
    EXPECT_EQ(syscall_name(uint64_t{1} << 32), "");      // not truncated to read
    EXPECT_EQ(syscall_name(0x40000000 | SYS_write), ""); // the x32 ABI's write
}

} // namespace
