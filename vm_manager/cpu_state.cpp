#include "cpu_state.hpp"

#include <iterator>

namespace vmm {

namespace {

constexpr NamedBit kCr0Bits[] = {
    {0, "PE", "protected mode"},
    {1, "MP", "wait/fwait honour TS, as SSE needs"},
    {2, "EM", "x87 and SSE instructions trap (#UD, #NM)"},
    {3, "TS", "task switched: the next x87/SSE instruction traps"},
    {4, "ET", "387-style coprocessor (always 1)"},
    {5, "NE", "x87 errors raise #MF"},
    {16, "WP", "ring 0 cannot write read-only pages"},
    {18, "AM", "alignment checks allowed"},
    {29, "NW", "not write-through"},
    {30, "CD", "caches disabled"},
    {31, "PG", "paging"},
};

constexpr NamedBit kCr4Bits[] = {
    {0, "VME", "virtual-8086 extensions"},
    {1, "PVI", "protected-mode virtual interrupts"},
    {2, "TSD", "rdtsc only in ring 0"},
    {3, "DE", "debugging extensions"},
    {4, "PSE", "4 MiB pages in 32-bit paging"},
    {5, "PAE", "physical address extension: 64-bit page tables, needed for long mode"},
    {6, "MCE", "machine-check exceptions"},
    {7, "PGE", "global pages"},
    {8, "PCE", "rdpmc in every ring"},
    {9, "OSFXSR", "the OS saves SSE state with fxsave: SSE instructions allowed"},
    {10, "OSXMMEXCPT", "SIMD floating-point errors raise #XM"},
    {11, "UMIP", "sgdt, sidt, ... only in ring 0"},
    {12, "LA57", "5-level paging"},
    {13, "VMXE", "VMX enabled"},
    {16, "FSGSBASE", "rdfsbase and friends allowed"},
    {17, "PCIDE", "process-context identifiers"},
    {18, "OSXSAVE", "xsave and AVX state allowed"},
    {20, "SMEP", "ring 0 cannot execute user pages"},
    {21, "SMAP", "ring 0 cannot access user pages"},
    {22, "PKE", "protection keys"},
};

constexpr NamedBit kEferBits[] = {
    {0, "SCE", "syscall and sysret enabled"},
    {8, "LME", "long mode enabled: active once CR0.PG is set"},
    {10, "LMA", "long mode active"},
    {11, "NXE", "no-execute pages"},
};

constexpr NamedBit kRflagsBits[] = {
    {0, "CF", "carry"},
    {2, "PF", "parity"},
    {4, "AF", "auxiliary carry"},
    {6, "ZF", "zero"},
    {7, "SF", "sign"},
    {8, "TF", "trap: single-step"},
    {9, "IF", "interrupts enabled"},
    {10, "DF", "direction: string instructions go down"},
    {11, "OF", "overflow"},
    {14, "NT", "nested task"},
    {16, "RF", "resume: no instruction breakpoint"},
    {17, "VM", "virtual-8086 mode"},
    {18, "AC", "alignment check"},
    {19, "VIF", "virtual interrupt flag"},
    {20, "VIP", "virtual interrupt pending"},
    {21, "ID", "cpuid available"},
};

} // namespace

std::span<const NamedBit> cr0_bits()
{
    return kCr0Bits;
}
std::span<const NamedBit> cr4_bits()
{
    return kCr4Bits;
}
std::span<const NamedBit> efer_bits()
{
    return kEferBits;
}
std::span<const NamedBit> rflags_bits()
{
    return kRflagsBits;
}

unsigned code_size(const kvm_sregs& sregs)
{
    // Real mode decodes 16-bit code; after that the code segment's descriptor
    // decides: L = 1 is 64-bit code (in long mode), else D = 1 is 32-bit.
    if ((sregs.cr0 & kCr0Pe) == 0) {
        return 16;
    }
    if ((sregs.efer & kEferLma) != 0 && sregs.cs.l != 0) {
        return 64;
    }
    return sregs.cs.db != 0 ? 32 : 16;
}

uint64_t code_address(const kvm_sregs& sregs, uint64_t rip)
{
    return code_size(sregs) == 64 ? rip : sregs.cs.base + rip;
}

unsigned ring(const kvm_sregs& sregs)
{
    // The current privilege level is the DPL of the stack segment (Intel SDM
    // vol. 3A, 5.5); it is 0 in real mode, where there is no protection.
    return (sregs.cr0 & kCr0Pe) == 0 ? 0 : sregs.ss.dpl;
}

std::string mode_name(const kvm_sregs& sregs)
{
    const unsigned size = code_size(sregs);
    if ((sregs.cr0 & kCr0Pe) == 0) {
        return "real mode (16-bit)";
    }
    if ((sregs.efer & kEferLma) == 0) {
        return "protected mode (" + std::to_string(size) + "-bit)";
    }
    if (size == 64) {
        return "long mode (64-bit)";
    }
    return "compatibility mode (" + std::to_string(size) + "-bit code in long mode)";
}

std::string changed_bits(std::span<const NamedBit> bits, uint64_t before, uint64_t after)
{
    std::string text;
    for (const NamedBit& bit : bits) {
        const uint64_t mask = uint64_t{1} << bit.bit;
        if (((before ^ after) & mask) == 0) {
            continue;
        }
        if (!text.empty()) {
            text += ", ";
        }
        text += bit.name;
        text += (after & mask) != 0 ? std::string(" set (") + bit.meaning + ")" : " clear";
    }
    return text;
}

} // namespace vmm
