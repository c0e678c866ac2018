#include "breakpoints.hpp"

#include "opcodes.hpp"

#include <cstring>

namespace vmm {

namespace {

// DR7's LEN field: the number of bytes watched, 1, 2, 4 or 8 (SDM vol. 3A, 18.2.4).
std::optional<uint64_t> length_bits(uint64_t length)
{
    switch (length) {
    case 1:
        return 0;
    case 2:
        return 1;
    case 4:
        return 3;
    case 8:
        return 2;
    default:
        return std::nullopt;
    }
}

} // namespace

bool Breakpoints::insert_software(uint64_t address)
{
    if (!insert_int3(address)) {
        return false;
    }
    bool in_register = false;
    for (const std::optional<HardwareBreakpoint>& slot : hardware_) {
        in_register = in_register || (slot && slot->for_software && slot->address == address);
    }
    if (!in_register) {
        insert_hardware({Watch::kExecute, address, 1, true}); // when one is free
    }
    return true;
}

bool Breakpoints::insert_int3(uint64_t address)
{
    const std::optional<std::span<std::byte>> byte = memory_.range(address, 1);
    if (!byte) {
        return false;
    }
    if (!software_.contains(address)) {
        software_[address] = (*byte)[0];
        (*byte)[0] = std::byte{kInt3Opcode};
    }
    return true;
}

bool Breakpoints::remove_software(uint64_t address)
{
    remove_hardware({Watch::kExecute, address, 1, true});
    const auto found = software_.find(address);
    if (found == software_.end()) {
        return false;
    }
    (*memory_.range(address, 1))[0] = found->second;
    software_.erase(found);
    return true;
}

bool Breakpoints::insert_hardware(const HardwareBreakpoint& breakpoint)
{
    // A watched range must be aligned to its length; an instruction
    // breakpoint watches one byte.
    const uint64_t length = breakpoint.watch == Watch::kExecute ? 1 : breakpoint.length;
    if (!length_bits(length) || breakpoint.address % length != 0) {
        return false;
    }
    for (std::optional<HardwareBreakpoint>& slot : hardware_) {
        if (!slot) {
            slot = HardwareBreakpoint{breakpoint.watch, breakpoint.address, length,
                                      breakpoint.for_software};
            return true;
        }
    }
    return false; // all four debug registers are taken
}

bool Breakpoints::remove_hardware(const HardwareBreakpoint& breakpoint)
{
    for (std::optional<HardwareBreakpoint>& slot : hardware_) {
        if (slot && slot->watch == breakpoint.watch && slot->address == breakpoint.address &&
            slot->for_software == breakpoint.for_software) {
            slot.reset();
            return true;
        }
    }
    return false;
}

void Breakpoints::remove_all()
{
    while (!software_.empty()) {
        remove_software(software_.begin()->first);
    }
    hardware_ = {};
}

std::optional<std::vector<std::byte>> Breakpoints::read(uint64_t address, uint64_t length) const
{
    const std::optional<std::span<std::byte>> range = memory_.range(address, length);
    if (!range) {
        return std::nullopt;
    }
    std::vector<std::byte> bytes(range->begin(), range->end());
    for (auto it = software_.lower_bound(address);
         it != software_.end() && it->first - address < length; ++it) {
        bytes[it->first - address] = it->second;
    }
    return bytes;
}

bool Breakpoints::write(uint64_t address, std::span<const std::byte> bytes)
{
    const std::optional<std::span<std::byte>> range = memory_.range(address, bytes.size());
    if (!range) {
        return false;
    }
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const auto found = software_.find(address + i);
        (found != software_.end() ? found->second : (*range)[i]) = bytes[i];
    }
    return true;
}

kvm_guest_debug Breakpoints::guest_debug(bool single_step) const
{
    kvm_guest_debug debug{};
    debug.control = KVM_GUESTDBG_ENABLE;
    if (single_step) {
        debug.control |= KVM_GUESTDBG_SINGLESTEP;
    }
    if (!software_.empty()) {
        debug.control |= KVM_GUESTDBG_USE_SW_BP;
    }
    uint64_t dr7 = 0;
    for (std::size_t i = 0; i < hardware_.size(); ++i) {
        if (!hardware_[i]) {
            continue;
        }
        debug.arch.debugreg[i] = hardware_[i]->address;
        // L<i> enables DR<i>; R/W<i> and LEN<i> sit at bits 16 + 4i.
        dr7 |= uint64_t{1} << (2 * i);
        dr7 |=
            (static_cast<uint64_t>(hardware_[i]->watch) | *length_bits(hardware_[i]->length) << 2)
            << (16 + 4 * i);
    }
    if (dr7 != 0) {
        debug.control |= KVM_GUESTDBG_USE_HW_BP;
        debug.arch.debugreg[7] = dr7;
    }
    return debug;
}

std::optional<HardwareBreakpoint> Breakpoints::fired(uint64_t dr6) const
{
    for (std::size_t i = 0; i < hardware_.size(); ++i) {
        if (hardware_[i] && (dr6 & (uint64_t{1} << i)) != 0) {
            return hardware_[i];
        }
    }
    return std::nullopt;
}

} // namespace vmm
