// Unit tests for the ELF loader, on synthetic ELF64 files built in memory and on the real app.
#include "elf_loader.hpp"
#include "error.hpp"
#include "guest_layout.hpp"
#include "host_file.hpp"
#include "test_support.hpp"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace vmm::layout;
using vmm::GuestMemory;
using vmm::load_elf;

constexpr uint64_t kMemorySize = 4 * MiB;
constexpr uint64_t kLowest = 1 * MiB;
constexpr uint64_t kHighest = 3 * MiB;
constexpr uint64_t kText = kLowest;           // where the test programs' code goes
constexpr uint64_t kData = kLowest + 0x10000; // and their data
constexpr uint64_t kContentsOffset = 0x1000;  // segment bytes start here in the file

// A synthetic ELF64 executable: a valid x86-64 ET_EXEC header, program headers right
// after it, and the segments' bytes from kContentsOffset on.
struct ElfFile {
    Elf64_Ehdr header = valid_header();
    std::vector<Elf64_Phdr> segments;
    std::vector<std::byte> contents;

    static Elf64_Ehdr valid_header()
    {
        Elf64_Ehdr header{};
        std::memcpy(header.e_ident, ELFMAG, SELFMAG);
        header.e_ident[EI_CLASS] = ELFCLASS64;
        header.e_ident[EI_DATA] = ELFDATA2LSB;
        header.e_ident[EI_VERSION] = EV_CURRENT;
        header.e_type = ET_EXEC;
        header.e_machine = EM_X86_64;
        header.e_version = EV_CURRENT;
        header.e_entry = kText;
        header.e_phoff = sizeof(Elf64_Ehdr);
        header.e_ehsize = sizeof(Elf64_Ehdr);
        header.e_phentsize = sizeof(Elf64_Phdr);
        return header;
    }

    // Adds a segment whose file bytes are `bytes`, appended to the contents.
    Elf64_Phdr& add(uint32_t type, uint64_t vaddr, std::string_view bytes, uint64_t memsz)
    {
        Elf64_Phdr segment{};
        segment.p_type = type;
        segment.p_offset = kContentsOffset + contents.size();
        segment.p_vaddr = segment.p_paddr = vaddr;
        segment.p_filesz = bytes.size();
        segment.p_memsz = memsz;
        for (char c : bytes) {
            contents.push_back(static_cast<std::byte>(c));
        }
        segments.push_back(segment);
        header.e_phnum = static_cast<Elf64_Half>(segments.size());
        return segments.back();
    }

    // Adds a PT_LOAD of the file's first page (the ELF header and program headers) at vaddr.
    Elf64_Phdr& add_headers_segment(uint64_t vaddr)
    {
        Elf64_Phdr& segment = add(PT_LOAD, vaddr, "", kContentsOffset);
        segment.p_offset = 0;
        segment.p_filesz = kContentsOffset;
        return segment;
    }

    std::vector<std::byte> bytes() const
    {
        std::vector<std::byte> file(kContentsOffset + contents.size());
        std::memcpy(file.data(), &header, sizeof header);
        std::memcpy(file.data() + sizeof header, segments.data(),
                    segments.size() * sizeof(Elf64_Phdr));
        std::memcpy(file.data() + kContentsOffset, contents.data(), contents.size());
        return file;
    }
};

// A minimal valid program: code at kText (the entry), data with .bss at kData.
ElfFile valid_program()
{
    ElfFile elf;
    elf.add(PT_LOAD, kText, "\xf4\xeb\xfd", 0x100).p_flags = PF_R | PF_X; // hlt; jmp $-1
    elf.add(PT_LOAD, kData, "DATA", 0x40).p_flags = PF_R | PF_W;
    elf.add(PT_GNU_STACK, 0, "", 0);
    return elf;
}

class ElfLoaderTest : public testing::Test {
  protected:
    vmm::LoadedProgram load(const ElfFile& elf)
    {
        return load_elf(memory, elf.bytes(), kLowest, kHighest);
    }
    testing::AssertionResult refuses(const ElfFile& elf, std::string_view word)
    {
        return throws_naming([&] { load(elf); }, word);
    }
    std::string guest_bytes(uint64_t address, uint64_t length)
    {
        const auto bytes = memory.range(address, length);
        return std::string(reinterpret_cast<const char*>(bytes->data()), length);
    }

    GuestMemory memory{kMemorySize};
};

TEST_F(ElfLoaderTest, CopiesEachSegmentToItsVirtualAddress)
{
    load(valid_program());
    EXPECT_EQ(guest_bytes(kText, 3), "\xf4\xeb\xfd");
    EXPECT_EQ(guest_bytes(kData, 4), "DATA");
}

TEST_F(ElfLoaderTest, ZeroFillsMemoryBeyondFileSizeUpToMemorySize)
{
    const auto all = memory.range(0, kMemorySize);
    std::memset(all->data(), 0xAA, all->size());
    load(valid_program());
    EXPECT_EQ(guest_bytes(kData, 4), "DATA");
    EXPECT_EQ(guest_bytes(kData + 4, 0x40 - 4), std::string(0x40 - 4, '\0'));
    EXPECT_EQ(guest_bytes(kData + 0x40, 1), "\xAA") << "zeroed past p_memsz";
    EXPECT_EQ(guest_bytes(kData - 1, 1), "\xAA") << "zeroed before p_vaddr";
}

TEST_F(ElfLoaderTest, ReturnsTheEntryPointAndProgramHeaderShape)
{
    ElfFile elf = valid_program();
    elf.header.e_entry = kText + 2;
    const vmm::LoadedProgram program = load(elf);
    EXPECT_EQ(program.entry, kText + 2);
    EXPECT_EQ(program.program_header_size, sizeof(Elf64_Phdr));
    EXPECT_EQ(program.program_header_count, 3u);
}

TEST_F(ElfLoaderTest, ReturnsEachLoadedSegmentWithItsFlags)
{
    const std::vector<vmm::LoadedSegment> segments = load(valid_program()).segments;
    ASSERT_EQ(segments.size(), 2u) << "PT_GNU_STACK is not loaded";
    EXPECT_EQ(segments[0].start, kText);
    EXPECT_EQ(segments[0].size, 0x100u);
    EXPECT_EQ(segments[0].flags, PF_R | PF_X);
    EXPECT_EQ(segments[1].start, kData);
    EXPECT_EQ(segments[1].size, 0x40u);
    EXPECT_EQ(segments[1].flags, PF_R | PF_W);
}

TEST_F(ElfLoaderTest, ReturnsTheProgramHeadersAddressWhenAPtLoadCoversThem)
{
    ElfFile elf = valid_program();
    elf.add_headers_segment(kLowest + 0x20000);
    const vmm::LoadedProgram program = load(elf);
    EXPECT_EQ(program.program_headers, kLowest + 0x20000 + sizeof(Elf64_Ehdr));
    EXPECT_EQ(program.program_header_count, 4u);
    EXPECT_EQ(guest_bytes(program.program_headers, 4), std::string("\x01\0\0\0", 4)) << "PT_LOAD";
}

TEST_F(ElfLoaderTest, ProgramHeadersAddressIsZeroWhenNoPtLoadCoversThem)
{
    EXPECT_EQ(load(valid_program()).program_headers, 0u);
}

TEST_F(ElfLoaderTest, RefusesABadMagic)
{
    ElfFile elf = valid_program();
    elf.header.e_ident[EI_MAG1] = 'X';
    EXPECT_TRUE(refuses(elf, "not an ELF"));
}

TEST_F(ElfLoaderTest, RefusesAFileShorterThanTheElfHeader)
{
    std::vector<std::byte> file = valid_program().bytes();
    file.resize(sizeof(Elf64_Ehdr) - 1);
    EXPECT_TRUE(throws_naming([&] { load_elf(memory, file, kLowest, kHighest); }, "not an ELF"));
    EXPECT_TRUE(throws_naming([&] { load_elf(memory, {}, kLowest, kHighest); }, "not an ELF"));
}

TEST_F(ElfLoaderTest, RefusesA32BitElf)
{
    ElfFile elf = valid_program();
    elf.header.e_ident[EI_CLASS] = ELFCLASS32;
    EXPECT_TRUE(refuses(elf, "x86-64"));
}

TEST_F(ElfLoaderTest, RefusesAnotherMachine)
{
    ElfFile elf = valid_program();
    elf.header.e_machine = EM_AARCH64;
    EXPECT_TRUE(refuses(elf, "x86-64"));
}

TEST_F(ElfLoaderTest, RefusesAPositionIndependentExecutable)
{
    ElfFile elf = valid_program();
    elf.header.e_type = ET_DYN;
    EXPECT_TRUE(refuses(elf, "position-independent"));
}

TEST_F(ElfLoaderTest, RefusesAnInterpreter)
{
    ElfFile elf = valid_program();
    elf.add(PT_INTERP, kData + 0x100, "/lib/ld-musl-x86_64.so.1", 25);
    EXPECT_TRUE(refuses(elf, "dynamically linked"));
}

TEST_F(ElfLoaderTest, RefusesADynamicSegment)
{
    ElfFile elf = valid_program();
    elf.add(PT_DYNAMIC, kData + 0x100, "", 0);
    EXPECT_TRUE(refuses(elf, "dynamically linked"));
}

TEST_F(ElfLoaderTest, RefusesProgramHeadersPastTheEndOfTheFile)
{
    ElfFile elf = valid_program();
    elf.header.e_phoff = elf.bytes().size() - sizeof(Elf64_Phdr); // 3 headers, room for 1
    EXPECT_TRUE(refuses(elf, "truncated"));
}

TEST_F(ElfLoaderTest, RefusesProgramHeadersWithAHugeOffset)
{
    ElfFile elf = valid_program();
    elf.header.e_phoff = UINT64_MAX - 8; // e_phoff + size wraps around
    EXPECT_TRUE(refuses(elf, "truncated"));
}

TEST_F(ElfLoaderTest, RefusesASegmentWhoseFileBytesPassTheEndOfTheFile)
{
    ElfFile elf = valid_program();
    elf.segments[1].p_filesz = 0x10000;
    elf.segments[1].p_memsz = 0x10000;
    EXPECT_TRUE(refuses(elf, "truncated"));
}

TEST_F(ElfLoaderTest, RefusesASegmentWithFileSizeAboveMemorySize)
{
    ElfFile elf = valid_program();
    elf.segments[1].p_memsz = 2; // p_filesz is 4
    EXPECT_TRUE(refuses(elf, "malformed"));
}

TEST_F(ElfLoaderTest, RefusesASegmentBelowLowest)
{
    ElfFile elf = valid_program();
    elf.add(PT_LOAD, kLowest - 0x1000, "low", 0x10);
    EXPECT_TRUE(refuses(elf, "does not fit"));
}

TEST_F(ElfLoaderTest, RefusesASegmentEndingPastHighest)
{
    ElfFile elf = valid_program();
    elf.add(PT_LOAD, kHighest - 0x10, "high", 0x11);
    EXPECT_TRUE(refuses(elf, "does not fit"));
}

TEST_F(ElfLoaderTest, AcceptsASegmentEndingExactlyAtHighest)
{
    ElfFile elf = valid_program();
    elf.add(PT_LOAD, kHighest - 0x10, "high", 0x10);
    EXPECT_NO_THROW(load(elf));
    EXPECT_EQ(guest_bytes(kHighest - 0x10, 4), "high");
}

TEST_F(ElfLoaderTest, RefusesASegmentWhoseEndOverflows)
{
    ElfFile elf = valid_program();
    elf.add(PT_LOAD, kData + 0x1000, "", UINT64_MAX - 0x1000); // vaddr + memsz wraps
    // Refused by the loader's own check, which names the segment, not only by GuestMemory's.
    EXPECT_TRUE(refuses(elf, "segment 3 "));
}

TEST_F(ElfLoaderTest, RefusesAnEntryPointOutsideEveryPtLoad)
{
    ElfFile elf = valid_program();
    elf.header.e_entry = kText + 0x100; // one past the end of the code segment
    EXPECT_TRUE(refuses(elf, "entry point"));
}

TEST_F(ElfLoaderTest, RefusesAnEntryPointInANonLoadSegment)
{
    ElfFile elf = valid_program();
    elf.add(PT_NOTE, kText + 0x1000, "note", 4);
    elf.header.e_entry = kText + 0x1000;
    EXPECT_TRUE(refuses(elf, "entry point"));
}

TEST(ElfLoaderRealAppTest, LoadsTheBuiltAppAtItsEntryPoint)
{
    const std::filesystem::path app = built_file("vm_src/app");
    ASSERT_TRUE(std::filesystem::exists(app)) << app << " is missing: run make all";
    const std::vector<std::byte> file = vmm::read_host_file(app, "program", 1 << 20, "1 MiB");
    Elf64_Ehdr header;
    ASSERT_GE(file.size(), sizeof header);
    std::memcpy(&header, file.data(), sizeof header);

    GuestMemory memory(8 * MiB);
    const vmm::LoadedProgram program = vmm::load_elf_file(memory, app);
    EXPECT_EQ(program.entry, header.e_entry);
    ASSERT_NE(program.program_headers, 0u);
    EXPECT_EQ(program.program_header_count, header.e_phnum);
    const uint64_t headers_size = header.e_phnum * sizeof(Elf64_Phdr);
    const auto loaded = memory.range(program.program_headers, headers_size);
    ASSERT_TRUE(loaded);
    EXPECT_EQ(std::memcmp(loaded->data(), file.data() + header.e_phoff, headers_size), 0)
        << "the program headers in guest memory differ from the file's";
}

} // namespace
