#include "elf_symbols.hpp"

#include "host_file.hpp"

#include <elf.h>

#include <cstring>
#include <vector>

namespace vmm {

namespace {

// A bounds-checked reader of little-endian data: reading past the end sets
// `failed` and returns zeros, so a corrupt file cannot make us read outside it.
class Reader {
  public:
    explicit Reader(std::span<const std::byte> data) : data_(data) {}

    template <typename T> T get()
    {
        T value{};
        if (offset_ + sizeof(T) > data_.size()) {
            failed = true;
            offset_ = data_.size();
            return value;
        }
        std::memcpy(&value, data_.data() + offset_, sizeof(T));
        offset_ += sizeof(T);
        return value;
    }
    uint64_t uleb()
    {
        uint64_t value = 0;
        for (unsigned shift = 0;; shift += 7) {
            const auto byte = get<uint8_t>();
            if (shift < 64) {
                value |= uint64_t{byte & 0x7fu} << shift;
            }
            if ((byte & 0x80) == 0 || failed) {
                return value;
            }
        }
    }
    int64_t sleb()
    {
        int64_t value = 0;
        unsigned shift = 0;
        uint8_t byte = 0;
        do {
            byte = get<uint8_t>();
            if (shift < 64) {
                value |= int64_t{byte & 0x7f} << shift;
            }
            shift += 7;
        } while ((byte & 0x80) != 0 && !failed);
        if (shift < 64 && (byte & 0x40) != 0) {
            value |= -(int64_t{1} << shift); // sign-extend
        }
        return value;
    }
    std::string string()
    {
        std::string text;
        while (char c = static_cast<char>(get<uint8_t>())) {
            text += c;
        }
        return text;
    }
    void skip(uint64_t count)
    {
        offset_ = count > data_.size() - offset_ ? data_.size() : offset_ + count;
    }
    std::size_t offset() const { return offset_; }
    bool at_end() const { return offset_ >= data_.size(); }
    bool failed = false;

  private:
    std::span<const std::byte> data_;
    std::size_t offset_ = 0;
};

// DWARF's standard and extended line-program opcodes (DWARF 4, 6.2.5).
enum : uint8_t {
    kCopy = 1,
    kAdvancePc,
    kAdvanceLine,
    kSetFile,
    kSetColumn,
    kNegateStmt,
    kSetBasicBlock,
    kConstAddPc,
    kFixedAdvancePc,
};
enum : uint8_t { kEndSequence = 1, kSetAddress = 2 };

// One unit's line program, from just after its unit_length.
void decode_unit(Reader unit, std::map<uint64_t, SourceLine>& rows)
{
    const auto version = unit.get<uint16_t>();
    if (version < 2 || version > 4) {
        return;
    }
    const auto header_length = unit.get<uint32_t>();
    const std::size_t program_start = unit.offset() + header_length;
    const auto min_instruction_length = unit.get<uint8_t>();
    if (version >= 4) {
        unit.get<uint8_t>(); // maximum operations per instruction: 1 on x86
    }
    unit.get<uint8_t>(); // default_is_stmt
    const auto line_base = unit.get<int8_t>();
    const auto line_range = unit.get<uint8_t>();
    const auto opcode_base = unit.get<uint8_t>();
    std::vector<uint8_t> operand_counts(opcode_base > 0 ? opcode_base - 1 : 0);
    for (uint8_t& count : operand_counts) {
        count = unit.get<uint8_t>();
    }
    while (!unit.string().empty() && !unit.failed) {
        // include directories: the file names below suffice
    }
    std::vector<std::string> files{""}; // DWARF numbers files from 1
    for (std::string name = unit.string(); !name.empty() && !unit.failed; name = unit.string()) {
        unit.uleb(); // directory
        unit.uleb(); // modification time
        unit.uleb(); // length
        files.push_back(name);
    }
    if (unit.failed || line_range == 0) {
        return;
    }
    unit.skip(program_start - unit.offset());

    uint64_t address = 0;
    uint64_t file = 1;
    int64_t line = 1;
    auto add_row = [&] {
        if (file < files.size() && line > 0) {
            rows[address] = SourceLine{files[file], static_cast<unsigned>(line)};
        }
    };
    while (!unit.at_end() && !unit.failed) {
        const auto opcode = unit.get<uint8_t>();
        if (opcode >= opcode_base) {
            const unsigned adjusted = opcode - opcode_base;
            address += uint64_t{adjusted / line_range} * min_instruction_length;
            line += line_base + static_cast<int>(adjusted % line_range);
            add_row();
            continue;
        }
        switch (opcode) {
        case 0: { // extended: length, then its own opcode
            const uint64_t length = unit.uleb();
            const std::size_t end = unit.offset() + length;
            const auto extended = unit.get<uint8_t>();
            if (extended == kEndSequence) {
                address = 0;
                file = 1;
                line = 1;
            } else if (extended == kSetAddress) {
                address = unit.get<uint64_t>();
            }
            unit.skip(end - unit.offset());
            break;
        }
        case kCopy:
            add_row();
            break;
        case kAdvancePc:
            address += unit.uleb() * min_instruction_length;
            break;
        case kAdvanceLine:
            line += unit.sleb();
            break;
        case kSetFile:
            file = unit.uleb();
            break;
        case kConstAddPc:
            address += uint64_t{(255u - opcode_base) / line_range} * min_instruction_length;
            break;
        case kFixedAdvancePc:
            address += unit.get<uint16_t>();
            break;
        default: // kSetColumn, kNegateStmt, kSetBasicBlock, and opcodes of later versions
            for (uint8_t i = 0;
                 opcode - 1u < operand_counts.size() && i < operand_counts[opcode - 1]; ++i) {
                unit.uleb();
            }
            break;
        }
    }
}

} // namespace

std::map<uint64_t, SourceLine> decode_line_table(std::span<const std::byte> section)
{
    std::map<uint64_t, SourceLine> rows;
    Reader reader(section);
    while (!reader.at_end()) {
        const auto unit_length = reader.get<uint32_t>();
        if (reader.failed || unit_length >= 0xfffffff0u) {
            break; // 64-bit DWARF is not made for files this small
        }
        const std::size_t start = reader.offset();
        const std::size_t length = std::min<std::size_t>(unit_length, section.size() - start);
        decode_unit(Reader(section.subspan(start, length)), rows);
        reader.skip(length);
    }
    return rows;
}

bool ElfSymbols::add_file(const std::string& path)
{
    try {
        // Symbols only: an ELF file larger than this is not worth reading for them.
        constexpr uint64_t kMaxSymbolFile = 64 << 20;
        const std::vector<std::byte> file = read_host_file(
            path, "ELF file", kMaxSymbolFile, "the 64 MiB read for an ELF file's symbols");
        return add(file);
    } catch (const std::exception&) {
        return false;
    }
}

bool ElfSymbols::add(std::span<const std::byte> elf)
{
    Reader header_reader(elf);
    const auto header = header_reader.get<Elf64_Ehdr>();
    if (header_reader.failed || std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 ||
        header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_shentsize != sizeof(Elf64_Shdr) ||
        header.e_shoff > elf.size() ||
        header.e_shnum > (elf.size() - header.e_shoff) / sizeof(Elf64_Shdr)) {
        return false;
    }
    std::vector<Elf64_Shdr> sections(header.e_shnum);
    std::memcpy(sections.data(), elf.data() + header.e_shoff, sections.size() * sizeof(Elf64_Shdr));
    auto contents = [&](const Elf64_Shdr& section) -> std::span<const std::byte> {
        if (section.sh_type == SHT_NOBITS || section.sh_offset > elf.size() ||
            section.sh_size > elf.size() - section.sh_offset) {
            return {};
        }
        return elf.subspan(section.sh_offset, section.sh_size);
    };
    const std::span<const std::byte> names = header.e_shstrndx < sections.size()
                                                 ? contents(sections[header.e_shstrndx])
                                                 : std::span<const std::byte>();
    auto section_name = [&](const Elf64_Shdr& section) -> std::string {
        if (section.sh_name >= names.size()) {
            return "";
        }
        const auto* start = reinterpret_cast<const char*>(names.data()) + section.sh_name;
        return std::string(start, strnlen(start, names.size() - section.sh_name));
    };

    for (const Elf64_Shdr& section : sections) {
        if (section_name(section) == ".debug_line") {
            lines_.merge(decode_line_table(contents(section)));
        }
        if (section.sh_type != SHT_SYMTAB || section.sh_link >= sections.size()) {
            continue;
        }
        const std::span<const std::byte> strings = contents(sections[section.sh_link]);
        Reader symbols(contents(section));
        while (!symbols.at_end()) {
            const auto symbol = symbols.get<Elf64_Sym>();
            const unsigned type = ELF64_ST_TYPE(symbol.st_info);
            // Names in an executable section only: labels (NASM makes them
            // NOTYPE, or OBJECT when data follows) and functions. Each covers
            // its size, or else up to the end of its section.
            if (symbols.failed || symbol.st_shndx >= sections.size() ||
                (sections[symbol.st_shndx].sh_flags & SHF_EXECINSTR) == 0 ||
                (type != STT_NOTYPE && type != STT_FUNC && type != STT_OBJECT) ||
                symbol.st_name >= strings.size()) {
                continue;
            }
            const Elf64_Shdr& home = sections[symbol.st_shndx];
            const auto* name = reinterpret_cast<const char*>(strings.data()) + symbol.st_name;
            const uint64_t end = symbol.st_size != 0 ? symbol.st_value + symbol.st_size
                                                     : home.sh_addr + home.sh_size;
            symbols_[symbol.st_value] =
                Symbol{std::string(name, strnlen(name, strings.size() - symbol.st_name)), end};
        }
    }
    return true;
}

std::string ElfSymbols::name(uint64_t address) const
{
    auto it = symbols_.upper_bound(address);
    // The nearest symbol at or below the address, if the address is inside it.
    while (it != symbols_.begin()) {
        --it;
        if (address < it->second.end && !it->second.name.empty()) {
            const uint64_t offset = address - it->first;
            return offset == 0 ? it->second.name : it->second.name + "+" + std::to_string(offset);
        }
        if (it->second.end <= address) {
            return "";
        }
    }
    return "";
}

std::optional<SourceLine> ElfSymbols::line(uint64_t address) const
{
    const auto found = lines_.find(address);
    if (found == lines_.end()) {
        return std::nullopt;
    }
    return found->second;
}

} // namespace vmm
