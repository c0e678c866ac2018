#include "exception_return.hpp"

namespace vmm {

namespace {

// A descriptor's bit field (SDM vol. 3A, figure 3-8).
uint64_t bits(uint64_t descriptor, unsigned first, unsigned count)
{
    return descriptor >> first & ((uint64_t{1} << count) - 1);
}

} // namespace

std::optional<kvm_segment> segment_from_gdt(GuestMemory& memory, const kvm_dtable& gdt,
                                            uint64_t selector, SegmentUse use)
{
    // Selector: index in bits 3-15, TI (bit 2) 0 for the GDT, RPL in bits 0-1.
    // Entry 0 is the null descriptor.
    const uint64_t offset = selector & ~uint64_t{7};
    if (selector > 0xffff || (selector & 4) != 0 || offset == 0 || offset + 7 > gdt.limit) {
        return std::nullopt;
    }
    const std::optional<std::span<std::byte>> entry = memory.range(gdt.base + offset, 8);
    if (!entry) {
        return std::nullopt;
    }
    uint64_t d = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        d |= static_cast<uint64_t>((*entry)[i]) << (8 * i);
    }
    kvm_segment segment{};
    segment.selector = static_cast<uint16_t>(selector);
    segment.base = bits(d, 16, 24) | bits(d, 56, 8) << 24;
    const uint64_t limit = bits(d, 0, 16) | bits(d, 48, 4) << 16;
    segment.g = static_cast<uint8_t>(bits(d, 55, 1));
    // With G, the limit counts 4 KiB pages: the low 12 bits are all ones.
    segment.limit = static_cast<uint32_t>(segment.g ? limit << 12 | 0xfff : limit);
    // Loading a descriptor sets its "accessed" type bit (bit 0); VT-x even
    // refuses to enter a guest whose CS or SS lacks it.
    segment.type = static_cast<uint8_t>(bits(d, 40, 4) | 1);
    segment.s = static_cast<uint8_t>(bits(d, 44, 1));
    segment.dpl = static_cast<uint8_t>(bits(d, 45, 2));
    segment.present = static_cast<uint8_t>(bits(d, 47, 1));
    segment.avl = static_cast<uint8_t>(bits(d, 52, 1));
    segment.l = static_cast<uint8_t>(bits(d, 53, 1));
    segment.db = static_cast<uint8_t>(bits(d, 54, 1));
    // Type bit 3: code. For code, a 64-bit segment (L); for a stack, a
    // writable data segment (type bit 1). Either at the selector's RPL.
    const bool code = (segment.type & 8) != 0;
    const bool fits = use == SegmentUse::kCode ? code && segment.l : !code && (segment.type & 2);
    if (!segment.present || !segment.s || !fits || segment.dpl != (selector & 3)) {
        return std::nullopt;
    }
    return segment;
}

bool return_from_exception(Vcpu& vcpu, GuestMemory& memory, const ExceptionFrame& frame,
                           uint64_t rip)
{
    kvm_sregs& sregs = vcpu.sregs();
    // A selector that did not change keeps its register as it is: in ring 0,
    // SS may be the null selector, which has no descriptor to load.
    std::optional<kvm_segment> cs = sregs.cs;
    std::optional<kvm_segment> ss = sregs.ss;
    if (frame.cs != sregs.cs.selector) {
        cs = segment_from_gdt(memory, sregs.gdt, frame.cs, SegmentUse::kCode);
    }
    if (frame.ss != sregs.ss.selector) {
        ss = segment_from_gdt(memory, sregs.gdt, frame.ss, SegmentUse::kStack);
    }
    if (!cs || !ss) {
        return false;
    }
    sregs.cs = *cs;
    sregs.ss = *ss;
    vcpu.mark_sregs_dirty();
    kvm_regs& regs = vcpu.regs();
    regs.rip = rip;
    regs.rsp = frame.rsp;
    regs.rflags = frame.rflags;
    vcpu.mark_regs_dirty();
    return true;
}

} // namespace vmm
