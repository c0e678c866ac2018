#include "disassembler.hpp"

#include "error.hpp"

#include <capstone/capstone.h>

namespace vmm {

Disassembler::Disassembler()
{
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle_) != CS_ERR_OK) {
        throw VmmError("the Capstone disassembler could not start");
    }
    // Capstone builds its tables at its first decoding, with calls (sysinfo,
    // through qsort) the VMM's seccomp filter forbids: decode once now, before it.
    const std::byte nop[] = {std::byte{0x90}};
    for (unsigned bits : {16, 32, 64}) {
        decode(nop, 0, bits);
    }
}

Disassembler::~Disassembler()
{
    cs_close(&handle_);
}

std::optional<Instruction> Disassembler::decode(std::span<const std::byte> bytes, uint64_t address,
                                                unsigned bits)
{
    // The same bytes are different instructions in 16-, 32- and 64-bit code:
    // 31 c0 is xor ax, ax in real mode and xor eax, eax after it.
    cs_option(handle_, CS_OPT_MODE, bits == 16 ? CS_MODE_16 : bits == 32 ? CS_MODE_32 : CS_MODE_64);
    cs_insn* decoded = nullptr;
    const std::size_t count = cs_disasm(handle_, reinterpret_cast<const uint8_t*>(bytes.data()),
                                        bytes.size(), address, 1, &decoded);
    if (count == 0) {
        return std::nullopt;
    }
    Instruction instruction{decoded->mnemonic, decoded->mnemonic, decoded->size};
    if (decoded->op_str[0] != '\0') {
        instruction.text += std::string(" ") + decoded->op_str;
    }
    cs_free(decoded, count);
    return instruction;
}

} // namespace vmm
