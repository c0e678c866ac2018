// disassembler.hpp: x86 instructions as text, decoded by Capstone
// (libcapstone, www.capstone-engine.org), in Intel syntax as in boot.asm.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace vmm {

struct Instruction {
    std::string text; // "mov cr0, eax"
    std::string mnemonic;
    unsigned size;
};

class Disassembler {
  public:
    Disassembler();
    ~Disassembler();
    Disassembler(const Disassembler&) = delete;
    Disassembler& operator=(const Disassembler&) = delete;

    // The instruction at the start of `bytes`, which sit at `address`, for a
    // CPU decoding `bits`-bit code (16, 32 or 64). Nothing if not an instruction.
    std::optional<Instruction> decode(std::span<const std::byte> bytes, uint64_t address,
                                      unsigned bits);

  private:
    std::size_t handle_ = 0;
};

} // namespace vmm
