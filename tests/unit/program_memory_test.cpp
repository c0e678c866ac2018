// Unit tests for the program's memory calls: brk, mmap, munmap, mprotect and
// mremap, on guest memory and page tables built as run_vm() builds them, on a
// vCPU without KVM. What the page tables say is read back by walking them.
#include "guest_layout.hpp"
#include "page_tables.hpp"
#include "program_memory.hpp"
#include "test_support.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace {

using namespace vmm::layout;

const vmm::LoadedBootImage& kBoot = kLabBootImage;
constexpr uint64_t kBreakStart = 0x405000;
constexpr uint64_t kStackStart = 8 * MiB - kStackReserve;

// "rw-" and the like for the page at `address`, as the program's page tables
// give it (the last-level entry of the CPU's walk); "" when not mapped.
std::string access(vmm::GuestMemory& memory, uint64_t address)
{
    constexpr uint64_t kAddressBits = 0x000ffffffffff000;
    uint64_t table = kProgramPml4;
    for (int shift : {39, 30, 21, 12}) {
        const uint64_t e = memory.read_u64(table + ((address >> shift) & 511) * 8, "entry");
        if ((e & vmm::kPtePresent) == 0) {
            return "";
        }
        if (shift == 12 || (e & vmm::kPteLargePage)) {
            return std::string("r") + (e & vmm::kPteWritable ? "w" : "-") +
                   (e & vmm::kPteNoExecute ? "-" : "x");
        }
        table = e & kAddressBits;
    }
    return "";
}

class ProgramMemoryTest : public testing::Test {
  protected:
    void SetUp() override { vcpu.sregs().cr3 = kProgramPml4; }

    uint8_t& byte_at(uint64_t address)
    {
        return *reinterpret_cast<uint8_t*>(memory.checked_range(address, 1, "test").data());
    }
    int64_t anonymous(uint64_t address, uint64_t length, uint64_t prot, uint64_t flags = 0)
    {
        return memory_calls.map(vcpu, address, length, prot, MAP_PRIVATE | MAP_ANONYMOUS | flags,
                                -1, 0);
    }

    vmm::GuestMemory memory{8 * MiB};
    vmm::LoadedProgram program = lab_program();
    vmm::PageTables tables = vmm::build_identity_page_tables(memory, kBoot, program);
    vmm::ProgramMemory memory_calls{memory, tables, program};
    kvm_run run{};
    vmm::Vcpu vcpu = vmm::Vcpu::without_kvm(run);
};

TEST_F(ProgramMemoryTest, TheBreakStartsAtThePageAfterTheProgram)
{
    EXPECT_EQ(memory_calls.brk(vcpu, 0), kBreakStart);
    EXPECT_EQ(access(memory, kBreakStart), "");
}

TEST_F(ProgramMemoryTest, TheBreakGrowsIntoZeroedReadWritePages)
{
    byte_at(kBreakStart + 0x1800) = 0xaa; // left there by someone else
    EXPECT_EQ(memory_calls.brk(vcpu, kBreakStart + 0x1800), kBreakStart + 0x1800);
    EXPECT_EQ(access(memory, kBreakStart), "rw-");
    EXPECT_EQ(access(memory, kBreakStart + 0x1000), "rw-") << "the page holding the break";
    EXPECT_EQ(access(memory, kBreakStart + 0x2000), "");
    EXPECT_EQ(byte_at(kBreakStart + 0x1800), 0) << "fresh pages hold zeros, as on Linux";
}

TEST_F(ProgramMemoryTest, TheBreakShrinksAndUnmapsWithAFlush)
{
    memory_calls.brk(vcpu, kBreakStart + 0x3000);
    EXPECT_EQ(memory_calls.brk(vcpu, kBreakStart + 0x1000), kBreakStart + 0x1000);
    EXPECT_EQ(access(memory, kBreakStart), "rw-");
    EXPECT_EQ(access(memory, kBreakStart + 0x1000), "");
    EXPECT_EQ(vcpu.sregs().cr3, kProgramPml4Twin) << "the vCPU forgets the unmapped pages";
}

TEST_F(ProgramMemoryTest, TheBreakRefusesToMoveBelowItsStartOrIntoTheStack)
{
    EXPECT_EQ(memory_calls.brk(vcpu, 0x400000), kBreakStart);
    EXPECT_EQ(memory_calls.brk(vcpu, kStackStart + 0x1000), kBreakStart);
    EXPECT_EQ(memory_calls.brk(vcpu, kStackStart), kStackStart) << "right up to it";
}

TEST_F(ProgramMemoryTest, AnonymousMappingsComeFromTheTopDownBelowTheStack)
{
    EXPECT_EQ(anonymous(0, 0x2000, PROT_READ | PROT_WRITE), kStackStart - 0x2000);
    EXPECT_EQ(anonymous(0, 0x1000, PROT_READ), kStackStart - 0x3000);
    EXPECT_EQ(access(memory, kStackStart - 0x2000), "rw-");
    EXPECT_EQ(access(memory, kStackStart - 0x3000), "r--");
    EXPECT_EQ(anonymous(0, 1, PROT_EXEC), kStackStart - 0x4000) << "a length in whole pages";
    EXPECT_EQ(access(memory, kStackStart - 0x4000), "r-x") << "x86 reads what it runs";
}

TEST_F(ProgramMemoryTest, MappingsAndTheBreakDoNotOverlap)
{
    const int64_t all = anonymous(0, kStackStart - kBreakStart - 0x1000, PROT_READ);
    EXPECT_EQ(all, static_cast<int64_t>(kBreakStart + 0x1000));
    EXPECT_EQ(memory_calls.brk(vcpu, kBreakStart + 0x2000), kBreakStart) << "a mapping is there";
    EXPECT_EQ(memory_calls.brk(vcpu, kBreakStart + 0x1000), kBreakStart + 0x1000);
    EXPECT_EQ(anonymous(0, 0x1000, PROT_READ), -ENOMEM) << "nothing is left";
}

TEST_F(ProgramMemoryTest, AHintIsTakenWhenFree)
{
    EXPECT_EQ(anonymous(0x600000, 0x1000, PROT_READ), 0x600000);
    EXPECT_NE(anonymous(0x600000, 0x1000, PROT_READ), 0x600000) << "taken: elsewhere";
}

TEST_F(ProgramMemoryTest, MapFixedReplacesAndNoReplaceRefuses)
{
    ASSERT_EQ(anonymous(0x600000, 0x2000, PROT_READ | PROT_WRITE), 0x600000);
    byte_at(0x600000) = 7;
    EXPECT_EQ(anonymous(0x600000, 0x1000, PROT_READ, MAP_FIXED_NOREPLACE), -EEXIST);
    EXPECT_EQ(anonymous(0x600000, 0x1000, PROT_NONE, MAP_FIXED), 0x600000);
    EXPECT_EQ(access(memory, 0x600000), "") << "PROT_NONE: mapped, but no access";
    EXPECT_EQ(byte_at(0x600000), 0);
    EXPECT_EQ(anonymous(0x600001, 0x1000, PROT_READ, MAP_FIXED), -EINVAL);
    EXPECT_EQ(anonymous(0x40000000, 0x1000, PROT_READ, MAP_FIXED), -ENOMEM) << "past memory";
    EXPECT_EQ(anonymous(kStackStart, 0x1000, PROT_READ, MAP_FIXED), -ENOMEM) << "the stack";
    EXPECT_EQ(anonymous(0x8000, 0x1000, PROT_READ, MAP_FIXED), -ENOMEM) << "boot.asm's";
}

TEST_F(ProgramMemoryTest, MmapChecksItsArgumentsAsLinuxDoes)
{
    EXPECT_EQ(anonymous(0, 0, PROT_READ), -EINVAL);
    EXPECT_EQ(memory_calls.map(vcpu, 0, 0x1000, PROT_READ, MAP_ANONYMOUS, -1, 0), -EINVAL)
        << "neither private nor shared";
    EXPECT_EQ(memory_calls.map(vcpu, 0, 0x1000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 1),
              -EINVAL)
        << "an offset not page-aligned";
    EXPECT_EQ(anonymous(0, UINT64_MAX, PROT_READ), -ENOMEM);
    EXPECT_EQ(anonymous(0, 64 * MiB, PROT_READ), -ENOMEM) << "more than there is";
    EXPECT_GT(memory_calls.map(vcpu, 0, 0x1000, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0), 0)
        << "shared with no one: private";
}

TEST_F(ProgramMemoryTest, AFileMappingHoldsTheFilesBytesThenZeros)
{
    char name[] = "/tmp/program_memory_testXXXXXX";
    const int file = ::mkstemp(name);
    ASSERT_GE(file, 0);
    ::unlink(name);
    std::string text(0x1000, 'a');
    text += "the second page";
    ASSERT_EQ(::write(file, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    const int64_t address = memory_calls.map(vcpu, 0, 0x3000, PROT_READ, MAP_PRIVATE, file, 0x1000);
    ASSERT_GT(address, 0);
    EXPECT_EQ(std::memcmp(memory.checked_range(address, 15, "test").data(), "the second page", 15),
              0)
        << "from the offset";
    EXPECT_EQ(byte_at(address + 15), 0) << "past the end of the file";
    EXPECT_EQ(access(memory, address), "r--");
    EXPECT_EQ(memory_calls.map(vcpu, 0, 0x1000, PROT_READ, MAP_SHARED, file, 0), -ENODEV);
    ::close(file);
}

TEST_F(ProgramMemoryTest, AFileMustBeReadableAndRegular)
{
    const int write_only = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    EXPECT_EQ(memory_calls.map(vcpu, 0, 0x1000, PROT_READ, MAP_PRIVATE, write_only, 0), -EACCES);
    const int device = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    EXPECT_EQ(memory_calls.map(vcpu, 0, 0x1000, PROT_READ, MAP_PRIVATE, device, 0), -ENODEV);
    ::close(write_only);
    ::close(device);
}

TEST_F(ProgramMemoryTest, MunmapUnmapsFlushesAndFreesForReuse)
{
    const int64_t address = anonymous(0, 0x3000, PROT_READ | PROT_WRITE);
    EXPECT_EQ(memory_calls.unmap(vcpu, address + 0x1000, 0x1000), 0);
    EXPECT_EQ(access(memory, address + 0x1000), "");
    EXPECT_EQ(access(memory, address), "rw-");
    EXPECT_EQ(vcpu.sregs().cr3, kProgramPml4Twin);
    EXPECT_EQ(anonymous(address + 0x1000, 0x1000, PROT_READ), address + 0x1000) << "free again";
    EXPECT_EQ(memory_calls.unmap(vcpu, 0x700000, 0x1000), 0) << "nothing there: nothing to do";
    EXPECT_EQ(memory_calls.unmap(vcpu, address + 1, 0x1000), -EINVAL);
    EXPECT_EQ(memory_calls.unmap(vcpu, address, 0), -EINVAL);
}

TEST_F(ProgramMemoryTest, MprotectChangesMappedPagesOnly)
{
    EXPECT_EQ(memory_calls.protect(vcpu, 0x402000, 0x1000, PROT_READ | PROT_WRITE), 0)
        << "a segment's page, as glibc makes its RELRO read-only";
    EXPECT_EQ(access(memory, 0x402000), "rw-");
    const int64_t address = anonymous(0, 0x2000, PROT_READ | PROT_WRITE);
    const uint64_t cr3 = vcpu.sregs().cr3;
    EXPECT_EQ(memory_calls.protect(vcpu, address, 0x2000, PROT_READ), 0);
    EXPECT_EQ(access(memory, address + 0x1000), "r--");
    EXPECT_NE(vcpu.sregs().cr3, cr3) << "write access taken away: flushed";
    EXPECT_EQ(memory_calls.protect(vcpu, address - 0x1000, 0x2000, PROT_READ), -ENOMEM)
        << "a page not mapped";
    EXPECT_EQ(memory_calls.protect(vcpu, address + 1, 0x1000, PROT_READ), -EINVAL);
    EXPECT_EQ(memory_calls.protect(vcpu, address, 0x1000, 0x100), -EINVAL);
    EXPECT_EQ(memory_calls.protect(vcpu, address, 0, PROT_READ), 0);
}

TEST_F(ProgramMemoryTest, MremapShrinksGrowsInPlaceOrMovesWithItsBytes)
{
    const int64_t address = anonymous(0x600000, 0x2000, PROT_READ | PROT_WRITE);
    byte_at(0x600000) = 42;
    EXPECT_EQ(memory_calls.remap(vcpu, 0x600000, 0x2000, 0x1000, 0, 0), address);
    EXPECT_EQ(access(memory, 0x601000), "");
    EXPECT_EQ(memory_calls.remap(vcpu, 0x600000, 0x1000, 0x3000, 0, 0), address) << "in place";
    EXPECT_EQ(access(memory, 0x602000), "rw-");
    ASSERT_EQ(anonymous(0x603000, 0x1000, PROT_READ), 0x603000);
    EXPECT_EQ(memory_calls.remap(vcpu, 0x600000, 0x3000, 0x4000, 0, 0), -ENOMEM) << "no room";
    const int64_t moved = memory_calls.remap(vcpu, 0x600000, 0x3000, 0x4000, MREMAP_MAYMOVE, 0);
    ASSERT_GT(moved, 0);
    EXPECT_NE(moved, 0x600000);
    EXPECT_EQ(byte_at(moved), 42) << "its bytes go with it";
    EXPECT_EQ(access(memory, 0x600000), "") << "the old place is unmapped";
    EXPECT_EQ(memory_calls.remap(vcpu, 0x600000, 0x1000, 0x1000, 0, 0), -EFAULT) << "gone";
    EXPECT_EQ(memory_calls.remap(vcpu, kBreakStart - 0x1000, 0x1000, 0x2000, MREMAP_MAYMOVE, 0),
              -EFAULT)
        << "mmap's mappings only";
    EXPECT_EQ(memory_calls.remap(vcpu, moved, 0x1000, 0x1000, MREMAP_FIXED, 0x500000), -EINVAL)
        << "MREMAP_FIXED needs MREMAP_MAYMOVE";
    EXPECT_EQ(
        memory_calls.remap(vcpu, moved, 0x4000, 0x4000, MREMAP_FIXED | MREMAP_MAYMOVE, 0x500000),
        0x500000);
    EXPECT_EQ(byte_at(0x500000), 42);
}

TEST_F(ProgramMemoryTest, TinyGuestMemoryHasNothingToGive)
{
    vmm::GuestMemory tiny(4 * 4096);
    vmm::LoadedProgram none{};
    vmm::ProgramMemory nothing(tiny, {kStartupPml4, kPageTables}, none);
    EXPECT_EQ(nothing.brk(vcpu, 0), kProgramLowest);
    EXPECT_EQ(nothing.brk(vcpu, kProgramLowest + 0x1000), kProgramLowest);
    EXPECT_EQ(nothing.map(vcpu, 0, 0x1000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -ENOMEM);
    EXPECT_EQ(nothing.unmap(vcpu, 0, 0x1000), 0);
    EXPECT_EQ(nothing.protect(vcpu, 0, 0x1000, PROT_READ), -ENOMEM);
}

} // namespace
