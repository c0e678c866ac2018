#include "gdb_registers.hpp"

#include "cpu_state.hpp"
#include "gdb_connection.hpp"

#include <cstring>
#include <iterator>
#include <span>

namespace vmm {

namespace {

using Get = uint64_t (*)(const CpuRegisters&);
using Set = void (*)(CpuRegisters&, uint64_t);

struct GdbRegister {
    const char* name;
    unsigned bits;
    const char* type; // a gdb type, or one of the flags types below
    const char* feature;
    RegisterWrite part; // what writing it changes: kvm_regs, kvm_sregs, nothing
    Get get;            // nullptr: not read by this VMM, shown as <unavailable>
    Set set;
};

constexpr const char* kCore = "org.gnu.gdb.i386.core";
constexpr const char* kSse = "org.gnu.gdb.i386.sse";
constexpr const char* kSegments = "org.gnu.gdb.i386.segments";
constexpr const char* kSystem = "org.scratchvm.x86.system";

#define GENERAL(reg, type)                                                                         \
    {                                                                                              \
#reg, 64, type, kCore, RegisterWrite::kGeneral,                                            \
            [](const CpuRegisters& c)                                                              \
                 -> uint64_t { return c.regs.reg; }, [](CpuRegisters & c,                          \
                                                        uint64_t v) { c.regs.reg = v; }            \
    }
#define SELECTOR(seg)                                                                              \
    {                                                                                              \
#seg, 32, "int32", kCore, RegisterWrite::kSystem,                                           \
     [](const CpuRegisters& c) -> uint64_t { return c.sregs.seg.selector; },                      \
     [](CpuRegisters& c, uint64_t v) { c.sregs.seg.selector = static_cast<uint16_t>(v); }      \
    }
#define SEGMENT_BASE(seg, feature)                                                                 \
    {                                                                                              \
#seg "_base", 64, "data_ptr", feature, RegisterWrite::kSystem,                             \
            [](const CpuRegisters& c)                                                              \
                 -> uint64_t { return c.sregs.seg.base; },                                         \
                                                        [](CpuRegisters & c,                       \
                                                           uint64_t v) { c.sregs.seg.base = v; }   \
    }
#define SYSTEM(reg, type)                                                                          \
    {                                                                                              \
#reg, 64, type, kSystem, RegisterWrite::kSystem,                                           \
            [](const CpuRegisters& c)                                                              \
                 -> uint64_t { return c.sregs.reg; }, [](CpuRegisters & c,                         \
                                                         uint64_t v) { c.sregs.reg = v; }          \
    }
#define UNAVAILABLE(name, bits, type, feature)                                                     \
    {                                                                                              \
        name, bits, type, feature, RegisterWrite::kIgnored, nullptr, nullptr                       \
    }

// In gdb's order (gdb/features/i386/64bit-core.xml and the others): the
// position in this table is the register's number in the protocol.
const GdbRegister kRegisters[] = {
    GENERAL(rax, "int64"),
    GENERAL(rbx, "int64"),
    GENERAL(rcx, "int64"),
    GENERAL(rdx, "int64"),
    GENERAL(rsi, "int64"),
    GENERAL(rdi, "int64"),
    GENERAL(rbp, "data_ptr"),
    GENERAL(rsp, "data_ptr"),
    GENERAL(r8, "int64"),
    GENERAL(r9, "int64"),
    GENERAL(r10, "int64"),
    GENERAL(r11, "int64"),
    GENERAL(r12, "int64"),
    GENERAL(r13, "int64"),
    GENERAL(r14, "int64"),
    GENERAL(r15, "int64"),
    GENERAL(rip, "code_ptr"),
    {"eflags", 32, "rflags_bits", kCore, RegisterWrite::kGeneral,
     [](const CpuRegisters& c) -> uint64_t { return c.regs.rflags; },
     [](CpuRegisters& c, uint64_t v) { c.regs.rflags = v; }},
    SELECTOR(cs),
    SELECTOR(ss),
    SELECTOR(ds),
    SELECTOR(es),
    SELECTOR(fs),
    SELECTOR(gs),
    UNAVAILABLE("st0", 80, "i387_ext", kCore),
    UNAVAILABLE("st1", 80, "i387_ext", kCore),
    UNAVAILABLE("st2", 80, "i387_ext", kCore),
    UNAVAILABLE("st3", 80, "i387_ext", kCore),
    UNAVAILABLE("st4", 80, "i387_ext", kCore),
    UNAVAILABLE("st5", 80, "i387_ext", kCore),
    UNAVAILABLE("st6", 80, "i387_ext", kCore),
    UNAVAILABLE("st7", 80, "i387_ext", kCore),
    UNAVAILABLE("fctrl", 32, "int", kCore),
    UNAVAILABLE("fstat", 32, "int", kCore),
    UNAVAILABLE("ftag", 32, "int", kCore),
    UNAVAILABLE("fiseg", 32, "int", kCore),
    UNAVAILABLE("fioff", 32, "int", kCore),
    UNAVAILABLE("foseg", 32, "int", kCore),
    UNAVAILABLE("fooff", 32, "int", kCore),
    UNAVAILABLE("fop", 32, "int", kCore),
    UNAVAILABLE("xmm0", 128, "uint128", kSse),
    UNAVAILABLE("xmm1", 128, "uint128", kSse),
    UNAVAILABLE("xmm2", 128, "uint128", kSse),
    UNAVAILABLE("xmm3", 128, "uint128", kSse),
    UNAVAILABLE("xmm4", 128, "uint128", kSse),
    UNAVAILABLE("xmm5", 128, "uint128", kSse),
    UNAVAILABLE("xmm6", 128, "uint128", kSse),
    UNAVAILABLE("xmm7", 128, "uint128", kSse),
    UNAVAILABLE("xmm8", 128, "uint128", kSse),
    UNAVAILABLE("xmm9", 128, "uint128", kSse),
    UNAVAILABLE("xmm10", 128, "uint128", kSse),
    UNAVAILABLE("xmm11", 128, "uint128", kSse),
    UNAVAILABLE("xmm12", 128, "uint128", kSse),
    UNAVAILABLE("xmm13", 128, "uint128", kSse),
    UNAVAILABLE("xmm14", 128, "uint128", kSse),
    UNAVAILABLE("xmm15", 128, "uint128", kSse),
    UNAVAILABLE("mxcsr", 32, "int", kSse),
    SEGMENT_BASE(fs, kSegments),
    SEGMENT_BASE(gs, kSegments),
    SYSTEM(cr0, "cr0_bits"),
    SYSTEM(cr2, "data_ptr"),
    SYSTEM(cr3, "data_ptr"),
    SYSTEM(cr4, "cr4_bits"),
    SYSTEM(efer, "efer_bits"),
    SEGMENT_BASE(cs, kSystem),
    SEGMENT_BASE(ss, kSystem),
    SEGMENT_BASE(ds, kSystem),
    SEGMENT_BASE(es, kSystem),
};

#undef GENERAL
#undef SELECTOR
#undef SEGMENT_BASE
#undef SYSTEM
#undef UNAVAILABLE

// A flags type: gdb then prints the register's set bits by name.
std::string flags_type(const char* id, unsigned bytes, std::span<const NamedBit> bits)
{
    std::string xml =
        std::string("<flags id=\"") + id + "\" size=\"" + std::to_string(bytes) + "\">";
    for (const NamedBit& bit : bits) {
        xml += std::string("<field name=\"") + bit.name + "\" start=\"" + std::to_string(bit.bit) +
               "\" end=\"" + std::to_string(bit.bit) + "\"/>";
    }
    return xml + "</flags>\n";
}

} // namespace

std::string target_description()
{
    std::string xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
                      "<target version=\"1.0\">\n<architecture>i386:x86-64</architecture>\n";
    const char* feature = nullptr;
    for (const GdbRegister& reg : kRegisters) {
        if (feature == nullptr || std::strcmp(feature, reg.feature) != 0) {
            if (feature != nullptr) {
                xml += "</feature>\n";
            }
            feature = reg.feature;
            xml += std::string("<feature name=\"") + feature + "\">\n";
            // Flags types are defined in the feature whose registers use them.
            if (feature == kCore) {
                xml += flags_type("rflags_bits", 4, rflags_bits());
            } else if (feature == kSystem) {
                xml += flags_type("cr0_bits", 8, cr0_bits()) +
                       flags_type("cr4_bits", 8, cr4_bits()) +
                       flags_type("efer_bits", 8, efer_bits());
            }
        }
        xml += std::string("<reg name=\"") + reg.name + "\" bitsize=\"" + std::to_string(reg.bits) +
               "\" type=\"" + reg.type + "\"/>\n";
    }
    return xml + "</feature>\n</target>\n";
}

std::size_t gdb_register_count()
{
    return std::size(kRegisters);
}

std::optional<std::string> read_gdb_register(const CpuRegisters& cpu, std::size_t n)
{
    if (n >= std::size(kRegisters)) {
        return std::nullopt;
    }
    const GdbRegister& reg = kRegisters[n];
    if (reg.get == nullptr) {
        return std::string(reg.bits / 4, 'x');
    }
    // x86 is little-endian, and so is the protocol's byte order for it.
    const uint64_t value = reg.get(cpu);
    return to_hex(&value, reg.bits / 8);
}

std::string read_gdb_registers(const CpuRegisters& cpu)
{
    std::string all;
    for (std::size_t n = 0; n < std::size(kRegisters); ++n) {
        all += *read_gdb_register(cpu, n);
    }
    return all;
}

RegisterWrite write_gdb_register(CpuRegisters& cpu, std::size_t n, std::string_view bytes)
{
    if (n >= std::size(kRegisters)) {
        return RegisterWrite::kNoSuchRegister;
    }
    const GdbRegister& reg = kRegisters[n];
    if (reg.set == nullptr || bytes.size() != reg.bits / 8) {
        return RegisterWrite::kIgnored;
    }
    uint64_t value = 0;
    std::memcpy(&value, bytes.data(), bytes.size());
    if (reg.bits == 32 && reg.get != nullptr) {
        // eflags and the selectors are 32 bits wide for gdb: keep the rest.
        value |= reg.get(cpu) & ~uint64_t{0xffffffff};
    }
    reg.set(cpu, value);
    return reg.part;
}

} // namespace vmm
