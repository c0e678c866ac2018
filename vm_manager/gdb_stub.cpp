#include "gdb_stub.hpp"

#include "cpu_state.hpp"
#include "exception_report.hpp"
#include "hex.hpp"
#include "int3_hit.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>

namespace vmm {

namespace {

// While the guest runs, the VMM sits in KVM_RUN and does not read the socket.
// The kernel sends SIGIO when gdb sends something (O_ASYNC): its handler
// makes KVM_RUN return at once (immediate_exit, as in run_control.cpp), and
// the stub then reads what gdb sent, such as Ctrl-C.
kvm_run* volatile watched_vcpu = nullptr;

void on_gdb_input(int)
{
    if (watched_vcpu != nullptr) {
        watched_vcpu->immediate_exit = 1;
    }
}

void signal_during_wait(void* control)
{
    static_cast<const RunControl*>(control)->stop_if_signalled();
}

// Numbers in packets are hex, without 0x.
uint64_t parse_hex(std::string_view text, bool& ok)
{
    uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
    ok = error == std::errc() && end == text.data() + text.size() && !text.empty();
    return value;
}

// "addr,length" of the m, M, X and Z packets.
bool parse_address_length(std::string_view text, uint64_t& address, uint64_t& length)
{
    const std::size_t comma = text.find(',');
    bool ok_address = false;
    bool ok_length = false;
    if (comma == std::string_view::npos) {
        return false;
    }
    address = parse_hex(text.substr(0, comma), ok_address);
    length = parse_hex(text.substr(comma + 1), ok_length);
    return ok_address && ok_length;
}

// gdb's error replies carry an errno in hex.
const char* kErrorFault = "E0e";   // EFAULT (14): not inside guest memory
const char* kErrorInvalid = "E16"; // EINVAL (22): a packet we cannot parse

constexpr const char* kStepStop = "T05thread:1;"; // SIGTRAP
constexpr const char* kBreakpointStop = "T05thread:1;swbreak:;";

// Whether an int3 can reach boot.asm's #BP handler: in long mode, with the
// IDT it loads (at reset the IDT's base is 0: the real-mode vector table).
// Before that, in the emulated AMD-V machine, an int3 would run whatever
// that table holds.
bool int3_is_reported(const kvm_sregs& sregs)
{
    return (sregs.efer & kEferLma) != 0 && sregs.idt.base != 0 &&
           sregs.idt.limit >= 16 * (kBreakpointVector + 1) - 1;
}

} // namespace

GdbStub::GdbStub(Vcpu& vcpu, GuestMemory& memory, const LoadedBootImage& boot,
                 const RunControl& control, uint16_t port)
    : vcpu_(vcpu), memory_(memory), control_(control), breakpoints_(memory), boot_(boot)
{
    gdb_.emplace(port, signal_during_wait, const_cast<RunControl*>(&control));
    check(::fcntl(gdb_->fd(), F_SETOWN, ::getpid()), "fcntl(F_SETOWN)");
    watched_vcpu = &vcpu.run_state();
    struct sigaction action;
    std::memset(&action, 0, sizeof action);
    action.sa_handler = on_gdb_input;
    action.sa_flags = SA_RESTART; // the VMM's other calls (writes to files) go on
    check(::sigaction(SIGIO, &action, nullptr), "sigaction(SIGIO)");
    // Last: from here on, gdb's input raises SIGIO, which the handler is ready for.
    check(::fcntl(gdb_->fd(), F_SETFL, ::fcntl(gdb_->fd(), F_GETFL) | O_ASYNC), "fcntl(O_ASYNC)");
    vcpu.attach(this);
}

GdbStub::~GdbStub()
{
    vcpu_.attach(nullptr);
    if (gdb_ && !is_stopped_) {
        // gdb waits for the guest to stop. The run ended: tell it how. The
        // run loop's status is the VMM's handle_syscall() to decide (a
        // student's, too); gdb is told what the program asked for at its
        // exit, the low 8 bits a parent sees.
        try {
            const kvm_regs& regs = vcpu_.regs();
            if (std::uncaught_exceptions() == 0 && vcpu_.exit_reason() == KVM_EXIT_HLT &&
                (regs.rax == SYS_exit || regs.rax == SYS_exit_group)) {
                char reply[8];
                std::snprintf(reply, sizeof reply, "W%02llx",
                              static_cast<unsigned long long>(regs.rdi & 0xff));
                gdb_->send(reply);
            } else {
                gdb_->send("O" +
                           to_hex("vm_manager stopped the run: its standard error says why\n"));
            }
        } catch (const GdbGone&) {
        }
    }
    gdb_.reset();
    watched_vcpu = nullptr;
    std::signal(SIGIO, SIG_DFL);
}

void GdbStub::detach(const char* why)
{
    // Leaves the guest as if gdb had never been there: no int3 in its memory,
    // no breakpoint or single step in KVM. The program runs on to its end.
    breakpoints_.remove_all();
    vcpu_.set_guest_debug(kvm_guest_debug{});
    gdb_.reset();
    is_stopped_ = false;
    // No SIGIO comes any more; the last ones must not stop KVM_RUN forever.
    vcpu_.run_state().immediate_exit = 0;
    control_.stop_if_signalled();
    std::fprintf(stderr, "vm_manager: %s: the program runs on without it\n", why);
}

void GdbStub::before_run(Vcpu& vcpu)
{
    if (!gdb_) {
        return;
    }
    finish_step();
    try {
        if (step_ended_outside_) {
            // The step executed a `hlt` (a system call), which the VMM handled:
            // it is over now, one instruction further.
            step_ended_outside_ = false;
            stopped(kStepStop);
        }
        if (is_stopped_) {
            serve();
        }
    } catch (const GdbGone&) {
        detach("gdb disconnected");
    }
    if (!gdb_) {
        return;
    }
    bool single_step = false;
    if (resume_ == Resume::kStep) {
        single_step = start_step(vcpu.regs());
    } else {
        // Until an int3 reaches boot.asm's handler, a continue goes one step
        // at a time, stopping where a breakpoint is, before its int3 runs:
        // boot.asm's first few dozen instructions.
        single_step = breakpoints_.has_int3() && !int3_is_reported(vcpu.sregs());
    }
    continue_by_steps_ = resume_ == Resume::kContinue && single_step;
    kvm_guest_debug debug = breakpoints_.guest_debug(single_step);
    if (inject_breakpoint_) {
        debug.control |= KVM_GUESTDBG_INJECT_BP;
        inject_breakpoint_ = false;
    }
    vcpu.set_guest_debug(debug);
    cpu_.reset();
    // gdb's packets while the guest was stopped raised SIGIO too: forget them.
    // In this order, a Ctrl-C that comes later still stops KVM_RUN.
    vcpu.run_state().immediate_exit = 0;
    control_.stop_if_signalled();
}

bool GdbStub::start_step(const kvm_regs& regs)
{
    // The instruction's first bytes (fewer at the end of guest memory).
    std::optional<std::vector<std::byte>> read = breakpoints_.read(regs.rip, 3);
    if (!read) {
        read = breakpoints_.read(regs.rip, 1);
    }
    const std::vector<std::byte> code = read.value_or(std::vector<std::byte>{});
    step_ = Step{step_kind(code), regs.rflags, std::nullopt, false};
    switch (step_->kind) {
    case StepKind::kHlt:
        return false; // the exit of the hlt ends the step
    case StepKind::kSysret: {
        const uint64_t target = sysret_target(code, regs);
        if (breakpoints_.is_int3(target)) {
            step_->ends_at = target; // gdb's own breakpoint is there already
            return false;
        }
        if (breakpoints_.insert_int3(target)) {
            step_->ends_at = target;
            step_->planted = true;
            return false;
        }
        return true; // RCX is outside guest memory: sysret will fault
    }
    case StepKind::kSyscall:
    case StepKind::kPlain:
        return true;
    }
    return true;
}

void GdbStub::finish_step()
{
    if (step_ && step_->planted) {
        breakpoints_.remove_software(*step_->ends_at);
    }
    step_.reset();
}

bool GdbStub::after_exit(Vcpu& vcpu)
{
    if (!gdb_) {
        return false;
    }
    try {
        if (const std::optional<uint64_t> int3 =
                planted_int3_hit(vcpu, memory_, boot_, breakpoints_)) {
            // A step over sysret ends at its temporary int3; any other int3
            // is a breakpoint of gdb's.
            stopped(step_ && step_->ends_at == int3 ? kStepStop : kBreakpointStop);
            return true;
        }
        switch (vcpu.exit_reason()) {
        case KVM_EXIT_DEBUG:
            if (vcpu.run_state().debug.arch.exception == kBreakpointVector) {
                // The program's own int3, not one of ours: hardware-assisted
                // KVM intercepts every #BP while gdb has int3s. The guest
                // gets it, as it would without gdb: boot.asm reports it, and
                // the run ends with the crash explained.
                inject_breakpoint_ = true;
                return true;
            }
            if (step_ && step_->kind == StepKind::kSyscall) {
                forget_step_flag_in_r11(vcpu, step_->rflags_before);
            }
            if (continue_by_steps_) {
                if (breakpoints_.is_int3(vcpu.regs().rip)) {
                    stopped(kBreakpointStop);
                    return true;
                }
                if (!breakpoints_.fired(vcpu.run_state().debug.arch.dr6)) {
                    return true; // one step more, no breakpoint yet
                }
            }
            stopped(stop_reply_for_debug_exit());
            return true;
        case KVM_EXIT_INTR:
            // Ctrl-C from the VMM's terminal (or the timeout) stops the run;
            // otherwise the signal was gdb's, and may be its Ctrl-C.
            control_.stop_if_signalled();
            while (std::optional<std::string> packet = gdb_->receive_if_ready()) {
                if (*packet == "\x03") {
                    stopped("T02thread:1;"); // SIGINT, as for a program in a terminal
                    break;
                }
            }
            return true;
        default:
            // An exit for the VMM: a system call, or a crash.
            step_ended_outside_ = resume_ == Resume::kStep;
            return false;
        }
    } catch (const GdbGone&) {
        detach("gdb disconnected");
        return vcpu.exit_reason() == KVM_EXIT_DEBUG || vcpu.exit_reason() == KVM_EXIT_INTR;
    }
}

std::string GdbStub::stop_reply_for_debug_exit()
{
    const kvm_debug_exit_arch& debug = vcpu_.run_state().debug.arch;
    if (debug.exception == kDebugVector) {
        if (const std::optional<HardwareBreakpoint> hit = breakpoints_.fired(debug.dr6)) {
            char address[24];
            std::snprintf(address, sizeof address, "%llx",
                          static_cast<unsigned long long>(hit->address));
            switch (hit->watch) {
            case Watch::kExecute:
                return hit->for_software ? kBreakpointStop : "T05thread:1;hwbreak:;";
            case Watch::kWrite:
                return std::string("T05thread:1;watch:") + address + ";";
            case Watch::kAccess:
                return std::string("T05thread:1;awatch:") + address + ";";
            }
        }
    }
    return kStepStop; // a single step (DR6.BS)
}

void GdbStub::stopped(const std::string& reply)
{
    finish_step();
    is_stopped_ = true;
    last_stop_ = reply;
    cpu_.reset();
    gdb_->send(reply);
}

CpuRegisters& GdbStub::cpu()
{
    if (!cpu_) {
        cpu_ = CpuRegisters{vcpu_.regs(), vcpu_.sregs()};
    }
    return *cpu_;
}

void GdbStub::serve()
{
    while (is_stopped_ && gdb_) {
        const std::string packet = gdb_->receive();
        if (std::optional<std::string> reply = answer(packet)) {
            gdb_->send(*reply);
        }
    }
}

std::optional<std::string> GdbStub::answer(const std::string& packet)
{
    const char command = packet.empty() ? '\0' : packet[0];
    const std::string arguments = packet.empty() ? "" : packet.substr(1);
    switch (command) {
    case '?':
        return last_stop_;
    case 'g':
        return read_gdb_registers(cpu());
    case 'G': {
        const std::optional<std::string> bytes = from_hex(arguments);
        if (!bytes) {
            return kErrorInvalid;
        }
        // Registers whose value did not change are left alone, so that
        // writing all of them back (as gdb does) does not reload the segments.
        for (std::size_t n = 0, offset = 0; n < gdb_register_count(); ++n) {
            const std::size_t size = read_gdb_register(cpu(), n)->size();
            if (offset + size > arguments.size()) {
                break;
            }
            const std::string value = arguments.substr(offset, size);
            if (value != *read_gdb_register(cpu(), n)) {
                write_register(n, value);
            }
            offset += size;
        }
        return "OK";
    }
    case 'p': {
        bool ok = false;
        const std::optional<std::string> value = read_gdb_register(cpu(), parse_hex(arguments, ok));
        return ok && value ? *value : kErrorInvalid;
    }
    case 'P': {
        const std::size_t equals = arguments.find('=');
        bool ok = false;
        const uint64_t n = parse_hex(arguments.substr(0, equals), ok);
        if (!ok || equals == std::string::npos) {
            return kErrorInvalid;
        }
        return write_register(n, arguments.substr(equals + 1));
    }
    case 'm':
        return read_memory(arguments);
    case 'M':
        return write_memory(arguments, false);
    case 'X':
        return write_memory(arguments, true);
    case 'Z':
    case 'z':
        return breakpoint(packet);
    case 'c':
        return resume(Resume::kContinue, arguments);
    case 's':
        return resume(Resume::kStep, arguments);
    case 'C':
    case 'S': {
        // With a signal to deliver: this guest has no signals; resume at the address, if any.
        const std::size_t semicolon = arguments.find(';');
        return resume(command == 'C' ? Resume::kContinue : Resume::kStep,
                      semicolon == std::string::npos ? "" : arguments.substr(semicolon + 1));
    }
    case 'D':
        gdb_->send("OK");
        detach("gdb detached");
        return std::nullopt;
    case 'k':
        throw RunStopped("killed from gdb", kExitKilled);
    case 'H':
    case 'T':
        return "OK"; // one vCPU: thread 1, always alive
    case 'q':
    case 'Q':
        if (packet == "QStartNoAckMode") {
            gdb_->send("OK"); // the last packet gdb acknowledges
            gdb_->stop_acknowledging();
            return std::nullopt;
        }
        return query(packet);
    case 'v':
        if (packet == "vCont?") {
            return "vCont;c;C;s;S";
        }
        if (packet.starts_with("vCont;")) {
            // One thread: the first action decides (c, C sig, s, S sig).
            const char action = packet.size() > 6 ? packet[6] : 'c';
            return resume(action == 's' || action == 'S' ? Resume::kStep : Resume::kContinue, "");
        }
        if (packet.starts_with("vKill")) {
            gdb_->send("OK");
            throw RunStopped("killed from gdb", kExitKilled);
        }
        return "";
    default:
        return ""; // not supported: gdb then does without
    }
}

std::optional<std::string> GdbStub::resume(Resume how, const std::string& address)
{
    if (!address.empty()) {
        bool ok = false;
        const uint64_t rip = parse_hex(address, ok);
        if (!ok) {
            return kErrorInvalid;
        }
        vcpu_.regs().rip = rip;
        vcpu_.mark_regs_dirty();
    }
    resume_ = how;
    is_stopped_ = false;
    return std::nullopt; // the reply is the next stop
}

std::string GdbStub::query(const std::string& packet)
{
    if (packet.starts_with("qSupported")) {
        char reply[96];
        std::snprintf(reply, sizeof reply,
                      "PacketSize=%zx;qXfer:features:read+;swbreak+;hwbreak+;QStartNoAckMode+",
                      kMaxPacket);
        return reply;
    }
    if (packet.starts_with("qXfer:features:read:target.xml:")) {
        uint64_t offset = 0;
        uint64_t length = 0;
        if (!parse_address_length(packet.substr(std::strlen("qXfer:features:read:target.xml:")),
                                  offset, length)) {
            return kErrorInvalid;
        }
        const std::string xml = target_description();
        if (offset >= xml.size()) {
            return "l";
        }
        const std::string part = xml.substr(offset, length);
        return (length >= xml.size() - offset ? "l" : "m") + escape_binary(part);
    }
    if (packet == "qAttached") {
        // 0: gdb "created" this process, so quitting gdb kills it, as for a
        // program gdb started; `detach` lets it run on to its end.
        return "0";
    }
    if (packet == "qC") {
        return "QC1";
    }
    if (packet == "qfThreadInfo") {
        return "m1";
    }
    if (packet == "qsThreadInfo") {
        return "l";
    }
    if (packet == "qSymbol::") {
        return "OK";
    }
    if (packet.starts_with("qRcmd,")) {
        const std::optional<std::string> command = from_hex(packet.substr(6));
        return command ? monitor(*command) : kErrorInvalid;
    }
    return "";
}

std::string GdbStub::monitor(const std::string& command)
{
    std::string text;
    if (command == "mode") {
        const kvm_sregs& sregs = cpu().sregs;
        text = mode_name(sregs) + ", ring " + std::to_string(ring(sregs)) + "\n";
    } else {
        text = "monitor commands of vm_manager:\n"
               "  mode    the CPU's mode (real, protected, long) and ring\n";
    }
    gdb_->send("O" + to_hex(text));
    return "OK";
}

std::string GdbStub::breakpoint(const std::string& packet)
{
    // Z or z, then type,address,kind: 0 software, 1 hardware, 2 write
    // watchpoint, 3 read watchpoint, 4 access watchpoint.
    const bool insert = packet[0] == 'Z';
    const char type = packet.size() > 2 ? packet[1] : '?';
    uint64_t address = 0;
    uint64_t kind = 0;
    if (packet.size() < 3 || !parse_address_length(packet.substr(3), address, kind)) {
        return kErrorInvalid;
    }
    bool done = false;
    switch (type) {
    case '0':
        done =
            insert ? breakpoints_.insert_software(address) : breakpoints_.remove_software(address);
        return done ? "OK" : kErrorFault;
    case '1':
    case '2':
    case '4': {
        const Watch watch = type == '1'   ? Watch::kExecute
                            : type == '2' ? Watch::kWrite
                                          : Watch::kAccess;
        const HardwareBreakpoint hardware{watch, address, kind};
        done = insert ? breakpoints_.insert_hardware(hardware)
                      : breakpoints_.remove_hardware(hardware);
        return done ? "OK" : kErrorInvalid;
    }
    default:
        return ""; // x86 cannot watch reads alone (type 3)
    }
}

std::string GdbStub::read_memory(const std::string& arguments)
{
    uint64_t address = 0;
    uint64_t length = 0;
    if (!parse_address_length(arguments, address, length)) {
        return kErrorInvalid;
    }
    // Two hex digits a byte in a reply of at most kMaxPacket: gdb asks again
    // for the rest of a shorter reply than it asked for.
    length = std::min<uint64_t>(length, kMaxPacket / 2 - 8);
    // The page tables map every address to itself: gdb's addresses are guest
    // physical addresses, checked by GuestMemory.
    const std::optional<std::vector<std::byte>> bytes = breakpoints_.read(address, length);
    return bytes ? to_hex(bytes->data(), bytes->size()) : kErrorFault;
}

std::string GdbStub::write_memory(const std::string& arguments, bool binary)
{
    const std::size_t colon = arguments.find(':');
    uint64_t address = 0;
    uint64_t length = 0;
    if (colon == std::string::npos ||
        !parse_address_length(arguments.substr(0, colon), address, length)) {
        return kErrorInvalid;
    }
    const std::string_view data = std::string_view(arguments).substr(colon + 1);
    const std::optional<std::string> bytes =
        binary ? std::optional<std::string>(unescape_binary(data)) : from_hex(data);
    if (!bytes || bytes->size() != length) {
        return kErrorInvalid;
    }
    return breakpoints_.write(address, std::as_bytes(std::span(bytes->data(), bytes->size())))
               ? "OK"
               : kErrorFault;
}

std::string GdbStub::write_register(std::size_t n, std::string_view hex_value)
{
    const std::optional<std::string> bytes = from_hex(hex_value);
    if (!bytes) {
        return kErrorInvalid;
    }
    switch (write_gdb_register(cpu(), n, *bytes)) {
    case RegisterWrite::kGeneral:
        vcpu_.regs() = cpu().regs;
        vcpu_.mark_regs_dirty(); // KVM loads them at the next KVM_RUN
        return "OK";
    case RegisterWrite::kSystem:
        vcpu_.sregs() = cpu().sregs;
        vcpu_.mark_sregs_dirty(); // KVM loads them at the next KVM_RUN
        return "OK";
    case RegisterWrite::kIgnored:
        return "OK";
    case RegisterWrite::kNoSuchRegister:
        return kErrorInvalid;
    }
    return kErrorInvalid;
}

} // namespace vmm
