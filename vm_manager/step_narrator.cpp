#include "step_narrator.hpp"

#include "cpu_state.hpp"
#include "hex.hpp"
#include "int3_hit.hpp"

#include <cstddef>
#include <vector>

namespace vmm {

namespace {

constexpr unsigned kLongestInstruction = 15; // bytes (Intel SDM vol. 2A, 2.3.11)

std::string pad(std::string text, std::size_t width)
{
    if (text.size() < width) {
        text.append(width - text.size(), ' ');
    }
    return text;
}

// The MSRs boot.asm writes, by name (Intel SDM vol. 4).
std::string msr_name(uint64_t index)
{
    switch (index) {
    case 0xC0000080:
        return "EFER";
    case 0xC0000081:
        return "STAR";
    case 0xC0000082:
        return "LSTAR";
    case 0xC0000084:
        return "SFMASK";
    default:
        return hex(index);
    }
}

} // namespace

StepNarrator::StepNarrator(Vcpu& vcpu, GuestMemory& memory, const LoadedBootImage& boot,
                           uint64_t program_entry, const std::string& boot_elf,
                           const std::string& program, uint64_t program_steps)
    : vcpu_(vcpu), memory_(memory), program_entry_(program_entry), program_steps_(program_steps),
      breakpoints_(memory), boot_(boot)
{
    if (!symbols_.add_file(boot_elf)) {
        std::fprintf(stderr,
                     "vm_manager: --step: no %s: boot.asm's labels and lines are not shown\n",
                     boot_elf.c_str());
    }
    symbols_.add_file(program);
    std::fprintf(stderr,
                 "vm_manager --step: boot.asm one instruction at a time, then %llu of the "
                 "program\n",
                 static_cast<unsigned long long>(program_steps));
    vcpu.attach(this);
}

StepNarrator::~StepNarrator()
{
    vcpu_.attach(nullptr);
}

void StepNarrator::before_run(Vcpu& vcpu)
{
    if (!stepping_) {
        return;
    }
    before_ = Snapshot{vcpu.regs(), vcpu.sregs()};
    const uint64_t rip = code_address(before_->sregs, before_->regs.rip);
    const std::optional<std::span<std::byte>> bytes =
        memory_.range(rip, std::min<uint64_t>(kLongestInstruction,
                                              memory_.size() - std::min(rip, memory_.size())));
    instruction_ =
        bytes ? disassembler_.decode(*bytes, rip, code_size(before_->sregs)) : std::nullopt;
    // What KVM's single step cannot do alone (single_step.hpp): a `hlt` runs
    // without it, its exit ends the step; sysret runs to a temporary int3
    // where it returns.
    step_kind_ = bytes ? step_kind(*bytes) : StepKind::kPlain;
    bool single_step = step_kind_ != StepKind::kHlt;
    if (step_kind_ == StepKind::kSysret) {
        sysret_target_ = sysret_target(*bytes, before_->regs);
        single_step = !breakpoints_.insert_int3(*sysret_target_);
    }
    vcpu.set_guest_debug(breakpoints_.guest_debug(single_step));
}

void StepNarrator::remove_sysret_int3()
{
    if (sysret_target_) {
        breakpoints_.remove_software(*sysret_target_);
        sysret_target_.reset();
    }
}

bool StepNarrator::after_exit(Vcpu& vcpu)
{
    if (!stepping_ || !before_) {
        return false;
    }
    const Snapshot before = *before_;
    before_.reset();
    const bool sysret_returned =
        sysret_target_ && planted_int3_hit(vcpu, memory_, boot_, breakpoints_);
    remove_sysret_int3();
    if (vcpu.exit_reason() == KVM_EXIT_DEBUG || sysret_returned) {
        if (step_kind_ == StepKind::kSyscall) {
            forget_step_flag_in_r11(vcpu, before.regs.rflags);
        }
        tell_instruction(before);
        tell_changes(before, Snapshot{vcpu.regs(), vcpu.sregs()});
        count_step(vcpu.regs().rip);
        return true;
    }
    if (vcpu.exit_reason() == KVM_EXIT_HLT) {
        tell_instruction(before);
        std::fprintf(stderr, "%12sKVM_EXIT_HLT: the VMM carries out system call %llu\n", "",
                     static_cast<unsigned long long>(before.regs.rax));
        count_step(before.regs.rip + 1);
    }
    return false; // the VMM's own exit: the system call, or a crash
}

void StepNarrator::count_step(uint64_t next_rip)
{
    if (!in_program_ && next_rip == program_entry_) {
        in_program_ = true;
        const std::string name = symbols_.name(next_rip);
        std::fprintf(stderr, "vm_manager --step: boot.asm is done: the program starts at %s%s\n",
                     hex(next_rip).c_str(), name.empty() ? "" : (" <" + name + ">").c_str());
    } else if (in_program_) {
        ++steps_in_program_;
    }
    if (in_program_ && steps_in_program_ >= program_steps_) {
        // Done: the program runs on at full speed, without single-stepping.
        stepping_ = false;
        vcpu_.set_guest_debug(kvm_guest_debug{});
    }
}

void StepNarrator::tell_instruction(const Snapshot& before)
{
    const uint64_t rip = code_address(before.sregs, before.regs.rip);
    std::string line = "  " + pad(hex(rip), 10);
    line += pad(instruction_ ? instruction_->text : "(not an instruction)", 34);
    if (const std::optional<SourceLine> source = symbols_.line(rip)) {
        line += pad(source->file + ":" + std::to_string(source->line), 14);
    }
    line += symbols_.name(rip);
    std::fprintf(stderr, "%s\n", line.c_str());
}

void StepNarrator::tell_changes(const Snapshot& before, const Snapshot& after)
{
    std::vector<std::string> changes;
    auto value = [&](const char* name, uint64_t old_value, uint64_t new_value,
                     std::span<const NamedBit> bits = {}) {
        if (old_value == new_value) {
            return;
        }
        std::string text = std::string(name) + " " + hex(old_value) + " -> " + hex(new_value);
        if (!bits.empty()) {
            const std::string named = changed_bits(bits, old_value, new_value);
            if (!named.empty()) {
                text += ": " + named;
            }
        }
        changes.push_back(text);
    };
    const kvm_regs& a = before.regs;
    const kvm_regs& b = after.regs;
    value("RAX", a.rax, b.rax);
    value("RBX", a.rbx, b.rbx);
    value("RCX", a.rcx, b.rcx);
    value("RDX", a.rdx, b.rdx);
    value("RSI", a.rsi, b.rsi);
    value("RDI", a.rdi, b.rdi);
    value("RBP", a.rbp, b.rbp);
    value("RSP", a.rsp, b.rsp);
    value("R8", a.r8, b.r8);
    value("R9", a.r9, b.r9);
    value("R10", a.r10, b.r10);
    value("R11", a.r11, b.r11);
    value("R12", a.r12, b.r12);
    value("R13", a.r13, b.r13);
    value("R14", a.r14, b.r14);
    value("R15", a.r15, b.r15);
    value("RFLAGS", a.rflags, b.rflags, rflags_bits());
    const kvm_sregs& s = before.sregs;
    const kvm_sregs& t = after.sregs;
    value("CS", s.cs.selector, t.cs.selector);
    value("DS", s.ds.selector, t.ds.selector);
    value("ES", s.es.selector, t.es.selector);
    value("FS", s.fs.selector, t.fs.selector);
    value("GS", s.gs.selector, t.gs.selector);
    value("SS", s.ss.selector, t.ss.selector);
    value("FS base", s.fs.base, t.fs.base);
    value("GS base", s.gs.base, t.gs.base);
    value("TR", s.tr.selector, t.tr.selector);
    value("GDTR base", s.gdt.base, t.gdt.base);
    value("GDTR limit", s.gdt.limit, t.gdt.limit);
    value("IDTR base", s.idt.base, t.idt.base);
    value("IDTR limit", s.idt.limit, t.idt.limit);
    value("CR0", s.cr0, t.cr0, cr0_bits());
    value("CR3", s.cr3, t.cr3);
    value("CR4", s.cr4, t.cr4, cr4_bits());
    value("EFER", s.efer, t.efer, efer_bits());
    if (instruction_ && instruction_->mnemonic == "wrmsr") {
        // wrmsr writes EDX:EAX to the MSR numbered ECX; KVM_GET_SREGS shows only EFER.
        const uint64_t written = (a.rdx & 0xffffffff) << 32 | (a.rax & 0xffffffff);
        const std::string name = symbols_.name(written);
        changes.push_back("MSR " + msr_name(a.rcx & 0xffffffff) + " = " + hex(written) +
                          (name.empty() ? "" : " <" + name + ">"));
    }
    if (mode_name(s) != mode_name(t)) {
        changes.push_back("mode: " + mode_name(s) + " -> " + mode_name(t));
    }
    if (ring(s) != ring(t)) {
        changes.push_back("ring " + std::to_string(ring(s)) + " -> ring " +
                          std::to_string(ring(t)));
    }
    for (const std::string& change : changes) {
        std::fprintf(stderr, "%12s%s\n", "", change.c_str());
    }
}

} // namespace vmm
