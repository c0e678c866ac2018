#include "elf_loader.hpp"

#include "error.hpp"
#include "guest_layout.hpp"
#include "hex.hpp"
#include "host_file.hpp"

#include <elf.h>

#include <cstring>

namespace vmm {

namespace {

// True when [offset, offset + length) lies inside the file, without overflow.
bool in_file(std::span<const std::byte> file, uint64_t offset, uint64_t length)
{
    return offset <= file.size() && length <= file.size() - offset;
}

Elf64_Ehdr read_elf_header(std::span<const std::byte> file)
{
    Elf64_Ehdr header;
    if (file.size() < sizeof header || std::memcmp(file.data(), ELFMAG, SELFMAG) != 0) {
        throw VmmError("not an ELF file (no \\x7fELF signature)");
    }
    std::memcpy(&header, file.data(), sizeof header);
    if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB ||
        header.e_machine != EM_X86_64) {
        throw VmmError("not a 64-bit x86-64 ELF executable");
    }
    if (header.e_type == ET_DYN) {
        throw VmmError("a position-independent executable (PIE): the VMM loads programs at "
                       "their link address; build with musl-gcc -static");
    }
    if (header.e_type != ET_EXEC) {
        throw VmmError("not an executable (ELF type " + std::to_string(header.e_type) + ")");
    }
    if (header.e_phentsize != sizeof(Elf64_Phdr) ||
        !in_file(file, header.e_phoff, uint64_t{header.e_phnum} * sizeof(Elf64_Phdr))) {
        throw VmmError("truncated or malformed ELF file: program headers outside the file");
    }
    return header;
}

} // namespace

LoadedProgram load_elf(GuestMemory& memory, std::span<const std::byte> file, uint64_t lowest,
                       uint64_t highest)
{
    const Elf64_Ehdr header = read_elf_header(file);
    LoadedProgram program{header.e_entry, 0, sizeof(Elf64_Phdr), header.e_phnum, {}};
    bool entry_loaded = false;

    for (unsigned i = 0; i < header.e_phnum; ++i) {
        Elf64_Phdr segment;
        std::memcpy(&segment, file.data() + header.e_phoff + i * sizeof segment, sizeof segment);
        if (segment.p_type == PT_INTERP || segment.p_type == PT_DYNAMIC) {
            throw VmmError("dynamically linked: there is no dynamic loader in the guest; "
                           "build with musl-gcc -static");
        }
        if (segment.p_type != PT_LOAD) {
            continue;
        }
        if (!in_file(file, segment.p_offset, segment.p_filesz) ||
            segment.p_filesz > segment.p_memsz) {
            throw VmmError("truncated or malformed ELF file: segment " + std::to_string(i) +
                           " lies outside the file");
        }
        const uint64_t start = segment.p_vaddr;
        const uint64_t size = segment.p_memsz;
        if (start < lowest || start > highest || size > highest - start) {
            throw VmmError("segment " + std::to_string(i) + " (" + hex(start) + ", " + hex(size) +
                           " bytes) does not fit in guest memory between " + hex(lowest) + " and " +
                           hex(highest) + "; a larger --mem may help");
        }
        // The file part, then zeros up to p_memsz (.bss). Fresh guest memory is
        // already zero, but a loader must not rely on that.
        std::span<std::byte> target = memory.checked_range(start, size, "ELF segment");
        std::memcpy(target.data(), file.data() + segment.p_offset, segment.p_filesz);
        std::memset(target.data() + segment.p_filesz, 0, size - segment.p_filesz);
        program.segments.push_back({start, size, segment.p_flags});

        // musl finds its TLS template through the program headers (auxv AT_PHDR):
        // they are in memory when a segment loads the part of the file holding them.
        const uint64_t headers_size = uint64_t{header.e_phnum} * sizeof(Elf64_Phdr);
        if (header.e_phoff >= segment.p_offset &&
            header.e_phoff - segment.p_offset <= segment.p_filesz &&
            headers_size <= segment.p_filesz - (header.e_phoff - segment.p_offset)) {
            program.program_headers = start + (header.e_phoff - segment.p_offset);
        }
        if (header.e_entry >= start && header.e_entry - start < size) {
            entry_loaded = true;
        }
    }
    if (!entry_loaded) {
        throw VmmError("the entry point " + hex(header.e_entry) +
                       " is not inside a loaded segment");
    }
    return program;
}

LoadedProgram load_elf_file(GuestMemory& memory, const std::string& path)
{
    const std::vector<std::byte> file =
        read_host_file(path, "program", memory.size(), guest_memory_limit(memory.size()));
    try {
        return load_elf(memory, file, layout::kProgramLowest,
                        memory.size() - layout::kStackReserve);
    } catch (const VmmError& error) {
        throw VmmError("cannot run " + path + ": " + error.what());
    }
}

} // namespace vmm
