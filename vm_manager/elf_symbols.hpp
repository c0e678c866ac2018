// elf_symbols.hpp: names and source lines for guest addresses, read from ELF
// files: boot.elf (boot.asm's labels, and its lines in DWARF's line table) and
// the program (its functions). For vm_manager --step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>

namespace vmm {

struct SourceLine {
    std::string file;
    unsigned line;
};

class ElfSymbols {
  public:
    // Adds the symbols and lines of one ELF file. Returns false, adding
    // nothing, when it is not a readable 64-bit ELF file.
    bool add_file(const std::string& path);
    bool add(std::span<const std::byte> elf);

    // "start16+3": the code label or function that holds `address`; empty if none.
    std::string name(uint64_t address) const;
    // The source line whose code starts at `address`, from DWARF (.debug_line).
    std::optional<SourceLine> line(uint64_t address) const;

  private:
    struct Symbol {
        std::string name;
        uint64_t end; // the first address past it
    };
    std::map<uint64_t, Symbol> symbols_;
    std::map<uint64_t, SourceLine> lines_;
};

// The rows of a DWARF .debug_line section (versions 2 to 4): the address
// where each line's code starts. Rows of other versions are skipped.
std::map<uint64_t, SourceLine> decode_line_table(std::span<const std::byte> section);

} // namespace vmm
